#include "nn/files.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <system_error>
#include <utility>

namespace nn {

namespace fs = std::filesystem;

FileError::FileError(const fs::path& path, std::string_view problem)
    : std::runtime_error(path.string() + ": " + std::string(problem)), path_(path) {}

WriteError::WriteError(const fs::path& path, std::string_view problem) : FileError(path, problem) {}

namespace {

/// "<action>: <strerror(err)>".
std::string describe(std::string_view action, int err) {
  return std::string(action) + ": " + std::generic_category().message(err);
}

/// Closes the descriptor on scope exit unless it was handed over with release().
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

/// Removes the temporary file on scope exit unless the rename consumed it.
class TemporaryFile {
 public:
  explicit TemporaryFile(fs::path path) : path_(std::move(path)) {}
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const fs::path& path() const { return path_; }
  void dismiss() { path_.clear(); }

 private:
  fs::path path_;
};

constexpr std::string_view kTemporaryMarker = ".tmp-";

/// Creates ".<name>.tmp-<random>" next to the target with O_EXCL, so concurrent writers never
/// share a temporary, and with mode 0666 so the umask gives the file its usual permissions.
std::pair<fs::path, int> create_temporary(const fs::path& target, const fs::path& dir) {
  std::random_device seed;
  std::mt19937_64 rng(seed());
  constexpr int attempts = 64;
  int err = 0;
  for (int i = 0; i < attempts; ++i) {
    std::string name = ".";
    name += target.filename().string();
    name += kTemporaryMarker;
    name += std::to_string(rng() % 1'000'000'000'000ULL);
    const fs::path candidate = dir / name;
    const int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return {candidate, fd};
    err = errno;
    if (err != EEXIST) break;
  }
  throw WriteError(target, describe("cannot create a temporary file in '" + dir.string() + "'", err));
}

void write_all(const fs::path& target, int fd, std::span<const std::byte> bytes) {
  // Linux transfers at most ~2 GiB per write call; larger buffers go in pieces.
  constexpr std::size_t max_chunk = std::size_t{1} << 30;
  while (!bytes.empty()) {
    const std::size_t chunk = std::min(bytes.size(), max_chunk);
    const ssize_t written = ::write(fd, bytes.data(), chunk);
    if (written < 0 && errno == EINTR) continue;
    // A regular file never accepts zero bytes of a non-empty write unless it is full.
    if (written <= 0) throw WriteError(target, describe("cannot write the temporary file", written < 0 ? errno : ENOSPC));
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
}

/// Makes the rename itself durable. Filesystems that cannot sync a directory say EINVAL;
/// there is nothing more to do on those.
void sync_directory(const fs::path& target, const fs::path& dir) {
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) throw WriteError(target, describe("cannot open the directory to sync it", errno));
  if (::fsync(fd.get()) != 0 && errno != EINVAL) throw WriteError(target, describe("cannot sync the directory", errno));
}

}  // namespace

namespace {

std::atomic<const std::atomic<bool>*> g_stop_flag{nullptr};

/// What a non-regular file is, for the message refusing it.
std::string_view kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

void watch_stop_flag(const std::atomic<bool>* flag) { g_stop_flag.store(flag); }

void check_stop(const fs::path& path) {
  const std::atomic<bool>* flag = g_stop_flag.load();
  if (flag != nullptr && flag->load()) throw ReadInterrupted(path.string() + ": reading interrupted");
}

namespace {

/// `path` opened for reading, refused unless it is a regular file (checked before the open, from
/// stat() alone, and again on the open descriptor); `size` receives the size fstat() reports.
FileDescriptor open_regular(const fs::path& path, std::uint64_t& size) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw FileError(path, describe("cannot open", errno));
  if (!S_ISREG(st.st_mode)) throw FileError(path, std::string("is ") + std::string(kind_of(st.st_mode)) + ", not a regular file");
  // O_NONBLOCK: if the path was swapped for a FIFO after stat(), open() must not wait for a writer.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) throw FileError(path, describe("cannot open", errno));
  if (::fstat(fd.get(), &st) != 0) throw FileError(path, describe("cannot stat", errno));
  if (!S_ISREG(st.st_mode)) throw FileError(path, std::string("is ") + std::string(kind_of(st.st_mode)) + ", not a regular file");
  size = static_cast<std::uint64_t>(std::max<off_t>(st.st_size, 0));
  return fd;
}

/// Reads up to `count` bytes into `into`, retrying on EINTR; 0 at the end of the file.
std::size_t read_some(const fs::path& path, int fd, std::byte* into, std::size_t count) {
  for (;;) {
    const ssize_t got = ::read(fd, into, count);
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) throw FileError(path, describe("cannot read", errno));
  }
}

}  // namespace

