#pragma once
// NumPy interop: .npy arrays and .npz archives, read and written byte-compatibly with numpy.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "autodiff/tape.hpp"
#include "nn/files.hpp"

namespace nn {

/// Element types of the arrays we exchange: little-endian IEEE floats, two's complement
/// integers and numpy's one-byte bool (named after numpy's type codes).
enum class DType { f4, f8, i1, i2, i4, i8, u1, u2, u4, u8, b1 };

/// Bytes per element of `dtype`.
std::size_t itemsize(DType dtype);

/// numpy's descr string for `dtype` as it appears in .npy headers ("<f4", "|u1", ...).
std::string descr(DType dtype);

/// The DType holding values of C++ type T exactly (float -> f4, std::int64_t -> i8, bool -> b1...).
template <class T>
constexpr DType dtype_of() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, float>) return DType::f4;
  else if constexpr (std::is_same_v<U, double>) return DType::f8;
  else if constexpr (std::is_same_v<U, bool>) return DType::b1;
  else if constexpr (std::is_same_v<U, std::int8_t>) return DType::i1;
  else if constexpr (std::is_same_v<U, std::int16_t>) return DType::i2;
  else if constexpr (std::is_same_v<U, std::int32_t>) return DType::i4;
  else if constexpr (std::is_same_v<U, std::int64_t>) return DType::i8;
  else if constexpr (std::is_same_v<U, std::uint8_t>) return DType::u1;
  else if constexpr (std::is_same_v<U, std::uint16_t>) return DType::u2;
  else if constexpr (std::is_same_v<U, std::uint32_t>) return DType::u4;
  else if constexpr (std::is_same_v<U, std::uint64_t>) return DType::u8;
  else static_assert(!sizeof(U), "no numpy dtype for this type");
}

/// An n-dimensional array as numpy stores it: `data` holds size() elements of `dtype` in
/// C (row-major) order, little-endian. A 0-d array (empty shape) holds one element.
struct NpyArray {
  std::vector<std::int64_t> shape;
  DType dtype = DType::f8;
  std::vector<std::byte> data;

  /// Number of elements: the product of `shape` (1 for a 0-d array).
  /// Throws std::invalid_argument for a negative or overflowing shape.
  std::int64_t size() const;

  /// The elements converted to T in C order, whatever the numeric dtype (bool gives 0 or 1).
  /// Throws std::invalid_argument when `data` does not hold exactly size() elements, or when a
  /// float does not fit an integer T.
  template <class T>
  std::vector<T> to_vector() const;

  /// The array as a matrix: 0-d -> 1 x 1, (n,) -> n x 1, (r, c) -> r x c, converting any
  /// numeric dtype to T. Throws std::invalid_argument for more than two dimensions.
  template <class T>
  ad::Matrix<T> to_matrix() const;

  /// A 2-d array of shape (rows, cols) with the dtype of T (f4 for float, f8 for double).
  template <class T>
  static NpyArray from_matrix(const ad::Matrix<T>& matrix) {
    return from_elements(dtype_of<T>(), {matrix.rows(), matrix.cols()}, matrix.data(), matrix.size());
  }

  /// A 1-d array of shape (values.size(),) with the dtype of T.
  template <class T>
  static NpyArray from_vector(std::span<const T> values) {
    return from_elements(dtype_of<T>(), {static_cast<std::int64_t>(values.size())}, values.data(),
                         static_cast<std::int64_t>(values.size()));
  }

  bool operator==(const NpyArray&) const = default;

 private:
  static NpyArray from_elements(DType dtype, std::vector<std::int64_t> shape, const void* elements,
                                std::int64_t count);
};

extern template std::vector<float> NpyArray::to_vector<float>() const;
extern template std::vector<double> NpyArray::to_vector<double>() const;
extern template std::vector<std::int64_t> NpyArray::to_vector<std::int64_t>() const;
extern template ad::Matrix<float> NpyArray::to_matrix<float>() const;
extern template ad::Matrix<double> NpyArray::to_matrix<double>() const;

