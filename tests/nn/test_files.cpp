#include <doctest/doctest.h>

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/file_error.hpp"
#include "support/file_size_limit.hpp"
#include "support/scratch_dir.hpp"
#include "nn/files.hpp"

namespace fs = std::filesystem;

namespace {

/// A fresh empty directory for this file's tests.
struct ScratchDir : testing::ScratchDir {
  ScratchDir() : testing::ScratchDir("nn_files_test") {}
};

std::string read_text(const fs::path& path) {
  const std::vector<std::byte> bytes = nn::read_file(path);
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

using testing::file_error_message;
using testing::FileSizeLimit;

}  // namespace

TEST_CASE("read_file returns the exact bytes, including zero bytes and an empty file") {
  ScratchDir dir;
  const std::string text("a\0b\xff\n", 5);
  nn::write_file_atomically(dir.path() / "x.bin", text);
  CHECK(read_text(dir.path() / "x.bin") == text);
  nn::write_file_atomically(dir.path() / "empty", std::string_view{});
  CHECK(nn::read_file(dir.path() / "empty").empty());
}

TEST_CASE("read_file names the path and the problem for a missing file or a directory") {
  ScratchDir dir;
  const fs::path missing = dir.path() / "missing.npy";
  const std::string message = file_error_message([&] { nn::read_file(missing); });
  CHECK(message == missing.string() + ": cannot open: No such file or directory");
  const std::string directory_message = file_error_message([&] { nn::read_file(dir.path()); });
  CHECK(directory_message.starts_with(dir.path().string() + ": "));
  CHECK(directory_message.find("directory") != std::string::npos);
}

TEST_CASE("FileError keeps the path and formats one line") {
  const nn::FileError error("some/file.npz", "bad thing");
  CHECK(std::string(error.what()) == "some/file.npz: bad thing");
  CHECK(error.path() == fs::path("some/file.npz"));
}

TEST_CASE("write_file_atomically replaces the previous contents and leaves only the target") {
  ScratchDir dir;
  const fs::path target = dir.path() / "model.json";
  nn::write_file_atomically(target, std::string_view("first version, longer than the second"));
  nn::write_file_atomically(target, std::string_view("second"));
  CHECK(read_text(target) == "second");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"model.json"});
}

TEST_CASE("write_file_atomically writes relative to the working directory for a bare file name") {
  ScratchDir dir;
  const fs::path previous = fs::current_path();
  fs::current_path(dir.path());
  nn::write_file_atomically("bare.txt", std::string_view("ok"));
  fs::current_path(previous);
  CHECK(read_text(dir.path() / "bare.txt") == "ok");
}

TEST_CASE("write_file_atomically fails cleanly when the parent is a regular file") {
  ScratchDir dir;
  const fs::path blocker = dir.path() / "blocker";
  nn::write_file_atomically(blocker, std::string_view("not a directory"));
  const fs::path target = blocker / "out.npz";
  const std::string message = file_error_message([&] { nn::write_file_atomically(target, std::string_view("x")); });
  CHECK(message.starts_with(target.string() + ": cannot create a temporary file"));
  CHECK(message.find("Not a directory") != std::string::npos);
  CHECK(read_text(blocker) == "not a directory");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"blocker"});
}

TEST_CASE("write_file_atomically keeps the old file and removes the temporary when a write fails") {
  ScratchDir dir;
  const fs::path target = dir.path() / "weights.npy";
  nn::write_file_atomically(target, std::string_view("old contents"));
  const std::vector<std::byte> big(1 << 20, std::byte{7});
  std::string message;
  {
    FileSizeLimit limit(64 * 1024);
    message = file_error_message([&] { nn::write_file_atomically(target, big); });
  }
  CHECK(message.starts_with(target.string() + ": cannot write the temporary file"));
  CHECK(read_text(target) == "old contents");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"weights.npy"});
}

TEST_CASE("write_file_atomically leaves a directory in the way untouched and cleans up") {
  ScratchDir dir;
  const fs::path target = dir.path() / "occupied";
  fs::create_directory(target);
  nn::write_file_atomically(target / "inside", std::string_view("kept"));
  const std::string message = file_error_message([&] { nn::write_file_atomically(target, std::string_view("new")); });
  CHECK(message.starts_with(target.string() + ": cannot rename the temporary file over it"));
  CHECK(read_text(target / "inside") == "kept");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"occupied"});
}

TEST_CASE("write_file_atomically refuses a path without a file name") {
  ScratchDir dir;
  const fs::path target = dir.path() / "";
  CHECK(file_error_message([&] { nn::write_file_atomically(target, std::string_view("x")); }) ==
        target.string() + ": is not a file name");
}

TEST_CASE("read_file reads only regular files: a FIFO, a device and a directory are refused without blocking") {
  const ScratchDir dir;
  const fs::path fifo = dir / "pipe.npy";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Opening a FIFO for reading blocks until a writer comes: the refusal must come before open().
  CHECK(testing::file_error_message([&] { nn::read_file(fifo); }) == fifo.string() + ": is a FIFO, not a regular file");
  CHECK(testing::file_error_message([] { nn::read_file("/dev/zero"); }) == "/dev/zero: is a device, not a regular file");
  CHECK(testing::file_error_message([&] { nn::read_file(dir.path()); }) ==
        dir.path().string() + ": is a directory, not a regular file");
}

TEST_CASE("read_file refuses a file larger than its stated bound before reading it") {
  const ScratchDir dir;
  nn::write_file_atomically(dir / "ten", std::string_view("0123456789"));
  CHECK(nn::read_file(dir / "ten", 10).size() == 10);
  CHECK(testing::file_error_message([&] { nn::read_file(dir / "ten", 9); }) ==
        (dir / "ten").string() + ": is 10 bytes, more than the 9 accepted");
}

TEST_CASE("read_file stops with ReadInterrupted once the watched stop flag is raised") {
  const ScratchDir dir;
  nn::write_file_atomically(dir / "f", std::string_view("data"));
  std::atomic<bool> stop{true};
  nn::watch_stop_flag(&stop);
  CHECK_THROWS_AS(nn::read_file(dir / "f"), nn::ReadInterrupted);
  nn::watch_stop_flag(nullptr);
  CHECK(nn::read_file(dir / "f").size() == 4);
}
