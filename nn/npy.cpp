#include "nn/npy.hpp"

#define ZLIB_CONST
#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <climits>
#include <cmath>
#include <limits>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace nn {

namespace fs = std::filesystem;

// Array data and every zip field are little-endian; memcpy'ing them is only correct on a
// little-endian host.
static_assert(std::endian::native == std::endian::little, "nn/npy assumes a little-endian host");

namespace {

struct DTypeInfo {
  DType dtype;
  std::string_view code;  ///< numpy's type code without the byte-order character
  std::size_t size;
};

constexpr std::array<DTypeInfo, 11> dtype_table{{
    {DType::f4, "f4", 4}, {DType::f8, "f8", 8}, {DType::i1, "i1", 1}, {DType::i2, "i2", 2},
    {DType::i4, "i4", 4}, {DType::i8, "i8", 8}, {DType::u1, "u1", 1}, {DType::u2, "u2", 2},
    {DType::u4, "u4", 4}, {DType::u8, "u8", 8}, {DType::b1, "b1", 1},
}};

const DTypeInfo& info(DType dtype) {
  for (const DTypeInfo& entry : dtype_table)
    if (entry.dtype == dtype) return entry;
  throw std::invalid_argument("nn::DType: invalid value " + std::to_string(static_cast<int>(dtype)));
}

/// factor * product(shape), or nothing when a dimension is negative or the product overflows.
std::optional<std::int64_t> checked_product(std::span<const std::int64_t> shape, std::int64_t factor) {
  std::int64_t product = factor;
  for (const std::int64_t dim : shape)
    if (dim < 0 || __builtin_mul_overflow(product, dim, &product)) return std::nullopt;
  return product;
}

/// Python's repr of the shape tuple: "()", "(3,)", "(2, 3)".
std::string shape_repr(std::span<const std::int64_t> shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

/// Calls f(S{}) with S the C++ type stored for `dtype` (bool for b1).
template <class F>
decltype(auto) with_storage_type(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f4: return f(float{});
    case DType::f8: return f(double{});
    case DType::i1: return f(std::int8_t{});
    case DType::i2: return f(std::int16_t{});
    case DType::i4: return f(std::int32_t{});
    case DType::i8: return f(std::int64_t{});
    case DType::u1: return f(std::uint8_t{});
    case DType::u2: return f(std::uint16_t{});
    case DType::u4: return f(std::uint32_t{});
    case DType::u8: return f(std::uint64_t{});
    case DType::b1: return f(bool{});
  }
  throw std::invalid_argument("nn::DType: invalid value " + std::to_string(static_cast<int>(dtype)));
}

template <class S>
S load_element(const std::byte* p) {
  // numpy treats any non-zero byte as true; copying such a byte into a bool would be undefined.
  if constexpr (std::is_same_v<S, bool>) {
    return std::to_integer<std::uint8_t>(*p) != 0;
  } else {
    S value;
    std::memcpy(&value, p, sizeof(S));
    return value;
  }
}

/// static_cast, except that a float outside the range of an integer target (or NaN) throws
/// instead of being undefined behaviour.
template <class T, class S>
T convert(S value) {
  if constexpr (std::is_integral_v<T> && std::is_floating_point_v<S>) {
    const S upper = std::ldexp(S(1), std::numeric_limits<T>::digits);
    const S lower = std::is_signed_v<T> ? -upper : S(0);
    if (!(value >= lower && value < upper))
      throw std::invalid_argument("nn::NpyArray: value " + std::to_string(value) + " does not fit the integer type");
  }
  return static_cast<T>(value);
}

template <class U>
U load_le(std::span<const std::byte> bytes, std::size_t at) {
  U value;
  std::memcpy(&value, bytes.data() + at, sizeof(U));
  return value;
}

template <class U>
void store_le(std::vector<std::byte>& out, U value) {
  const auto* p = reinterpret_cast<const std::byte*>(&value);
  out.insert(out.end(), p, p + sizeof(U));
}

void append(std::vector<std::byte>& out, std::span<const std::byte> bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void append(std::vector<std::byte>& out, std::string_view text) { append(out, std::as_bytes(std::span(text))); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// DType and NpyArray

std::size_t itemsize(DType dtype) { return info(dtype).size; }

std::string descr(DType dtype) {
  const DTypeInfo& entry = info(dtype);
  std::string text(1, entry.size == 1 ? '|' : '<');
  return text += entry.code;
}

std::int64_t NpyArray::size() const {
  const std::optional<std::int64_t> count = checked_product(shape, 1);
  if (!count) throw std::invalid_argument("nn::NpyArray: invalid shape " + shape_repr(shape));
  return *count;
}

template <class T>
std::vector<T> NpyArray::to_vector() const {
  const std::int64_t count = size();
  const std::size_t width = itemsize(dtype);
  if (data.size() / width != static_cast<std::uint64_t>(count) || data.size() % width != 0)
    throw std::invalid_argument("nn::NpyArray: " + std::to_string(data.size()) + " data bytes do not hold shape " +
                                shape_repr(shape) + " of " + descr(dtype));
  std::vector<T> values(static_cast<std::size_t>(count));
  with_storage_type(dtype, [&](auto tag) {
    using S = decltype(tag);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = convert<T>(load_element<S>(&data[i * width]));
  });
  return values;
}

template <class T>
ad::Matrix<T> NpyArray::to_matrix() const {
  if (shape.size() > 2)
    throw std::invalid_argument("nn::NpyArray::to_matrix: shape " + shape_repr(shape) +
                                " has more than two dimensions");
  const std::vector<T> values = to_vector<T>();
  const ad::Index rows = shape.empty() ? 1 : shape[0];
  const ad::Index cols = shape.size() == 2 ? shape[1] : 1;
  ad::Matrix<T> matrix(rows, cols);
  std::copy(values.begin(), values.end(), matrix.data());
  return matrix;
}

NpyArray NpyArray::from_elements(DType dtype, std::vector<std::int64_t> shape, const void* elements,
                                 std::int64_t count) {
  NpyArray array{std::move(shape), dtype, {}};
  if (array.size() != count) throw std::invalid_argument("nn::NpyArray: element count does not match the shape");
  array.data.resize(static_cast<std::size_t>(count) * itemsize(dtype));
  if (!array.data.empty()) std::memcpy(array.data.data(), elements, array.data.size());
  return array;
}

template std::vector<float> NpyArray::to_vector<float>() const;
template std::vector<double> NpyArray::to_vector<double>() const;
template std::vector<std::int64_t> NpyArray::to_vector<std::int64_t>() const;
template ad::Matrix<float> NpyArray::to_matrix<float>() const;
template ad::Matrix<double> NpyArray::to_matrix<double>() const;

// ---------------------------------------------------------------------------------------------
// .npy

namespace {

constexpr std::string_view npy_magic = "\x93NUMPY";
// numpy's own default limit (max_header_size) is 10000; headers of the dtypes we accept are
// under 200 bytes, so anything near this is corrupt, not big.
constexpr std::uint32_t max_header_length = 1 << 16;
constexpr std::size_t npy_alignment = 64;
// numpy >= 1.24 leaves room for the first axis to grow to this many digits in place.
constexpr std::size_t growth_axis_max_digits = 21;

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

/// The numeric DType of a descr such as "<f4", or FileError naming what is unsupported.
DType numeric_dtype(const std::string& text, const std::string& what) {
  if (text.size() < 2) throw FileError(what, "unsupported dtype '" + text + "'");
  const char order = text[0];
  const std::string_view code = std::string_view(text).substr(1);
  if (code.starts_with('O')) throw FileError(what, "object arrays are not supported (dtype '" + text + "')");
  const auto entry = std::find_if(dtype_table.begin(), dtype_table.end(),
                                  [&](const DTypeInfo& e) { return e.code == code; });
  if (entry == dtype_table.end() || std::string_view("<>|=").find(order) == std::string_view::npos)
    throw FileError(what, "unsupported dtype '" + text + "'");
  // The byte order of one-byte types is irrelevant; numpy writes '|' for them.
  if (entry->size > 1 && order != '<')
    throw FileError(what, "unsupported byte order in dtype '" + text + "'" +
                              (order == '>' ? " (big-endian; only little-endian is read)" : ""));
  return entry->dtype;
}

/// Parses the Python dict literal of a .npy header: the keys 'descr', 'fortran_order' and
/// 'shape' in any order, each exactly once, values as numpy writes them.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& what) : text_(text), what_(what) {}

  NpyHeader parse() {
    NpyHeader header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (!consume('}')) {
      const std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        mark_once(seen_descr, key);
        header.descr = parse_descr();
      } else if (key == "fortran_order") {
        mark_once(seen_order, key);
        header.fortran_order = parse_bool();
      } else if (key == "shape") {
        mark_once(seen_shape, key);
        header.shape = parse_shape();
      } else {
        fail("unexpected key '" + key + "'");
      }
      if (!consume(',')) {
        expect('}');
        break;
      }
    }
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the dictionary");
    if (!seen_descr || !seen_order || !seen_shape) fail("it needs the keys 'descr', 'fortran_order' and 'shape'");
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw FileError(what_, "malformed .npy header: " + problem);
  }

  void mark_once(bool& seen, const std::string& key) const {
    if (seen) fail("duplicate key '" + key + "'");
    seen = true;
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect(char c) {
    if (!consume(c)) fail(std::string("expected '") + c + "' at offset " + std::to_string(pos_));
  }

  bool peek(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }

  std::string parse_string() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      fail("expected a string at offset " + std::to_string(pos_));
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string value(text_.substr(pos_, end - pos_));
    if (value.find('\\') != std::string::npos) fail("escapes in strings are not supported");
    pos_ = end + 1;
    return value;
  }

  std::string parse_descr() {
    // numpy writes structured dtypes as a list of (name, type) tuples.
    if (peek('[')) throw FileError(what_, "structured dtypes are not supported");
    return parse_string();
  }

  bool parse_bool() {
    skip_space();
    for (const auto& [word, value] : {std::pair<std::string_view, bool>{"True", true}, {"False", false}}) {
      if (text_.substr(pos_).starts_with(word)) {
        pos_ += word.size();
        return value;
      }
    }
    fail("'fortran_order' must be True or False");
  }

  std::vector<std::int64_t> parse_shape() {
    std::vector<std::int64_t> shape;
    expect('(');
    while (!consume(')')) {
      shape.push_back(parse_dimension());
      if (!consume(',')) {
        expect(')');
        break;
      }
    }
    return shape;
  }

  std::int64_t parse_dimension() {
    skip_space();
    const std::size_t start = pos_;
    std::int64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, text_[pos_] - '0', &value))
        fail("dimension too large in 'shape'");
      ++pos_;
    }
    if (pos_ == start) fail("expected a non-negative integer in 'shape' at offset " + std::to_string(pos_));
    // Python 2 wrote long integers with an L suffix.
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;
    return value;
  }

  std::string_view text_;
  const std::string& what_;
  std::size_t pos_ = 0;
};