/// Parses the bytes of a .npy file (format versions 1.0, 2.0 and 3.0); Fortran-order data is
/// reordered to C order. `what` names the source in error messages. Throws FileError
/// ("<what>: <problem>") for anything numpy would not have written for a supported dtype:
/// bad magic or version, malformed header, big-endian, object or structured dtypes,
/// a data size that does not match the shape exactly.
NpyArray parse_npy(std::span<const std::byte> bytes, const std::string& what);

/// Reads a .npy file (see parse_npy).
NpyArray read_npy(const std::filesystem::path& path);

/// What a .npy header declares, read without touching the data: numpy's dtype string ("<f4",
/// "<U4", "|S8", ...) and the shape.
struct NpyHeaderInfo {
  std::string descr;
  std::vector<std::int64_t> shape;

  /// A dtype parse_npy reads (numbers or bools).
  bool is_numeric() const;
  /// numpy's fixed-width strings: "<U<n>" (UTF-32) or "|S<n>" (bytes).
  bool is_string() const;
};

/// The header of the .npy file whose first bytes are `bytes` (the data may be missing).
/// Throws FileError like parse_npy for a malformed header; any dtype string is accepted.
NpyHeaderInfo parse_npy_header(std::span<const std::byte> bytes, const std::string& what);

/// The strings of a 1-d .npy array of dtype "<U<n>" or "|S<n>" (numpy's np.array(["t", "x"])),
/// as UTF-8 with numpy's trailing NUL padding removed. Throws FileError for other arrays.
std::vector<std::string> parse_npy_strings(std::span<const std::byte> bytes, const std::string& what);

/// The .npy encoding of `array` exactly as numpy.save writes it: format 1.0 (2.0 only for a
/// header over 64 KiB), header "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
/// followed by numpy's growth padding and spaces so that the data starts at a multiple of 64.
std::vector<std::byte> serialize_npy(const NpyArray& array);

/// Writes `array` to `path` as .npy, atomically (write_file_atomically).
void write_npy(const std::filesystem::path& path, const NpyArray& array);

/// Every member of a zip archive, in archive order, as (name in the archive, uncompressed
/// bytes). Supports stored and deflated members and ZIP64 records; CRC-32s are verified.
/// Throws FileError naming `what` for encrypted, multi-disk, truncated or otherwise
/// inconsistent archives and for other compression methods.
std::vector<std::pair<std::string, std::vector<std::byte>>> parse_zip_members(std::span<const std::byte> bytes,
                                                                              const std::string& what);

/// Reads every member of the zip archive at `path` (see parse_zip_members).
std::vector<std::pair<std::string, std::vector<std::byte>>> read_zip_members(const std::filesystem::path& path);

/// A zip archive read into memory whose members are inflated only when asked for, so an unused
/// member costs nothing however large it claims to be. Throws FileError (naming "<path>" or
/// "<path>[<member>]") like parse_zip_members.
class ZipArchive {
 public:
  /// One central directory record.
  struct Entry {
    std::string name;
    std::uint16_t flags = 0;
    std::uint16_t method = 0;
    std::uint32_t crc = 0;
    std::uint64_t compressed_size = 0;
    std::uint64_t size = 0;  ///< uncompressed
    std::uint64_t local_offset = 0;
  };

  /// Parses the central directory of `bytes`; `what` names the archive in errors.
  ZipArchive(std::vector<std::byte> bytes, std::string what);
  /// Reads the archive at `path` (read_file: regular files only, bounded by their size).
  static ZipArchive open(const std::filesystem::path& path);
  /// The archive in `bytes`, which the caller keeps alive and unchanged while the archive is used
  /// (e.g. a RandomAccessFile::Mapping of an archive too large to read).
  static ZipArchive view(std::span<const std::byte> bytes, std::string what);
  ZipArchive(ZipArchive&&) = default;  // a moved vector keeps its buffer, so bytes_ stays valid
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;
  ZipArchive& operator=(ZipArchive&&) = delete;

