#include "experiments/run_folder.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>
#include <system_error>

#include "nn/files.hpp"

namespace experiments {

namespace fs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 7> kRunFiles{"config.json",    "log.csv",  "metrics.json",       "checkpoint.npz",
                                                    "loss.svg",       "fields.png", "checkpoint-best.npz"};

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// The PID recorded in an open lock file, or "unknown".
std::string holder_of(int fd) {
  std::array<char, 32> text{};
  const ssize_t got = ::pread(fd, text.data(), text.size() - 1, 0);
  const std::string pid(text.data(), static_cast<std::size_t>(std::max<ssize_t>(got, 0)));
  return all_digits(pid) ? pid : "unknown";
}

}  // namespace

bool is_run_file(std::string_view name) {
  if (name == RunFolder::kManifest || name == RunFolder::kLock) return true;
  if (std::find(kRunFiles.begin(), kRunFiles.end(), name) != kRunFiles.end()) return true;
  return name.starts_with("checkpoint-") && name.ends_with(".npz") &&
         all_digits(name.substr(11, name.size() - 11 - 4));
}

RunFolder::RunFolder(const fs::path& dir, ExistingRun existing) : dir_(dir) {
  std::error_code ec;
  created_ = fs::create_directories(dir_, ec);
  if (ec) throw nn::FileError(dir_, "cannot create the run folder (" + ec.message() + ")");
  try {
    lock();
    check_contents(existing);
    if (!fs::exists(dir_ / kManifest)) {
      nn::write_file_atomically(dir_ / kManifest, std::string_view("{\"format\": 1, \"kind\": \"nif run\"}\n"));
      wrote_manifest_ = true;
    }
  } catch (const nn::WriteError& e) {
    abandon();
    throw nn::FileError(dir_, std::string("cannot write into the run folder (") + e.what() + ")");
  } catch (...) {
    abandon();
    throw;
  }
  nn::remove_abandoned_temporaries(dir_);
}

RunFolder::~RunFolder() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

void RunFolder::lock() {
  const fs::path file = dir_ / kLock;
  lock_fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (lock_fd_ < 0) throw nn::FileError(dir_, "cannot create the lock file (" + std::generic_category().message(errno) + ")");
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const std::string holder = holder_of(lock_fd_);
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw nn::FileError(dir_, fmt::format("the run folder is in use by process {} (lock {})", holder, file.string()));
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(lock_fd_, 0) != 0 || ::pwrite(lock_fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    throw nn::WriteError(file, "cannot record the PID in the lock file");
}

void RunFolder::check_contents(ExistingRun existing) {
  bool has_manifest = false, has_config = false, has_checkpoint = false, empty = true;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    has_manifest |= name == kManifest;
    has_config |= name == "config.json";
    has_checkpoint |= name == "checkpoint.npz";
    empty &= name == kLock;
  }
  if (!has_manifest && !(has_config && has_checkpoint)) {
    if (!empty)
      throw nn::FileError(dir_, "the folder is not empty and holds no nif run; choose a new or empty folder for --out");
    return;
  }
  if (existing == ExistingRun::refuse)
    throw nn::FileError(dir_, "the folder holds a run; use --resume to continue or --force to start over");
  if (existing == ExistingRun::resume) return;
  // --force: the run's own files go, anything else in the folder stays.
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    if (is_run_file(name) && name != kLock && name != kManifest && entry.is_regular_file()) fs::remove(entry.path());
  }
}

void RunFolder::abandon() noexcept {
  std::error_code ec;
  if (wrote_manifest_) fs::remove(dir_ / kManifest, ec);
  if (lock_fd_ >= 0) {
    // A lock file is removed only with the folder: another process may have it open.
    if (created_) fs::remove(dir_ / kLock, ec);
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  if (created_) fs::remove(dir_, ec);
}

}  // namespace experiments
