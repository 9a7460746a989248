#pragma once
// Whole-file reading, positioned reads of files larger than memory, and crash-safe whole-file writing.

#include <atomic>
#include <cstddef>
#include <cstdint>
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

/// A long read stopped because the stop flag (watch_stop_flag) was raised.
class ReadInterrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Long reads (read_file, CSV parsing) poll `flag` between chunks and throw ReadInterrupted once it
/// is true, so a signal handler that raises it stops them within a fraction of a second. nullptr
/// stops the polling.
void watch_stop_flag(const std::atomic<bool>* flag);

/// Throws ReadInterrupted naming `path` when the watched stop flag is raised.
void check_stop(const std::filesystem::path& path);

/// The whole contents of `path`. Only regular files are read: a directory, device, FIFO or socket
/// is refused from its stat() alone, before it is opened, so nothing can block or stream forever.
/// At most the size stat() reported and at most `max_bytes` are read. Throws FileError when the
/// file is missing, not regular, larger than `max_bytes`, grows while read, or unreadable, and
/// std::runtime_error naming the file when there is no memory for its contents.
std::vector<std::byte> read_file(const std::filesystem::path& path, std::size_t max_bytes = SIZE_MAX);

/// A fingerprint of `path`'s contents, 16 hex digits: equal contents give equal fingerprints, and a
/// change (an edit, a truncation, another file) gives another one with near certainty (64 bits;
/// not meant to resist deliberate forgery). Read in bounded chunks under the rules of read_file,
/// polling the stop flag; FileError as read_file.
std::string content_hash(const std::filesystem::path& path);

/// A regular file opened for reads of parts of it, for files too large to hold in memory.
/// Parts are read with positioned reads, not through a mapping kept open: mapped pages count
/// towards the process's resident memory until they are unmapped, and touching a mapped page
/// of a file that another process truncated kills the process with SIGBUS, where a short read
/// is an error we can report.
class RandomAccessFile {
 public:
  /// Opens `path` under the rules of read_file (regular files only); FileError otherwise.
  explicit RandomAccessFile(const std::filesystem::path& path);
  RandomAccessFile(RandomAccessFile&& other) noexcept;
  RandomAccessFile& operator=(RandomAccessFile&&) = delete;
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;
  ~RandomAccessFile();

  const std::filesystem::path& path() const { return path_; }
  /// The size when it was opened.
  std::uint64_t size() const { return size_; }
  /// Fills `into` with the bytes at `offset`; FileError when the file ends before (it was
  /// truncated since it was opened) or cannot be read. Polls the stop flag (check_stop).
  void read_at(std::uint64_t offset, std::span<std::byte> into) const;

  /// The whole file mapped read-only for as long as the mapping lives: for finding the layout of
  /// a large archive, whose few touched pages it reads, not for reading data.
  class Mapping {
   public:
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping();
    std::span<const std::byte> bytes() const { return bytes_; }

   private:
    friend class RandomAccessFile;
    explicit Mapping(std::span<const std::byte> bytes) : bytes_(bytes) {}
    std::span<const std::byte> bytes_;
  };
  /// FileError when the file cannot be mapped.
  Mapping map() const;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

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