/// Reorders an n-d array from Fortran (first index fastest) to C (last index fastest) order.
std::vector<std::byte> fortran_to_c_order(std::span<const std::byte> data, std::span<const std::int64_t> shape,
                                          std::size_t width) {
  const std::size_t ndim = shape.size();
  std::vector<std::byte> out(data.size());
  if (ndim < 2 || data.empty()) {
    std::copy(data.begin(), data.end(), out.begin());
    return out;
  }
  std::vector<std::size_t> stride(ndim, 1);  // Fortran strides, in elements
  for (std::size_t k = 1; k < ndim; ++k) stride[k] = stride[k - 1] * static_cast<std::size_t>(shape[k - 1]);
  std::vector<std::int64_t> index(ndim, 0);
  std::size_t source = 0;
  for (std::size_t target = 0; target < out.size(); target += width) {
    std::memcpy(&out[target], &data[source * width], width);
    // Advance the C-order multi-index (last axis fastest) and follow it in the Fortran layout.
    for (std::size_t k = ndim; k-- > 0;) {
      source += stride[k];
      if (++index[k] < shape[k]) break;
      source -= stride[k] * static_cast<std::size_t>(shape[k]);
      index[k] = 0;
    }
  }
  return out;
}

}  // namespace

namespace {

/// The header of a .npy file and where its data starts.
struct ParsedHeader {
  NpyHeader header;
  std::size_t data_offset = 0;
};

ParsedHeader parse_header(std::span<const std::byte> bytes, const std::string& what) {
  const auto fail = [&](const std::string& problem) { throw FileError(what, problem); };
  if (bytes.size() < npy_magic.size() + 2 ||
      std::memcmp(bytes.data(), npy_magic.data(), npy_magic.size()) != 0)
    fail("not a .npy file (no \\x93NUMPY magic)");
  const auto major = std::to_integer<int>(bytes[6]);
  const auto minor = std::to_integer<int>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail("unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  // Version 1.0 has a 16-bit header length, 2.0 and 3.0 (UTF-8 header) a 32-bit one.
  const std::size_t prefix = major == 1 ? 10 : 12;
  if (bytes.size() < prefix) fail("truncated .npy header");
  const std::uint32_t header_length =
      major == 1 ? load_le<std::uint16_t>(bytes, 8) : load_le<std::uint32_t>(bytes, 8);
  if (header_length > max_header_length)
    fail("implausible .npy header length " + std::to_string(header_length));
  if (bytes.size() - prefix < header_length)
    fail("truncated .npy header (" + std::to_string(header_length) + " bytes declared, " +
         std::to_string(bytes.size() - prefix) + " present)");
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + prefix), header_length);
  return {HeaderParser(text, what).parse(), prefix + header_length};
}

