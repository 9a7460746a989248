#pragma once
// Whole-file reading and crash-safe whole-file writing.

#include <cstddef>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nn {

/// A file could not be read, written or understood. The message is one line,
/// "<path>: <problem>", so it can be shown to a user as it is.
class FileError : public std::runtime_error {
 public:
  FileError(const std::filesystem::path& path, std::string_view problem);

  /// The file (or, for an archive member, "archive[member]") the problem is about.
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// The whole contents of `path`. Throws FileError when it is missing, a directory or unreadable.
std::vector<std::byte> read_file(const std::filesystem::path& path);

/// Replaces `path` with `bytes` so that a reader (or a crash) sees either the old file or the
/// complete new one, never a mix: the bytes go to a temporary file in the same directory,
/// which is fsync'ed and renamed over the target, then the directory is fsync'ed. On failure
/// the temporary is removed, the previous file is left intact and FileError is thrown.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);

/// Text overload of write_file_atomically (the characters are written as they are).
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace nn