std::vector<std::byte> read_file(const fs::path& path, std::size_t max_bytes) {
  std::uint64_t size = 0;
  FileDescriptor fd = open_regular(path, size);
  if (size > max_bytes)
    throw FileError(path, "is " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) + " accepted");

  std::vector<std::byte> bytes;
  try {
    bytes.resize(static_cast<std::size_t>(size) + 1);  // one more byte detects growth
  } catch (const std::bad_alloc&) {
    throw std::runtime_error(path.string() + ": out of memory for its " + std::to_string(size) + " bytes");
  }
  // Chunks of 64 MiB keep a stop request (Ctrl-C) answered quickly on slow disks.
  constexpr std::size_t chunk = std::size_t{1} << 26;
  std::size_t used = 0;
  while (used < bytes.size()) {
    check_stop(path);
    const std::size_t got = read_some(path, fd.get(), bytes.data() + used, std::min(chunk, bytes.size() - used));
    if (got == 0) break;
    used += got;
  }
  if (used > size) throw FileError(path, "grew while it was being read");
  bytes.resize(used);
  return bytes;
}

RandomAccessFile::RandomAccessFile(const fs::path& path) : path_(path) { fd_ = open_regular(path, size_).release(); }

RandomAccessFile::RandomAccessFile(RandomAccessFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}

RandomAccessFile::~RandomAccessFile() {
  if (fd_ >= 0) ::close(fd_);
}

void RandomAccessFile::read_at(std::uint64_t offset, std::span<std::byte> into) const {
  check_stop(path_);
  while (!into.empty()) {
    const ssize_t got = ::pread(fd_, into.data(), into.size(), static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw FileError(path_, describe("cannot read", errno));
    if (got == 0)
      throw FileError(path_, "ends at byte " + std::to_string(offset) + ", before the " + std::to_string(into.size()) +
                                  " bytes expected there (truncated since it was opened?)");
    into = into.subspan(static_cast<std::size_t>(got));
    offset += static_cast<std::uint64_t>(got);
  }
}

RandomAccessFile::Mapping::~Mapping() {
  if (!bytes_.empty()) ::munmap(const_cast<std::byte*>(bytes_.data()), bytes_.size());
}

RandomAccessFile::Mapping RandomAccessFile::map() const {
  if (size_ == 0) return Mapping({});
  void* at = ::mmap(nullptr, static_cast<std::size_t>(size_), PROT_READ, MAP_PRIVATE, fd_, 0);
  if (at == MAP_FAILED) throw FileError(path_, describe("cannot map", errno));
  return Mapping({static_cast<const std::byte*>(at), static_cast<std::size_t>(size_)});
}

std::string content_hash(const fs::path& path) {
  std::uint64_t size = 0;
  FileDescriptor fd = open_regular(path, size);
  // FNV-1a over 64-bit words (each step is a bijection of the word, so changing any one word always
  // changes the result), the tail bytes and the length, then a splitmix64 finaliser to spread it.
  constexpr std::uint64_t prime = 0x100000001b3ULL;
  std::uint64_t h = 0xcbf29ce484222325ULL;
  std::vector<std::byte> buffer(std::size_t{1} << 20);
  std::uint64_t seen = 0;
  std::size_t filled = 0;  // bytes in the buffer not yet hashed (fewer than a word between reads)
  for (;;) {
    check_stop(path);
    const std::size_t got = read_some(path, fd.get(), buffer.data() + filled, buffer.size() - filled);
    seen += got;
    if (seen > size) throw FileError(path, "grew while it was being read");
    filled += got;
    const std::size_t words = filled / 8;
    for (std::size_t i = 0; i < words; ++i) {
      std::uint64_t w = 0;
      std::memcpy(&w, buffer.data() + 8 * i, 8);
      h = (h ^ w) * prime;
    }
    std::memmove(buffer.data(), buffer.data() + 8 * words, filled - 8 * words);
    filled -= 8 * words;
    if (got == 0) break;
  }
  for (std::size_t i = 0; i < filled; ++i) h = (h ^ std::to_integer<std::uint64_t>(buffer[i])) * prime;
  h = (h ^ seen) * prime;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  h ^= h >> 31;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

std::size_t remove_abandoned_temporaries(const fs::path& dir) {
  std::size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const auto marker = name.rfind(kTemporaryMarker);
    if (name.size() < 2 || name[0] != '.' || marker == std::string::npos || marker < 2) continue;
    const std::string_view suffix = std::string_view(name).substr(marker + kTemporaryMarker.size());
    if (suffix.empty() || !std::all_of(suffix.begin(), suffix.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    if (entry.is_regular_file(ec) && fs::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

void write_file_atomically(const fs::path& path, std::span<const std::byte> bytes) {
  if (!path.has_filename()) throw FileError(path, "is not a file name");
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");

  auto [temporary_path, raw_fd] = create_temporary(path, dir);
  TemporaryFile temporary(std::move(temporary_path));
  FileDescriptor fd(raw_fd);

  write_all(path, fd.get(), bytes);
  if (::fsync(fd.get()) != 0) throw WriteError(path, describe("cannot sync the temporary file", errno));
  // close() reports delayed write errors (NFS, quotas); it must not be retried on EINTR.
  if (::close(fd.release()) != 0) throw WriteError(path, describe("cannot close the temporary file", errno));
  if (::rename(temporary.path().c_str(), path.c_str()) != 0)
    throw WriteError(path, describe("cannot rename the temporary file over it", errno));
  temporary.dismiss();
  sync_directory(path, dir);
}

void write_file_atomically(const fs::path& path, std::string_view text) {
  write_file_atomically(path, std::as_bytes(std::span(text.data(), text.size())));
}

}  // namespace nn