/// The data bytes after the header, which must hold exactly `count` elements of `width` bytes.
std::span<const std::byte> exact_data(std::span<const std::byte> bytes, const ParsedHeader& parsed, std::size_t width,
                                      const std::string& what) {
  const auto fail = [&](const std::string& problem) { throw FileError(what, problem); };
  const NpyHeader& header = parsed.header;
  const std::optional<std::int64_t> expected = checked_product(header.shape, static_cast<std::int64_t>(width));
  if (!expected) fail("shape " + shape_repr(header.shape) + " is too large");
  const std::span<const std::byte> data = bytes.subspan(parsed.data_offset);
  const auto needed = static_cast<std::uint64_t>(*expected);
  if (data.size() < needed)
    fail("truncated data: shape " + shape_repr(header.shape) + " of " + header.descr + " needs " +
         std::to_string(needed) + " bytes, the file has " + std::to_string(data.size()));
  if (data.size() > needed)
    fail(std::to_string(data.size() - needed) + " unexpected bytes after the data of shape " +
         shape_repr(header.shape));
  return data;
}

/// The UTF-8 encoding of code point `c` appended to `out` (invalid code points become '?').
void append_utf8(std::string& out, std::uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000 && (c < 0xD800 || c > 0xDFFF)) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c >= 0x10000 && c < 0x110000) {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += '?';
  }
}

}  // namespace

bool NpyHeaderInfo::is_numeric() const {
  try {
    (void)numeric_dtype(descr, "");
    return true;
  } catch (const FileError&) {
    return false;
  }
}

bool NpyHeaderInfo::is_string() const {
  return descr.size() >= 3 && (descr.substr(0, 2) == "<U" || descr.substr(0, 2) == "|S");
}

NpyHeaderInfo parse_npy_header(std::span<const std::byte> bytes, const std::string& what) {
  ParsedHeader parsed = parse_header(bytes, what);
  return {std::move(parsed.header.descr), std::move(parsed.header.shape)};
}

std::vector<std::string> parse_npy_strings(std::span<const std::byte> bytes, const std::string& what) {
  const ParsedHeader parsed = parse_header(bytes, what);
  const NpyHeaderInfo info{parsed.header.descr, parsed.header.shape};
  if (!info.is_string()) throw FileError(what, "expected an array of strings, found dtype '" + info.descr + "'");
  if (info.shape.size() != 1) throw FileError(what, "expected a 1-d array of strings, found shape " + shape_repr(info.shape));
  const bool unicode = info.descr[0] == '<';
  std::size_t chars = 0;
  const auto [end, ec] = std::from_chars(info.descr.data() + 2, info.descr.data() + info.descr.size(), chars);
  if (ec != std::errc() || end != info.descr.data() + info.descr.size() || chars == 0 || chars > 4096)
    throw FileError(what, "unsupported dtype '" + info.descr + "'");
  const std::size_t width = unicode ? 4 * chars : chars;
  const std::span<const std::byte> data = exact_data(bytes, parsed, width, what);
  std::vector<std::string> strings;
  for (std::size_t at = 0; at < data.size(); at += width) {
    std::string text;
    // numpy pads with NULs; the first NUL ends the string.
    for (std::size_t k = 0; k < chars; ++k) {
      const std::uint32_t c = unicode ? load_le<std::uint32_t>(data, at + 4 * k) : std::to_integer<std::uint8_t>(data[at + k]);
      if (c == 0) break;
      if (unicode) append_utf8(text, c);
      else text += static_cast<char>(c);
    }
    strings.push_back(std::move(text));
  }
  return strings;
}