  /// The member names in archive order.
  std::vector<std::string> names() const;
  /// The member's record, or nullptr.
  const Entry* find(std::string_view name) const;
  /// The member's uncompressed bytes, CRC-checked. FileError when there is no such member.
  std::vector<std::byte> member(std::string_view name) const;
  /// At most the first `max_bytes` bytes of the member (not CRC-checked unless that is all of it).
  std::vector<std::byte> member_prefix(std::string_view name, std::size_t max_bytes) const;
  /// The header of the .npy member `name` ("data.npy"), inflating only the header.
  NpyHeaderInfo npy_header(std::string_view name) const;
  /// "<archive>[<name>]", how errors name a member.
  std::string member_label(std::string_view name) const;
  /// Where the bytes of member `name` start in the archive, for reading them in place; only a
  /// member stored as it is (numpy.savez) can be. FileError for a deflated member (naming
  /// numpy.savez_compressed) and for a local header that disagrees with the directory.
  std::uint64_t stored_member_offset(std::string_view name) const;

 private:
  ZipArchive(std::vector<std::byte> owned, std::span<const std::byte> bytes, std::string what);
  const Entry& entry(std::string_view name) const;

  std::vector<std::byte> owned_;       ///< empty for a view
  std::span<const std::byte> bytes_;  ///< owned_, or the viewed bytes
  std::string what_;
  std::vector<Entry> entries_;
};

/// A 2-d numeric array stored uncompressed in a file — a .npy file, or an .npz member written by
/// numpy.savez (not numpy.savez_compressed) — whose rows are read when asked for, so the array
/// may be larger than memory. Only C (row-major) order qualifies: its rows are contiguous.
class NpyRowFile {
 public:
  /// The .npy file `file`. FileError (naming the file) for anything parse_npy refuses, for a
  /// shape that is not 2-d and for Fortran order.
  explicit NpyRowFile(RandomAccessFile file);
  /// Member `member` of the .npz archive `zip`, a view of `file`'s mapping; FileError as above,
  /// naming "<archive>[<member>]", and for a deflated member.
  NpyRowFile(RandomAccessFile file, const ZipArchive& zip, std::string_view member);

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  DType dtype() const { return dtype_; }
  /// How errors name the array: the file, or "<archive>[<member>]".
  const std::string& what() const { return what_; }

  /// Rows [first, first + count) converted to float into `out`, resized to count x cols() (no
  /// allocation when it has that size). A finite double beyond float's range is refused naming
  /// its row (of the file) and column; FileError too when the file was truncated.
  void read(std::int64_t first, std::int64_t count, ad::Matrix<float>& out);

 private:
  /// Parses the header at `offset` (the member's or the file's start) whose data take `available` bytes.
  void locate(std::span<const std::byte> header, std::uint64_t offset, std::uint64_t available);

  RandomAccessFile file_;
  std::string what_;
  DType dtype_ = DType::f4;
  std::int64_t rows_ = 0, cols_ = 0;
  std::uint64_t data_offset_ = 0;
  std::vector<std::byte> buffer_;  ///< the raw bytes of the rows being read
};

/// The arrays of an .npz archive in archive order, keyed like numpy.load does: the member name
/// without its ".npy" suffix. Members not ending in ".npy" (such as "meta.json") are raw
/// bytes, not arrays: they are skipped here and returned by read_zip_members. Errors in a
/// member name it as "<path>[<member>]".
std::vector<std::pair<std::string, NpyArray>> read_npz(const std::filesystem::path& path);

/// Collects arrays and raw members and writes them as an .npz (zip) archive that numpy.load
/// opens. Timestamps are fixed (1980-01-01), so equal contents give identical files.
class NpzWriter {
 public:
  /// Adds `array` as member name + ".npy" (numpy.load's key `name`).
  /// Throws std::invalid_argument if that member name is already taken.
  void add(std::string name, const NpyArray& array);

  /// Adds `bytes` as member `name` verbatim (numpy.load returns it as bytes).
  /// Throws std::invalid_argument if that member name is already taken.
  void add_raw(std::string name, std::vector<std::byte> bytes);

  /// Writes the archive atomically, members stored as they are or deflated (numpy.savez vs
  /// numpy.savez_compressed). Archives needing ZIP64 (members or offsets of 4 GiB or more,
  /// more than 65535 members) are refused with FileError.
  void write(const std::filesystem::path& path, bool compress = false) const;

 private:
  std::vector<std::pair<std::string, std::vector<std::byte>>> members_;
};

}  // namespace nn
