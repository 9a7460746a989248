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

/// Writing a file failed (full disk, no permission, ...). Kept apart from FileError because a
/// program reports bad input differently from a failure to store its results.
class WriteError : public FileError {
 public:
  WriteError(const std::filesystem::path& path, std::string_view problem);
};

/// The whole contents of `path`. Throws FileError when it is missing, a directory or unreadable.
std::vector<std::byte> read_file(const std::filesystem::path& path);

/// Replaces `path` with `bytes` so that a reader (or a crash) sees either the old file or the
/// complete new one, never a mix: the bytes go to a temporary file in the same directory,
/// which is fsync'ed and renamed over the target, then the directory is fsync'ed. On failure
/// the temporary is removed, the previous file is left intact and WriteError is thrown.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);

/// Deletes the temporary files that write_file_atomically leaves in `dir` when its process is
/// killed mid-write (they are never read); returns how many. Other files are not touched.
std::size_t remove_abandoned_temporaries(const std::filesystem::path& dir);

/// Text overload of write_file_atomically (the characters are written as they are).
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace nn