NpyArray parse_npy(std::span<const std::byte> bytes, const std::string& what) {
  const ParsedHeader parsed = parse_header(bytes, what);
  const DType dtype = numeric_dtype(parsed.header.descr, what);
  const std::size_t width = itemsize(dtype);
  const std::span<const std::byte> data = exact_data(bytes, parsed, width, what);
  NpyArray array{parsed.header.shape, dtype, {}};
  array.data = parsed.header.fortran_order ? fortran_to_c_order(data, parsed.header.shape, width)
                                           : std::vector<std::byte>(data.begin(), data.end());
  return array;
}

NpyArray read_npy(const fs::path& path) { return parse_npy(read_file(path), path.string()); }

std::vector<std::byte> serialize_npy(const NpyArray& array) {
  const auto needed = static_cast<std::uint64_t>(array.size()) * itemsize(array.dtype);
  if (array.data.size() != needed)
    throw std::invalid_argument("nn::serialize_npy: " + std::to_string(array.data.size()) +
                                " data bytes do not hold shape " + shape_repr(array.shape) + " of " +
                                descr(array.dtype));
  std::string header = "{'descr': '" + descr(array.dtype) + "', 'fortran_order': False, 'shape': " +
                       shape_repr(array.shape) + ", }";
  if (!array.shape.empty())
    header.append(growth_axis_max_digits - std::min(growth_axis_max_digits, std::to_string(array.shape[0]).size()),
                  ' ');
  // Like numpy: one space at least, padding to the alignment, then the newline (so an
  // already aligned header still gets a full block of padding).
  const auto padded_length = [&](std::size_t prefix) {
    const std::size_t length = header.size() + 1;
    return length + npy_alignment - (prefix + length) % npy_alignment;
  };
  const bool version1 = padded_length(10) <= 0xFFFF;
  const std::size_t prefix = version1 ? 10 : 12;
  const std::size_t length = padded_length(prefix);
  header.append(length - header.size() - 1, ' ');
  header.push_back('\n');

  std::string head(npy_magic);
  head += static_cast<char>(version1 ? 1 : 2);
  head += '\0';
  // The header length, little-endian, fills the rest of the prefix (2 bytes in 1.0, 4 in 2.0).
  for (std::size_t i = 0; head.size() < prefix; ++i) head += static_cast<char>((length >> (8 * i)) & 0xFF);
  head += header;
  std::vector<std::byte> out(head.size() + array.data.size());
  std::memcpy(out.data(), head.data(), head.size());
  if (!array.data.empty()) std::memcpy(out.data() + head.size(), array.data.data(), array.data.size());
  return out;
}

void write_npy(const fs::path& path, const NpyArray& array) { write_file_atomically(path, serialize_npy(array)); }

// ---------------------------------------------------------------------------------------------
// .npz (zip)

namespace {

using Members = std::vector<std::pair<std::string, std::vector<std::byte>>>;

constexpr std::uint32_t local_header_signature = 0x04034b50;
constexpr std::uint32_t central_header_signature = 0x02014b50;
constexpr std::uint32_t end_signature = 0x06054b50;
constexpr std::uint32_t zip64_end_signature = 0x06064b50;
constexpr std::uint32_t zip64_locator_signature = 0x07064b50;
constexpr std::size_t local_header_size = 30;
constexpr std::size_t central_header_size = 46;
constexpr std::size_t end_size = 22;
constexpr std::size_t zip64_end_size = 56;
constexpr std::size_t zip64_locator_size = 20;
constexpr std::uint16_t method_stored = 0;
constexpr std::uint16_t method_deflate = 8;
constexpr std::uint16_t flag_encrypted = 0x0001;
constexpr std::uint16_t flag_data_descriptor = 0x0008;
constexpr std::uint16_t flag_strong_encryption = 0x0040;
constexpr std::uint16_t flag_utf8_name = 0x0800;
constexpr std::uint16_t zip64_extra_id = 0x0001;
constexpr std::uint32_t saturated32 = 0xFFFFFFFF;
constexpr std::uint16_t saturated16 = 0xFFFF;
// Deflate cannot expand data by more than about 1032:1, so a larger declared size is a lie
// that would only make us allocate memory for it.
constexpr std::uint64_t max_deflate_ratio = 1032;
// DOS date of 1980-01-01 (the zip epoch), time 00:00: fixed so archives are reproducible.
constexpr std::uint16_t dos_date_epoch = (1 << 5) | 1;

using CentralEntry = ZipArchive::Entry;

struct Directory {
  std::uint64_t entries = 0;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;
};

class ZipParser {
 public:
  ZipParser(std::span<const std::byte> bytes, const std::string& what) : bytes_(bytes), what_(what) {}

  /// The central directory's entries, in archive order (nothing is inflated).
  std::vector<CentralEntry> entries() const {
    const Directory directory = find_directory();
    const std::span<const std::byte> central = slice(directory.offset, directory.size, "the central directory");
    if (directory.entries > central.size() / central_header_size)
      fail(std::to_string(directory.entries) + " members do not fit in a central directory of " +
           std::to_string(central.size()) + " bytes");
    std::vector<CentralEntry> entries;
    entries.reserve(directory.entries);
    std::size_t pos = 0;
    for (std::uint64_t i = 0; i < directory.entries; ++i) entries.push_back(parse_central_entry(central, pos));
    return entries;
  }

  Members parse() const {
    Members members;
    for (const CentralEntry& entry : entries()) members.emplace_back(entry.name, extract(entry, entry.size));
    return members;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw FileError(what_, problem); }

  std::span<const std::byte> slice(std::uint64_t offset, std::uint64_t length, const std::string& item) const {
    if (offset > bytes_.size() || length > bytes_.size() - offset)
      fail(item + " extends beyond the end of the file (truncated archive?)");
    return bytes_.subspan(offset, length);
  }

  /// Locates the end of central directory record by searching backwards (it ends with a
  /// comment of up to 64 KiB) and follows its ZIP64 locator when there is one.
  Directory find_directory() const {
    if (bytes_.size() < end_size) fail("not a zip archive (too short)");
    const std::size_t last = bytes_.size() - end_size;
    const std::size_t first = last > 0xFFFF ? last - 0xFFFF : 0;
    std::optional<std::size_t> found;
    for (std::size_t at = last + 1; at-- > first;) {
      if (load_le<std::uint32_t>(bytes_, at) == end_signature &&
          load_le<std::uint16_t>(bytes_, at + 20) == bytes_.size() - at - end_size) {
        found = at;
        break;
      }
    }
    if (!found) fail("not a zip archive (no end of central directory record)");
    const std::span<const std::byte> end = bytes_.subspan(*found, end_size);
    const std::uint16_t disk = load_le<std::uint16_t>(end, 4);
    const std::uint16_t directory_disk = load_le<std::uint16_t>(end, 6);
    const std::uint16_t disk_entries = load_le<std::uint16_t>(end, 8);
    Directory directory{load_le<std::uint16_t>(end, 10), load_le<std::uint32_t>(end, 12), load_le<std::uint32_t>(end, 16)};
    if (disk != 0 || directory_disk != 0 || disk_entries != directory.entries)
      fail("multi-disk archives are not supported");
    if (*found >= zip64_locator_size &&
        load_le<std::uint32_t>(bytes_, *found - zip64_locator_size) == zip64_locator_signature)
      return read_zip64_directory(bytes_.subspan(*found - zip64_locator_size, zip64_locator_size));
    return directory;
  }

  Directory read_zip64_directory(std::span<const std::byte> locator) const {
    if (load_le<std::uint32_t>(locator, 4) != 0 || load_le<std::uint32_t>(locator, 16) > 1)
      fail("multi-disk archives are not supported");
    const std::span<const std::byte> end =
        slice(load_le<std::uint64_t>(locator, 8), zip64_end_size, "the ZIP64 end of central directory record");
    if (load_le<std::uint32_t>(end, 0) != zip64_end_signature) fail("bad ZIP64 end of central directory record");
    const Directory directory{load_le<std::uint64_t>(end, 32), load_le<std::uint64_t>(end, 40),
                              load_le<std::uint64_t>(end, 48)};
    if (load_le<std::uint32_t>(end, 16) != 0 || load_le<std::uint32_t>(end, 20) != 0 ||
        load_le<std::uint64_t>(end, 24) != directory.entries)
      fail("multi-disk archives are not supported");
    return directory;
  }

  CentralEntry parse_central_entry(std::span<const std::byte> central, std::size_t& pos) const {
    const auto truncated = [&] { fail("truncated central directory entry at offset " + std::to_string(pos)); };
    if (central.size() - pos < central_header_size) truncated();
    const std::span<const std::byte> header = central.subspan(pos, central_header_size);
    if (load_le<std::uint32_t>(header, 0) != central_header_signature)
      fail("bad central directory entry signature at offset " + std::to_string(pos));
    const std::size_t name_length = load_le<std::uint16_t>(header, 28);
    const std::size_t extra_length = load_le<std::uint16_t>(header, 30);
    const std::size_t comment_length = load_le<std::uint16_t>(header, 32);
    if (central.size() - pos - central_header_size < name_length + extra_length + comment_length) truncated();
    const std::span<const std::byte> name = central.subspan(pos + central_header_size, name_length);
    const std::span<const std::byte> extra = central.subspan(pos + central_header_size + name_length, extra_length);

    CentralEntry entry;
    entry.name.assign(reinterpret_cast<const char*>(name.data()), name.size());
    entry.flags = load_le<std::uint16_t>(header, 8);
    entry.method = load_le<std::uint16_t>(header, 10);
    entry.crc = load_le<std::uint32_t>(header, 16);
    entry.compressed_size = load_le<std::uint32_t>(header, 20);
    entry.size = load_le<std::uint32_t>(header, 24);
    entry.local_offset = load_le<std::uint32_t>(header, 42);
    if (load_le<std::uint16_t>(header, 34) != 0) fail("multi-disk archives are not supported");
    apply_zip64_extra(entry, extra);
    pos += central_header_size + name_length + extra_length + comment_length;
    return entry;
  }

  /// Saturated 32-bit fields are stored in the ZIP64 extra field, in this order: uncompressed
  /// size, compressed size, local header offset (only those that are saturated).
  void apply_zip64_extra(CentralEntry& entry, std::span<const std::byte> extra) const {
    std::array<std::uint64_t*, 3> fields{&entry.size, &entry.compressed_size, &entry.local_offset};
    const bool needed = std::any_of(fields.begin(), fields.end(), [](const std::uint64_t* f) { return *f == saturated32; });
    if (!needed) return;
    for (std::size_t pos = 0; pos + 4 <= extra.size();) {
      const std::uint16_t id = load_le<std::uint16_t>(extra, pos);
      const std::size_t length = load_le<std::uint16_t>(extra, pos + 2);
      if (extra.size() - pos - 4 < length) break;
      if (id == zip64_extra_id) {
        std::size_t at = pos + 4;
        for (std::uint64_t* field : fields) {
          if (*field != saturated32) continue;
          if (at + 8 > pos + 4 + length) fail("ZIP64 extra field of member '" + entry.name + "' is too short");
          *field = load_le<std::uint64_t>(extra, at);
          at += 8;
        }
        return;
      }
      pos += 4 + length;
    }
    fail("member '" + entry.name + "' lacks the ZIP64 extra field its sizes need");
  }

 public:
  /// The member's bytes as the archive holds them (deflated or not), once its local header has
  /// been checked against the central directory.
  std::span<const std::byte> raw_member(const CentralEntry& entry) const {
    const std::string member = "member '" + entry.name + "'";
    if ((entry.flags & (flag_encrypted | flag_strong_encryption)) != 0) fail(member + " is encrypted");
    if (entry.method != method_stored && entry.method != method_deflate)
      fail(member + " uses unsupported compression method " + std::to_string(entry.method));

    const std::span<const std::byte> local = slice(entry.local_offset, local_header_size, "the local header of " + member);
    if (load_le<std::uint32_t>(local, 0) != local_header_signature) fail("bad local header signature for " + member);
    const std::uint64_t name_length = load_le<std::uint16_t>(local, 26);
    const std::uint64_t extra_length = load_le<std::uint16_t>(local, 28);
    const std::span<const std::byte> local_name =
        slice(entry.local_offset + local_header_size, name_length, "the local header of " + member);
    if (!std::equal(local_name.begin(), local_name.end(), reinterpret_cast<const std::byte*>(entry.name.data()),
                    reinterpret_cast<const std::byte*>(entry.name.data() + entry.name.size())))
      fail("the local header of " + member + " names a different file");
    // The central directory is authoritative, but a local header written with its CRC and sizes
    // (no data descriptor) must agree with it, which also catches corruption there. Sizes may
    // be ZIP64 placeholders.
    const auto agrees = [](std::uint64_t local_size, std::uint64_t size) {
      return local_size == size || local_size == saturated32;
    };
    if (load_le<std::uint16_t>(local, 8) != entry.method ||
        ((load_le<std::uint16_t>(local, 6) & flag_data_descriptor) == 0 &&
         (load_le<std::uint32_t>(local, 14) != entry.crc ||
          !agrees(load_le<std::uint32_t>(local, 18), entry.compressed_size) ||
          !agrees(load_le<std::uint32_t>(local, 22), entry.size))))
      fail("the local header of " + member + " disagrees with the central directory");
    return slice(entry.local_offset + local_header_size + name_length + extra_length, entry.compressed_size,
                 "the data of " + member);
  }

  /// The first min(limit, size) bytes of the member; the CRC-32 is checked when that is all of it.
  std::vector<std::byte> extract(const CentralEntry& entry, std::uint64_t limit) const {
    const std::string member = "member '" + entry.name + "'";
    const std::span<const std::byte> stored = raw_member(entry);
    std::vector<std::byte> data;
    limit = std::min(limit, entry.size);
    if (entry.method == method_stored) {
      if (entry.compressed_size != entry.size) fail(member + " is stored but its sizes differ");
      data.assign(stored.begin(), stored.begin() + static_cast<std::ptrdiff_t>(limit));
    } else {
      if (entry.size / max_deflate_ratio > entry.compressed_size)
        fail(member + " declares an implausible uncompressed size of " + std::to_string(entry.size) + " bytes");
      data = inflate(stored, entry.size, limit, member);
    }
    if (limit < entry.size) return data;
    const std::uint32_t crc = static_cast<std::uint32_t>(
        crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<z_size_t>(data.size())));
    if (crc != entry.crc) fail("CRC-32 mismatch in " + member + " (corrupt data)");
    return data;
  }

 private:
  /// The first `limit` of the `size` bytes `input` inflates to (all of them checked when limit == size).
  std::vector<std::byte> inflate(std::span<const std::byte> input, std::uint64_t size, std::uint64_t limit,
                                 const std::string& member) const {
    z_stream stream{};
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) fail("zlib cannot start inflating " + member);
    struct End {
      z_stream& s;
      ~End() { inflateEnd(&s); }
    } end{stream};

    // The buffer grows with the output up to the declared size, so a header that lies about the
    // size costs memory for the data that is really there, not for the claim.
    std::vector<std::byte> out(static_cast<std::size_t>(std::min<std::uint64_t>(limit, std::max<std::uint64_t>(input.size() * 4, 1 << 16))));
    Bytef sink = 0;  // zlib refuses a null output pointer even when no output is wanted
    std::size_t in_pos = 0, out_pos = 0;
    for (;;) {
      if (out_pos == limit && limit < size) return out;
      if (out_pos == out.size() && out.size() < limit) out.resize(static_cast<std::size_t>(std::min<std::uint64_t>(limit, 2 * out.size())));
      const auto in_chunk = static_cast<uInt>(std::min<std::size_t>(input.size() - in_pos, UINT_MAX));
      const auto out_chunk = static_cast<uInt>(std::min<std::size_t>(out.size() - out_pos, UINT_MAX));
      stream.next_in = reinterpret_cast<const Bytef*>(input.data()) + in_pos;
      stream.avail_in = in_chunk;
      stream.next_out = out_chunk > 0 ? reinterpret_cast<Bytef*>(out.data()) + out_pos : &sink;
      stream.avail_out = out_chunk;
      const int status = ::inflate(&stream, Z_NO_FLUSH);
      in_pos += in_chunk - stream.avail_in;
      out_pos += out_chunk - stream.avail_out;
      if (status == Z_STREAM_END) break;
      if (status == Z_OK) continue;
      if (status == Z_BUF_ERROR && out_pos == out.size()) {
        if (out.size() < size) continue;
        fail(member + " inflates to more than its declared " + std::to_string(size) + " bytes");
      }
      if (status == Z_BUF_ERROR) fail(member + " has a truncated deflate stream");
      fail(member + " has corrupt deflate data" + (stream.msg != nullptr ? std::string(" (") + stream.msg + ")" : ""));
    }
    if (out_pos != size)
      fail(member + " inflates to " + std::to_string(out_pos) + " bytes, not its declared " + std::to_string(size));
    return out;
  }

  std::span<const std::byte> bytes_;
  const std::string& what_;
};

/// numpy's key of an archive member: its name without the ".npy" suffix.
constexpr std::string_view npy_suffix = ".npy";

std::vector<std::byte> deflate(std::span<const std::byte> input, const fs::path& path) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw WriteError(path, "zlib cannot start deflating");
  struct End {
    z_stream& s;
    ~End() { deflateEnd(&s); }
  } end{stream};
  // Callers keep inputs under 4 GiB (the zip limit without ZIP64), so one call with a
  // deflateBound-sized buffer is guaranteed to finish.
  std::vector<std::byte> out(deflateBound(&stream, static_cast<uLong>(input.size())));
  stream.next_in = reinterpret_cast<const Bytef*>(input.data());
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  if (::deflate(&stream, Z_FINISH) != Z_STREAM_END) throw WriteError(path, "zlib failed to deflate a member");
  out.resize(stream.total_out);
  return out;
}

/// The fields a member's local header and its central-directory record share, in their order.
void append_shared_fields(std::vector<std::byte>& out, const CentralEntry& entry) {
  store_le<std::uint16_t>(out, entry.flags);
  store_le<std::uint16_t>(out, entry.method);
  store_le<std::uint16_t>(out, 0);  // time
  store_le<std::uint16_t>(out, dos_date_epoch);
  store_le<std::uint32_t>(out, entry.crc);
  store_le(out, static_cast<std::uint32_t>(entry.compressed_size));
  store_le(out, static_cast<std::uint32_t>(entry.size));
  store_le(out, static_cast<std::uint16_t>(entry.name.size()));
  store_le<std::uint16_t>(out, 0);  // extra field length
}

/// A member's local header and its (stored or deflated) bytes.
void append_local_entry(std::vector<std::byte>& out, const CentralEntry& entry, std::span<const std::byte> payload) {
  store_le<std::uint32_t>(out, local_header_signature);
  store_le<std::uint16_t>(out, 20);  // version needed: 2.0 (deflate)
  append_shared_fields(out, entry);
  append(out, entry.name);
  append(out, payload);
}

/// A member's record in the central directory.
void append_central_entry(std::vector<std::byte>& out, const CentralEntry& entry) {
  store_le<std::uint32_t>(out, central_header_signature);
  store_le<std::uint16_t>(out, (3 << 8) | 20);  // made by: Unix, zip 2.0
  store_le<std::uint16_t>(out, 20);  // version needed
  append_shared_fields(out, entry);
  store_le<std::uint16_t>(out, 0);  // comment length
  store_le<std::uint16_t>(out, 0);  // disk
  store_le<std::uint16_t>(out, 0);  // internal attributes
  store_le<std::uint32_t>(out, 0100644u << 16);  // external attributes: regular file, rw-r--r--
  store_le(out, static_cast<std::uint32_t>(entry.local_offset));
  append(out, entry.name);
}

std::vector<std::byte> serialize_zip(const Members& members, bool compress, const fs::path& path) {
  const auto too_large = [&] {
    throw WriteError(path, "archive needs ZIP64 (4 GiB or more, or over 65535 members), which the writer does not support");
  };
  if (members.size() > saturated16 - 1) too_large();
  std::vector<std::byte> out;
  std::vector<CentralEntry> entries;
  for (const auto& [name, bytes] : members) {
    if (bytes.size() >= saturated32 || out.size() >= saturated32) too_large();
    if (name.size() > saturated16) throw WriteError(path, "member name longer than 65535 bytes");
    const bool ascii = std::all_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    CentralEntry entry{name,
                       static_cast<std::uint16_t>(ascii ? 0 : flag_utf8_name),
                       compress ? method_deflate : method_stored,
                       static_cast<std::uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size())),
                       0,
                       bytes.size(),
                       out.size()};
    const std::vector<std::byte> deflated = compress ? deflate(bytes, path) : std::vector<std::byte>{};
    const std::span<const std::byte> payload = compress ? std::span<const std::byte>(deflated) : std::span(bytes);
    entry.compressed_size = payload.size();
    if (payload.size() >= saturated32) too_large();

    append_local_entry(out, entry, payload);
    entries.push_back(std::move(entry));
  }

  const std::uint64_t directory_offset = out.size();
  for (const CentralEntry& entry : entries) append_central_entry(out, entry);
  const std::uint64_t directory_size = out.size() - directory_offset;
  if (out.size() >= saturated32) too_large();

  store_le<std::uint32_t>(out, end_signature);
  store_le<std::uint16_t>(out, 0);  // this disk
  store_le<std::uint16_t>(out, 0);  // disk holding the central directory
  store_le(out, static_cast<std::uint16_t>(entries.size()));
  store_le(out, static_cast<std::uint16_t>(entries.size()));
  store_le(out, static_cast<std::uint32_t>(directory_size));
  store_le(out, static_cast<std::uint32_t>(directory_offset));
  store_le<std::uint16_t>(out, 0);  // comment length
  return out;
}

}  // namespace

Members parse_zip_members(std::span<const std::byte> bytes, const std::string& what) {
  return ZipParser(bytes, what).parse();
}

Members read_zip_members(const fs::path& path) { return parse_zip_members(read_file(path), path.string()); }

std::vector<std::pair<std::string, NpyArray>> read_npz(const fs::path& path) {
  std::vector<std::pair<std::string, NpyArray>> arrays;
  for (const auto& [name, bytes] : read_zip_members(path)) {
    if (!name.ends_with(npy_suffix)) continue;
    arrays.emplace_back(name.substr(0, name.size() - npy_suffix.size()), parse_npy(bytes, path.string() + "[" + name + "]"));
  }
  return arrays;
}

ZipArchive::ZipArchive(std::vector<std::byte> owned, std::span<const std::byte> bytes, std::string what)
    : owned_(std::move(owned)), bytes_(owned_.empty() ? bytes : std::span<const std::byte>(owned_)), what_(std::move(what)),
      entries_(ZipParser(bytes_, what_).entries()) {}

ZipArchive::ZipArchive(std::vector<std::byte> bytes, std::string what) : ZipArchive(std::move(bytes), {}, std::move(what)) {}

ZipArchive ZipArchive::open(const fs::path& path) { return ZipArchive(read_file(path), path.string()); }

ZipArchive ZipArchive::view(std::span<const std::byte> bytes, std::string what) { return ZipArchive({}, bytes, std::move(what)); }

std::uint64_t ZipArchive::stored_member_offset(std::string_view name) const {
  const Entry& e = entry(name);
  if (e.method != method_stored)
    throw FileError(member_label(name), "is compressed (numpy.savez_compressed); reading it in parts needs it stored "
                                        "(numpy.savez) or as a .npy file");
  if ((e.flags & (flag_encrypted | flag_strong_encryption)) != 0) throw FileError(member_label(name), "is encrypted");
  return static_cast<std::uint64_t>(ZipParser(bytes_, what_).raw_member(e).data() - bytes_.data());
}

NpyRowFile::NpyRowFile(RandomAccessFile file) : file_(std::move(file)), what_(file_.path().string()) {
  std::vector<std::byte> header(static_cast<std::size_t>(std::min<std::uint64_t>(file_.size(), 12 + max_header_length)));
  file_.read_at(0, header);
  locate(header, 0, file_.size());
}

NpyRowFile::NpyRowFile(RandomAccessFile file, const ZipArchive& zip, std::string_view member)
    : file_(std::move(file)), what_(zip.member_label(member)) {
  const std::uint64_t offset = zip.stored_member_offset(member);
  const std::uint64_t size = zip.find(member)->size;
  std::vector<std::byte> header(static_cast<std::size_t>(std::min<std::uint64_t>(size, 12 + max_header_length)));
  file_.read_at(offset, header);
  locate(header, offset, size);
}

void NpyRowFile::locate(std::span<const std::byte> header, std::uint64_t offset, std::uint64_t available) {
  const ParsedHeader parsed = parse_header(header, what_);
  dtype_ = numeric_dtype(parsed.header.descr, what_);
  if (parsed.header.shape.size() != 2)
    throw FileError(what_, "expected a table (a 2-d array), found shape " + shape_repr(parsed.header.shape));
  if (parsed.header.fortran_order)
    throw FileError(what_, "is in Fortran order, whose rows are not contiguous; save it in C order (np.ascontiguousarray)");
  rows_ = parsed.header.shape[0];
  cols_ = parsed.header.shape[1];
  const std::optional<std::int64_t> bytes = checked_product(parsed.header.shape, static_cast<std::int64_t>(itemsize(dtype_)));
  if (!bytes) throw FileError(what_, "shape " + shape_repr(parsed.header.shape) + " is too large");
  if (available - parsed.data_offset != static_cast<std::uint64_t>(*bytes))
    throw FileError(what_, "shape " + shape_repr(parsed.header.shape) + " of " + parsed.header.descr + " needs " +
                               std::to_string(*bytes) + " data bytes, the file has " +
                               std::to_string(available - parsed.data_offset));
  data_offset_ = offset + parsed.data_offset;
}

void NpyRowFile::read(std::int64_t first, std::int64_t count, ad::Matrix<float>& out) {
  if (first < 0 || count < 0 || first > rows_ || count > rows_ - first)
    throw std::invalid_argument("nn::NpyRowFile::read: rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                                ") are outside the " + std::to_string(rows_) + " rows");
  const std::size_t width = itemsize(dtype_);
  const auto row_bytes = static_cast<std::size_t>(cols_) * width;
  buffer_.resize(static_cast<std::size_t>(count) * row_bytes);
  file_.read_at(data_offset_ + static_cast<std::uint64_t>(first) * row_bytes, buffer_);
  out.resize(count, cols_);
  with_storage_type(dtype_, [&](auto tag) {
    using S = decltype(tag);
    for (std::int64_t r = 0; r < count; ++r)
      for (std::int64_t c = 0; c < cols_; ++c) {
        const S value = load_element<S>(buffer_.data() + (static_cast<std::size_t>(r) * cols_ + c) * width);
        out(r, c) = static_cast<float>(value);
        if constexpr (std::is_same_v<S, double>)
          if (std::isinf(out(r, c)) && std::isfinite(value))
            throw FileError(what_, "row " + std::to_string(first + r) + ", column " + std::to_string(c) + ": value " +
                                       std::to_string(value) + " is beyond float range");
      }
  });
}

std::vector<std::string> ZipArchive::names() const {
  std::vector<std::string> names;
  for (const Entry& entry : entries_) names.push_back(entry.name);
  return names;
}

const ZipArchive::Entry* ZipArchive::find(std::string_view name) const {
  const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; });
  return it == entries_.end() ? nullptr : &*it;
}

const ZipArchive::Entry& ZipArchive::entry(std::string_view name) const {
  const Entry* found = find(name);
  if (found == nullptr) throw FileError(what_, "has no member '" + std::string(name) + "'");
  return *found;
}

std::vector<std::byte> ZipArchive::member(std::string_view name) const {
  const Entry& e = entry(name);
  return ZipParser(bytes_, what_).extract(e, e.size);
}

std::vector<std::byte> ZipArchive::member_prefix(std::string_view name, std::size_t max_bytes) const {
  return ZipParser(bytes_, what_).extract(entry(name), max_bytes);
}

std::string ZipArchive::member_label(std::string_view name) const { return what_ + "[" + std::string(name) + "]"; }

NpyHeaderInfo ZipArchive::npy_header(std::string_view name) const {
  // A header is at most 12 + 64 KiB bytes long; only that much is inflated.
  return parse_npy_header(member_prefix(name, 12 + max_header_length), member_label(name));
}

void NpzWriter::add(std::string name, const NpyArray& array) { add_raw(std::move(name) + ".npy", serialize_npy(array)); }

void NpzWriter::add_raw(std::string name, std::vector<std::byte> bytes) {
  if (std::any_of(members_.begin(), members_.end(), [&](const auto& member) { return member.first == name; }))
    throw std::invalid_argument("nn::NpzWriter: duplicate member '" + name + "'");
  members_.emplace_back(std::move(name), std::move(bytes));
}

void NpzWriter::write(const fs::path& path, bool compress) const {
  write_file_atomically(path, serialize_zip(members_, compress, path));
}

}  // namespace nn
