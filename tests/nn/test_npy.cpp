#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <numbers>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/file_error.hpp"
#include "support/scratch_dir.hpp"
#include "nn/files.hpp"
#include "nn/npy.hpp"

namespace fs = std::filesystem;
using nn::DType;
using nn::NpyArray;

namespace {

fs::path fixture(const std::string& name) { return fs::path(NIF_TEST_DATA_DIR) / "npy" / name; }

/// A fresh empty directory for this file's tests.
struct ScratchDir : testing::ScratchDir {
  ScratchDir() : testing::ScratchDir("nn_npy_test") {}
};

using testing::file_error_message;

/// Checks that `action` throws a FileError naming `file` and containing `problem`.
template <class F>
void check_file_error(F&& action, const std::string& file, const std::string& problem) {
  const std::string message = file_error_message(std::forward<F>(action));
  INFO("message: ", message);
  CHECK(message.starts_with(file + ": "));
  CHECK(message.find(problem) != std::string::npos);
}

std::vector<std::byte> bytes_of(std::string_view text) {
  const auto* p = reinterpret_cast<const std::byte*>(text.data());
  return {p, p + text.size()};
}

std::string text_of(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// A .npy file assembled by hand: magic, version major.0, little-endian header length
/// (2 bytes for 1.0, 4 otherwise), header text, data.
std::vector<std::byte> handmade_npy(const std::string& header, std::string_view data = {}, int major = 1,
                                    std::uint32_t declared_length = 0) {
  const std::uint32_t length = declared_length != 0 ? declared_length : static_cast<std::uint32_t>(header.size());
  std::string text = "\x93NUMPY";
  text += static_cast<char>(major);
  text += '\0';
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i) text += static_cast<char>((length >> (8 * i)) & 0xFF);
  return bytes_of(text + header + std::string(data));
}

std::string npy_header(const std::string& descr, const std::string& shape, const std::string& fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }\n";
}

template <class T>
std::string raw(std::initializer_list<T> values) {
  std::string out(values.size() * sizeof(T), '\0');
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

/// One array of every dtype, with extreme values, for round trips.
std::vector<std::pair<std::string, NpyArray>> arrays_of_every_dtype() {
  const float f4[] = {0.0f, -0.0f, 1e-45f, std::numeric_limits<float>::infinity(), std::nanf(""), 3.25f};
  const double f8[] = {std::numbers::pi, -1e308, 5e-324};
  const std::int8_t i1[] = {-128, 127};
  const std::int16_t i2[] = {-32768, 12345};
  const std::int32_t i4[] = {std::numeric_limits<std::int32_t>::min(), 7};
  const std::int64_t i8[] = {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()};
  const std::uint8_t u1[] = {0, 200, 255};
  const std::uint16_t u2[] = {65535};
  const std::uint32_t u4[] = {4000000000u, 1};
  const std::uint64_t u8[] = {std::numeric_limits<std::uint64_t>::max()};
  const bool b1[] = {true, false, false, true};

  NpyArray matrix = NpyArray::from_vector(std::span<const float>(f4));
  matrix.shape = {2, 3};
  NpyArray scalar = NpyArray::from_vector(std::span<const double>(f8, 1));
  scalar.shape = {};
  NpyArray empty = NpyArray::from_vector(std::span<const double>());
  empty.shape = {0, 4};
  return {{"f4_2d", matrix},
          {"f8_0d", scalar},
          {"f8_empty", empty},
          {"f8", NpyArray::from_vector(std::span<const double>(f8))},
          {"i1", NpyArray::from_vector(std::span<const std::int8_t>(i1))},
          {"i2", NpyArray::from_vector(std::span<const std::int16_t>(i2))},
          {"i4", NpyArray::from_vector(std::span<const std::int32_t>(i4))},
          {"i8", NpyArray::from_vector(std::span<const std::int64_t>(i8))},
          {"u1", NpyArray::from_vector(std::span<const std::uint8_t>(u1))},
          {"u2", NpyArray::from_vector(std::span<const std::uint16_t>(u2))},
          {"u4", NpyArray::from_vector(std::span<const std::uint32_t>(u4))},
          {"u8", NpyArray::from_vector(std::span<const std::uint64_t>(u8))},
          {"b1", NpyArray::from_vector(std::span<const bool>(b1))}};
}

template <class T>
void store_le(std::vector<std::byte>& bytes, std::size_t at, T value) {
  std::memcpy(bytes.data() + at, &value, sizeof(T));
}

template <class T>
T load_le(const std::vector<std::byte>& bytes, std::size_t at) {
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof(T));
  return value;
}

/// Sets a field of the first member of an NpzWriter archive in its central directory entry
/// (at `cd + central_offset`) and in its local header (the same field sits 2 bytes earlier
/// there, the header starting the file), so the two stay consistent.
template <class T>
void set_member_field(std::vector<std::byte>& bytes, std::size_t cd, std::size_t central_offset, T value) {
  store_le<T>(bytes, cd + central_offset, value);
  store_le<T>(bytes, central_offset - 2, value);
}

/// An archive written by NpzWriter with one array member and one raw member.
std::vector<std::byte> small_archive(const fs::path& dir, bool compress) {
  nn::NpzWriter writer;
  const double values[] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0};
  writer.add("v", NpyArray::from_vector(std::span<const double>(values)));
  writer.add_raw("meta.json", bytes_of(R"({"epochs": 3, "name": "tiny"})"));
  const fs::path path = dir / (compress ? "small_deflated.npz" : "small_stored.npz");
  writer.write(path, compress);
  return nn::read_file(path);
}

/// Parses an archive and every .npy member in it, as read_npz does.
void parse_archive(std::span<const std::byte> bytes, const std::string& what) {
  for (const auto& [name, member] : nn::parse_zip_members(bytes, what))
    if (name.ends_with(".npy")) nn::parse_npy(member, what + "[" + name + "]");
}

}  // namespace

TEST_CASE("the seed datasets are float32 (2000, 3) tables of (t, x, u)") {
  struct Seed {
    const char* file;
    float max_abs_u;
  };
  for (const Seed seed : {Seed{"traveling_wave.npz", 0.053568423f}, Seed{"traveling_wave_high_freq.npz", 0.8868468f}}) {
    CAPTURE(seed.file);
    const auto arrays = nn::read_npz(fs::path(NIF_TEST_DATA_DIR) / seed.file);
    REQUIRE(arrays.size() == 1);
    CHECK(arrays[0].first == "data");
    const NpyArray& data = arrays[0].second;
    CHECK(data.dtype == DType::f4);
    CHECK(data.shape == std::vector<std::int64_t>{2000, 3});
    const ad::Matrix<float> table = data.to_matrix<float>();
    REQUIRE(table.rows() == 2000);
    REQUIRE(table.cols() == 3);
    CHECK(table(0, 0) == 0.0f);
    CHECK(table(0, 1) == 0.0f);
    CHECK(table(1999, 0) == 90.0f);
    CHECK(table(1999, 1) == 0.995f);
    CHECK(table.col(2).cwiseAbs().maxCoeff() == seed.max_abs_u);
  }
}

TEST_CASE("np.save files of every layout read back with numpy's values") {
  SUBCASE("float32 C order") {
    const NpyArray a = nn::read_npy(fixture("f4_c.npy"));
    CHECK(a.dtype == DType::f4);
    CHECK(a.shape == std::vector<std::int64_t>{2, 3});
    CHECK(a.to_vector<float>() == std::vector<float>{-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f});
  }
  SUBCASE("float64 Fortran order becomes C order") {
    const NpyArray a = nn::read_npy(fixture("f8_fortran.npy"));
    CHECK(a.dtype == DType::f8);
    CHECK(a.shape == std::vector<std::int64_t>{2, 3});
    ad::Matrix<double> expected(2, 3);
    expected << 1.5, -2.25, 3.0, 4.0, 5.5, -6.125;
    CHECK(a.to_matrix<double>() == expected);
  }
  SUBCASE("int64 keeps every bit") {
    const NpyArray a = nn::read_npy(fixture("i8_c.npy"));
    CHECK(a.dtype == DType::i8);
    CHECK(a.shape == std::vector<std::int64_t>{3, 2});
    CHECK(a.to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{1, -2, 3, std::int64_t{1} << 40, -(std::int64_t{1} << 62), 7});
  }
  SUBCASE("3-d Fortran order int16") {
    const NpyArray a = nn::read_npy(fixture("i2_fortran_3d.npy"));
    CHECK(a.dtype == DType::i2);
    CHECK(a.shape == std::vector<std::int64_t>{2, 3, 2});
    CHECK(a.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    CHECK_THROWS_AS(a.to_matrix<double>(), std::invalid_argument);
  }
  SUBCASE("1-d becomes a column") {
    const ad::Matrix<float> m = nn::read_npy(fixture("f4_1d.npy")).to_matrix<float>();
    REQUIRE(m.rows() == 4);
    REQUIRE(m.cols() == 1);
    CHECK(m(0, 0) == 0.25f);
    CHECK(m(1, 0) == -1.5f);
    CHECK(m(2, 0) == 0.1f);
    CHECK(m(3, 0) == 3e38f);
  }
  SUBCASE("0-d becomes 1 x 1") {
    const NpyArray a = nn::read_npy(fixture("f8_0d.npy"));
    CHECK(a.shape.empty());
    CHECK(a.size() == 1);
    const ad::Matrix<double> m = a.to_matrix<double>();
    REQUIRE(m.rows() == 1);
    REQUIRE(m.cols() == 1);
    CHECK(m(0, 0) == std::numbers::pi);
  }
  SUBCASE("uint8 and bool convert to numbers") {
    const NpyArray u = nn::read_npy(fixture("u1_c.npy"));
    CHECK(u.dtype == DType::u1);
    CHECK(u.to_matrix<double>() == (ad::Matrix<double>(2, 2) << 0, 255, 7, 128).finished());
    const NpyArray b = nn::read_npy(fixture("b1_1d.npy"));
    CHECK(b.dtype == DType::b1);
    CHECK(b.to_vector<double>() == std::vector<double>{1, 0, 1});
  }
  SUBCASE("empty 12-d array") {
    const NpyArray a = nn::read_npy(fixture("u1_empty_12d.npy"));
    CHECK(a.shape.size() == 12);
    CHECK(a.size() == 0);
    CHECK(a.data.empty());
  }
}

TEST_CASE("np.savez and np.savez_compressed archives read back in archive order") {
  SUBCASE("stored, two members") {
    const auto arrays = nn::read_npz(fixture("two_members.npz"));
    REQUIRE(arrays.size() == 2);
    CHECK(arrays[0].first == "weights");
    CHECK(arrays[0].second.to_matrix<float>() == (ad::Matrix<float>(2, 2) << 0.5f, -0.25f, 2.0f, 8.0f).finished());
    CHECK(arrays[1].first == "steps");
    CHECK(arrays[1].second.dtype == DType::i8);
    CHECK(arrays[1].second.to_vector<std::int64_t>() == std::vector<std::int64_t>{10, 20, 30});
  }
  SUBCASE("deflated") {
    const auto arrays = nn::read_npz(fixture("compressed.npz"));
    REQUIRE(arrays.size() == 2);
    CHECK(arrays[0].first == "x");
    std::vector<double> expected(50);
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = 0.25 * static_cast<double>(i);
    CHECK(arrays[0].second.to_vector<double>() == expected);
    CHECK(arrays[1].first == "flags");
    CHECK(arrays[1].second.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0, 1});
  }
  SUBCASE("raw members are skipped by read_npz and returned by read_zip_members") {
    const auto arrays = nn::read_npz(fixture("with_meta.npz"));
    REQUIRE(arrays.size() == 1);
    CHECK(arrays[0].first == "a");
    const auto members = nn::read_zip_members(fixture("with_meta.npz"));
    REQUIRE(members.size() == 2);
    CHECK(members[0].first == "a.npy");
    CHECK(members[1].first == "meta.json");
    CHECK(text_of(members[1].second) == R"({"epochs": 3})");
  }
  SUBCASE("streamed members with data descriptors") {
    const auto arrays = nn::read_npz(fixture("streamed.npz"));
    REQUIRE(arrays.size() == 1);
    CHECK(arrays[0].first == "d");
    CHECK(arrays[0].second.dtype == DType::i4);
    CHECK(arrays[0].second.to_matrix<double>() == (ad::Matrix<double>(1, 2) << 1.0, 2.0).finished());
  }
  SUBCASE("ZIP64 central directory, end record and archive comment") {
    const auto arrays = nn::read_npz(fixture("zip64.npz"));
    REQUIRE(arrays.size() == 1);
    CHECK(arrays[0].first == "v");
    CHECK(arrays[0].second.to_vector<double>() == std::vector<double>{1.0, -2.0, 0.5});
  }
}

TEST_CASE("broken fixtures are refused with the file name and the problem") {
  check_file_error([] { nn::read_npy(fixture("big_endian.npy")); }, fixture("big_endian.npy").string(),
                   "unsupported byte order in dtype '>f8' (big-endian");
  check_file_error([] { nn::read_npy(fixture("truncated.npy")); }, fixture("truncated.npy").string(),
                   "truncated data: shape (2, 3) of <f4 needs 24 bytes, the file has 21");
  check_file_error([] { nn::read_npz(fixture("bad_crc.npz")); }, fixture("bad_crc.npz").string(),
                   "CRC-32 mismatch in member 'v.npy'");
  check_file_error([] { nn::read_npy(fixture("two_members.npz")); }, fixture("two_members.npz").string(),
                   "not a .npy file");
}

TEST_CASE("serialize_npy reproduces np.save byte for byte") {
  for (const char* name : {"f4_c.npy", "i8_c.npy", "f4_1d.npy", "f8_0d.npy", "u1_c.npy", "b1_1d.npy",
                           "u1_empty_12d.npy"}) {
    CAPTURE(name);
    const std::vector<std::byte> original = nn::read_file(fixture(name));
    CHECK(nn::serialize_npy(nn::parse_npy(original, name)) == original);
  }
}

TEST_CASE("serialize_npy follows the .npy 1.0 layout") {
  const NpyArray a = NpyArray::from_matrix(ad::Matrix<float>::Zero(2000, 3).eval());
  const std::vector<std::byte> bytes = nn::serialize_npy(a);
  const std::string text = text_of(bytes);
  CHECK(text.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t header_length = load_le<std::uint16_t>(bytes, 8);
  CHECK((10 + header_length) % 64 == 0);
  CHECK(bytes.size() == 10 + header_length + 2000 * 3 * 4);
  const std::string header = text.substr(10, header_length);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2000, 3), }";
  CHECK(header.starts_with(dict));
  CHECK(header.back() == '\n');
  CHECK(std::all_of(header.begin() + static_cast<std::ptrdiff_t>(dict.size()), header.end() - 1,
                    [](char c) { return c == ' '; }));
  // numpy leaves 21 - len("2000") spaces for the first axis to grow, then aligns.
  CHECK(header.size() - dict.size() - 1 >= 17);

  const std::string scalar = text_of(nn::serialize_npy(nn::parse_npy(nn::read_file(fixture("f8_0d.npy")), "x")));
  CHECK(scalar.substr(10).starts_with("{'descr': '<f8', 'fortran_order': False, 'shape': (), }"));
  const std::string column = text_of(nn::serialize_npy(nn::read_npy(fixture("u1_c.npy"))));
  CHECK(column.substr(10).starts_with("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }"));
}

TEST_CASE("matrices and vectors convert to arrays and back bit-exactly") {
  ad::Matrix<float> mf(2, 3);
  mf << 1.0f, -0.0f, std::numeric_limits<float>::denorm_min(), std::nanf("7"), -3.5f, 1e30f;
  const NpyArray af = NpyArray::from_matrix(mf);
  CHECK(af.dtype == DType::f4);
  CHECK(af.shape == std::vector<std::int64_t>{2, 3});
  const ad::Matrix<float> back = af.to_matrix<float>();
  CHECK(std::memcmp(back.data(), mf.data(), sizeof(float) * 6) == 0);

  const ad::Matrix<double> md = ad::Matrix<double>::Random(4, 2);
  const NpyArray ad_array = NpyArray::from_matrix(md);
  CHECK(ad_array.dtype == DType::f8);
  CHECK(ad_array.to_matrix<double>() == md);
  CHECK(ad_array.to_matrix<float>() == md.cast<float>());

  const std::vector<double> v{1.0, 2.5};
  const NpyArray av = NpyArray::from_vector(std::span<const double>(v));
  CHECK(av.shape == std::vector<std::int64_t>{2});
  CHECK(av.to_matrix<double>() == (ad::Matrix<double>(2, 1) << 1.0, 2.5).finished());
}

TEST_CASE("NpyArray rejects inconsistent contents") {
  NpyArray a = NpyArray::from_vector(std::span<const float>(std::vector<float>{1, 2, 3}));
  a.shape = {2, 2};
  CHECK_THROWS_AS(a.to_vector<float>(), std::invalid_argument);
  CHECK_THROWS_AS(nn::serialize_npy(a), std::invalid_argument);
  a.shape = {-3};
  CHECK_THROWS_AS(a.size(), std::invalid_argument);
  const std::vector<double> floats{3.0, -2.0, std::nan("")};
  CHECK(NpyArray::from_vector<double>(std::span(floats).first(2)).to_vector<std::int64_t>() ==
        std::vector<std::int64_t>{3, -2});
  CHECK_THROWS_AS(NpyArray::from_vector<double>(floats).to_vector<std::int64_t>(), std::invalid_argument);
  CHECK_THROWS_AS(NpyArray::from_vector<double>(std::vector<double>{1e19}).to_vector<std::int64_t>(), std::invalid_argument);
  nn::NpzWriter writer;
  writer.add("x", NpyArray::from_vector(std::span<const float>(std::vector<float>{1})));
  CHECK_THROWS_AS(writer.add_raw("x.npy", {}), std::invalid_argument);
}

TEST_CASE("every dtype survives write_npy and read_npy unchanged") {
  ScratchDir dir;
  for (const auto& [name, array] : arrays_of_every_dtype()) {
    CAPTURE(name);
    const fs::path path = dir.path() / (name + ".npy");
    nn::write_npy(path, array);
    CHECK(nn::read_npy(path) == array);
  }
}

TEST_CASE("NpzWriter archives, stored and deflated, read back unchanged") {
  ScratchDir dir;
  const auto arrays = arrays_of_every_dtype();
  const std::vector<std::byte> meta = bytes_of(R"({"model": "nif", "epochs": 10})");
  for (const bool compress : {false, true}) {
    CAPTURE(compress);
    nn::NpzWriter writer;
    for (const auto& [name, array] : arrays) writer.add(name, array);
    writer.add_raw("meta.json", meta);
    const fs::path path = dir.path() / (compress ? "deflated.npz" : "stored.npz");
    writer.write(path, compress);
    CHECK(nn::read_npz(path) == arrays);
    const auto members = nn::read_zip_members(path);
    REQUIRE(members.size() == arrays.size() + 1);
    CHECK(members.front().first == "f4_2d.npy");
    CHECK(members.back().first == "meta.json");
    CHECK(members.back().second == meta);
  }
  // A compressible array must actually shrink when deflated.
  nn::NpzWriter zeros;
  zeros.add("z", NpyArray::from_matrix(ad::Matrix<double>::Zero(100, 100).eval()));
  zeros.write(dir.path() / "z_stored.npz", false);
  zeros.write(dir.path() / "z_deflated.npz", true);
  CHECK(fs::file_size(dir.path() / "z_deflated.npz") * 20 < fs::file_size(dir.path() / "z_stored.npz"));
  CHECK(nn::read_npz(dir.path() / "z_deflated.npz")[0].second.to_matrix<double>() == ad::Matrix<double>::Zero(100, 100));
  // 4 MB from a few kB: the reader's output buffer grows many times over while inflating.
  const ad::Matrix<float> big = ad::Matrix<float>::NullaryExpr(1000, 1000, [](Eigen::Index i, Eigen::Index j) {
    return float((i * 7 + j) % 5);
  });
  nn::NpzWriter large;
  large.add("big", NpyArray::from_matrix(big));
  large.write(dir.path() / "big.npz", true);
  CHECK(fs::file_size(dir.path() / "big.npz") * 100 < big.size() * sizeof(float));
  CHECK(nn::read_npz(dir.path() / "big.npz")[0].second.to_matrix<float>() == big);
}

TEST_CASE("numpy reads the files we write") {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: /usr/bin/python3 has no numpy (apt-get install python3-numpy)");
    return;
  }
  ScratchDir dir;
  ad::Matrix<float> m(3, 2);
  m << 0.5f, -1.0f, 2.0f, 0.1f, 1e-8f, 3.0f;
  nn::write_npy(dir.path() / "m.npy", NpyArray::from_matrix(m));
  nn::write_npy(dir.path() / "s.npy", nn::parse_npy(nn::read_file(fixture("f8_0d.npy")), "f8_0d.npy"));
  for (const bool compress : {false, true}) {
    nn::NpzWriter writer;
    writer.add("weights", NpyArray::from_matrix(m));
    writer.add("steps", NpyArray::from_vector(std::span<const std::int64_t>(std::vector<std::int64_t>{3, -4})));
    writer.add_raw("meta.json", bytes_of(R"({"k": 1})"));
    writer.write(dir.path() / (compress ? "deflated.npz" : "stored.npz"), compress);
  }
  const std::string script = R"(
import sys, zipfile, numpy as np
d = sys.argv[1]
m = np.array([[0.5, -1.0], [2.0, 0.1], [1e-8, 3.0]], dtype=np.float32)
a = np.load(d + '/m.npy')
assert a.dtype == np.float32 and a.shape == (3, 2) and (a == m).all(), a
s = np.load(d + '/s.npy')
assert s.shape == () and s == np.pi, s
for name, method in (('stored.npz', zipfile.ZIP_STORED), ('deflated.npz', zipfile.ZIP_DEFLATED)):
    with zipfile.ZipFile(d + '/' + name) as z:
        assert z.testzip() is None
        assert [i.compress_type for i in z.infolist()] == [method] * 3
    f = np.load(d + '/' + name)
    assert f.files == ['weights', 'steps', 'meta.json'], f.files
    assert f['weights'].dtype == np.float32 and (f['weights'] == m).all()
    assert f['steps'].dtype == np.int64 and f['steps'].tolist() == [3, -4]
    assert f['meta.json'] == b'{"k": 1}', f['meta.json']
)";
  std::ofstream(dir.path() / "check.py") << script;
  const std::string command =
      "/usr/bin/python3 '" + (dir.path() / "check.py").string() + "' '" + dir.path().string() + "'";
  CHECK(std::system(command.c_str()) == 0);
}

TEST_CASE("header versions 2.0 and 3.0 and Python 2 shapes are read") {
  const std::string data = raw<float>({1.0f, 2.0f});
  for (const int major : {2, 3}) {
    CAPTURE(major);
    const NpyArray a = nn::parse_npy(handmade_npy(npy_header("<f4", "(2,)"), data, major), "v.npy");
    CHECK(a.to_vector<float>() == std::vector<float>{1.0f, 2.0f});
  }
  const NpyArray old = nn::parse_npy(handmade_npy("{'descr':'<f4','shape':(1L, 2L),'fortran_order':False}", data), "p.npy");
  CHECK(old.shape == std::vector<std::int64_t>{1, 2});
}

TEST_CASE("malformed .npy files are refused with the file name and the problem") {
  const std::string f4x2 = raw<float>({1.0f, 2.0f});
  struct Case {
    std::string label;
    std::vector<std::byte> bytes;
    const char* problem;
  };
  const std::vector<Case> cases{
      {"empty", {}, "not a .npy file"},
      {"bad magic", bytes_of("\x93NUMPZ\x01\x01{}"), "not a .npy file"},
      {"version 4.0", handmade_npy(npy_header("<f4", "(2,)"), f4x2, 4), "unsupported .npy format version 4.0"},
      {"absurd header length", handmade_npy("{}", "", 2, 0xFFFFFFF0u), "implausible .npy header length"},
      {"header longer than file", handmade_npy("{}", "", 1, 500), "truncated .npy header"},
      {"object dtype", handmade_npy(npy_header("|O", "(2,)"), f4x2), "object arrays are not supported"},
      {"structured dtype",
       handmade_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", f4x2),
       "structured dtypes are not supported"},
      {"complex dtype", handmade_npy(npy_header("<c8", "(1,)"), f4x2), "unsupported dtype '<c8'"},
      {"string dtype", handmade_npy(npy_header("<U2", "(1,)"), f4x2), "unsupported dtype '<U2'"},
      {"big-endian int", handmade_npy(npy_header(">i4", "(2,)"), f4x2), "unsupported byte order"},
      {"missing key", handmade_npy("{'descr': '<f4', 'shape': (2,), }", f4x2), "needs the keys"},
      {"duplicate key", handmade_npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", f4x2),
       "duplicate key 'descr'"},
      {"unknown key", handmade_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", f4x2),
       "unexpected key 'x'"},
      {"bad bool", handmade_npy(npy_header("<f4", "(2,)", "Maybe"), f4x2), "True or False"},
      {"negative dimension", handmade_npy(npy_header("<f4", "(-2,)"), f4x2), "non-negative integer"},
      {"huge dimension", handmade_npy(npy_header("<f4", "(99999999999999999999,)"), f4x2), "dimension too large"},
      {"overflowing shape", handmade_npy(npy_header("<f4", "(4294967296, 4294967296)"), f4x2), "is too large"},
      {"unterminated string", handmade_npy("{'descr': '<f4", f4x2), "unterminated string"},
      {"text after dict", handmade_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", f4x2),
       "unexpected text"},
      {"not a dict", handmade_npy("['descr']", f4x2), "expected '{'"},
      {"truncated data", handmade_npy(npy_header("<f4", "(3,)"), f4x2), "truncated data"},
      {"trailing data", handmade_npy(npy_header("<f4", "(1,)"), f4x2), "4 unexpected bytes after the data"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    check_file_error([&] { nn::parse_npy(c.bytes, "bad.npy"); }, "bad.npy", c.problem);
  }
}

TEST_CASE("malformed zip archives are refused with the file name and the problem") {
  ScratchDir dir;
  const std::vector<std::byte> stored = small_archive(dir.path(), false);
  const std::vector<std::byte> deflated = small_archive(dir.path(), true);
  // NpzWriter layout: the end record is the last 22 bytes; it points to the central directory,
  // whose first entry describes the first member, whose local header starts the file.
  const std::size_t end = stored.size() - 22;
  const std::size_t cd = load_le<std::uint32_t>(stored, end + 16);
  const std::size_t cd_deflated = load_le<std::uint32_t>(deflated, deflated.size() - 22 + 16);
  const auto mutated = [](std::vector<std::byte> z, auto&& change) {
    change(z);
    return z;
  };
  struct Case {
    std::string label;
    std::vector<std::byte> bytes;
    const char* problem;
  };
  const std::vector<Case> cases{
      {"too short", bytes_of("PK\x05\x06"), "not a zip archive (too short)"},
      {"no end record", std::vector<std::byte>(stored.begin(), stored.end() - 1), "no end of central directory record"},
      {"not a zip", nn::read_file(fixture("f4_c.npy")), "no end of central directory record"},
      {"method 12", mutated(stored, [&](auto& z) { set_member_field<std::uint16_t>(z, cd, 10, 12); }),
       "member 'v.npy' uses unsupported compression method 12"},
      {"encrypted", mutated(stored, [&](auto& z) { store_le<std::uint16_t>(z, cd + 8, 1); }),
       "member 'v.npy' is encrypted"},
      {"multi-disk", mutated(stored, [&](auto& z) { store_le<std::uint16_t>(z, end + 4, 1); }),
       "multi-disk archives are not supported"},
      {"directory beyond file",
       mutated(stored, [&](auto& z) { store_le<std::uint32_t>(z, end + 16, static_cast<std::uint32_t>(z.size())); }),
       "the central directory extends beyond the end of the file"},
      {"too many entries", mutated(stored, [&](auto& z) {
         store_le<std::uint16_t>(z, end + 8, 9);
         store_le<std::uint16_t>(z, end + 10, 9);
       }),
       "9 members do not fit"},
      {"member beyond file", mutated(stored, [&](auto& z) {
         set_member_field<std::uint32_t>(z, cd, 20, 1u << 20);
         set_member_field<std::uint32_t>(z, cd, 24, 1u << 20);
       }),
       "the data of member 'v.npy' extends beyond the end of the file"},
      {"local header offset beyond file", mutated(stored, [&](auto& z) { store_le<std::uint32_t>(z, cd + 42, 1u << 30); }),
       "the local header of member 'v.npy' extends beyond"},
      {"bad local signature", mutated(stored, [&](auto& z) { z[0] = std::byte{'X'}; }),
       "bad local header signature for member 'v.npy'"},
      {"local CRC differs", mutated(stored, [&](auto& z) { z[14] ^= std::byte{0x10}; }),
       "the local header of member 'v.npy' disagrees with the central directory"},
      {"local method differs", mutated(stored, [&](auto& z) { z[8] = std::byte{8}; }),
       "the local header of member 'v.npy' disagrees"},
      {"bad central signature", mutated(stored, [&](auto& z) { z[cd] = std::byte{'X'}; }),
       "bad central directory entry signature"},
      {"zip64 sizes without extra", mutated(stored, [&](auto& z) { store_le<std::uint32_t>(z, cd + 24, 0xFFFFFFFFu); }),
       "lacks the ZIP64 extra field"},
      {"stored sizes differ", mutated(stored, [&](auto& z) { set_member_field<std::uint32_t>(z, cd, 24, 10); }),
       "is stored but its sizes differ"},
      {"bad CRC", mutated(stored, [&](auto& z) { set_member_field(z, cd, 16, load_le<std::uint32_t>(z, cd + 16) ^ 1u); }), "CRC-32 mismatch in member 'v.npy'"},
      {"corrupt deflate", mutated(deflated, [&](auto& z) { z[30 + 5] = std::byte{0xFF}; }),
       "member 'v.npy' has corrupt deflate data"},
      {"declared size too small", mutated(deflated, [&](auto& z) {
         set_member_field(z, cd_deflated, 24, load_le<std::uint32_t>(z, cd_deflated + 24) - 1);
       }),
       "inflates to more than its declared"},
      {"declared size too large", mutated(deflated, [&](auto& z) {
         set_member_field(z, cd_deflated, 24, load_le<std::uint32_t>(z, cd_deflated + 24) + 1);
       }),
       "not its declared"},
      {"implausible size", mutated(deflated, [&](auto& z) { set_member_field<std::uint32_t>(z, cd_deflated, 24, 0xFFFFFFF0u); }),
       "implausible uncompressed size"},
      {"truncated deflate stream", mutated(deflated, [&](auto& z) {
         set_member_field(z, cd_deflated, 20, load_le<std::uint32_t>(z, cd_deflated + 20) / 2);
       }),
       "truncated deflate stream"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    check_file_error([&] { parse_archive(c.bytes, "bad.npz"); }, "bad.npz", c.problem);
  }
}

TEST_CASE("an archive member that is not a valid .npy names the archive and the member") {
  ScratchDir dir;
  nn::NpzWriter writer;
  writer.add_raw("broken.npy", bytes_of("not numpy"));
  const fs::path path = dir.path() / "archive.npz";
  writer.write(path);
  check_file_error([&] { nn::read_npz(path); }, path.string() + "[broken.npy]", "not a .npy file");
}

TEST_CASE("truncated and corrupted inputs only ever raise FileError") {
  ScratchDir dir;
  const std::vector<std::vector<std::byte>> inputs{small_archive(dir.path(), false), small_archive(dir.path(), true)};
  const std::vector<std::byte> npy = nn::read_file(fixture("f8_fortran.npy"));
  for (std::size_t length = 0; length < npy.size(); ++length)
    CHECK_THROWS_AS(nn::parse_npy(std::span(npy).first(length), "cut.npy"), nn::FileError);
  for (const auto& archive : inputs)
    for (std::size_t length = 0; length < archive.size(); ++length)
      CHECK_THROWS_AS(parse_archive(std::span(archive).first(length), "cut.npz"), nn::FileError);

  std::mt19937 rng(20240601);
  int rejected = 0;
  constexpr int trials = 3000;
  for (int trial = 0; trial < trials; ++trial) {
    std::vector<std::byte> bytes = trial % 3 == 0 ? npy : inputs[static_cast<std::size_t>(trial % 3 - 1)];
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<std::byte>(rng() % 256);
    try {
      if (trial % 3 == 0)
        nn::parse_npy(bytes, "fuzz.npy");
      else
        parse_archive(bytes, "fuzz.npz");
    } catch (const nn::FileError& e) {
      ++rejected;
      CHECK(std::string(e.what()).starts_with("fuzz.np"));
    }
  }
  // Most single-byte changes hit checked structure (CRC, signatures, header text).
  CHECK(rejected > trials / 2);
}

TEST_CASE("numpy's string arrays (np.array(['t', 'x', 'u', 'area']), dtype <U4) are read as strings") {
  const nn::ZipArchive zip = nn::ZipArchive::open(fs::path(NIF_TEST_DATA_DIR) / "npz" / "named_columns.npz");
  const nn::NpyHeaderInfo header = zip.npy_header("columns.npy");
  CHECK(header.descr == "<U4");
  CHECK(header.is_string());
  CHECK_FALSE(header.is_numeric());
  CHECK(nn::parse_npy_strings(zip.member("columns.npy"), "columns") == std::vector<std::string>{"t", "x", "u", "area"});
  CHECK(zip.npy_header("data.npy").shape == std::vector<std::int64_t>{12, 4});
  CHECK(testing::file_error_message([&] { nn::parse_npy_strings(zip.member("data.npy"), "data"); }) ==
        "data: expected an array of strings, found dtype '<f4'");
}

TEST_CASE("ZipArchive inflates only the members asked for: a corrupt member nobody reads costs nothing") {
  const testing::ScratchDir dir("nn_zip_archive_test");
  nn::NpzWriter writer;
  writer.add("data", nn::NpyArray::from_vector(std::span<const float>(std::vector<float>{1, 2, 3})));
  writer.add_raw("junk.bin", std::vector<std::byte>(64, std::byte{'J'}));
  writer.write(dir / "a.npz");
  std::vector<std::byte> bytes = nn::read_file(dir / "a.npz");
  const auto junk = std::search_n(bytes.begin(), bytes.end(), 64, std::byte{'J'});
  REQUIRE(junk != bytes.end());
  *junk = std::byte{'K'};  // the member's CRC-32 no longer matches
  const nn::ZipArchive zip(bytes, "a.npz");
  CHECK(zip.names() == std::vector<std::string>{"data.npy", "junk.bin"});
  CHECK(nn::parse_npy(zip.member("data.npy"), "data").to_vector<float>() == std::vector<float>{1, 2, 3});
  CHECK(zip.member_prefix("junk.bin", 4).size() == 4);
  CHECK(testing::file_error_message([&] { zip.member("junk.bin"); }) == "a.npz: CRC-32 mismatch in member 'junk.bin' (corrupt data)");
}

TEST_CASE("NpyRowFile reads any block of rows of numpy's C-order files as float") {
  for (const char* name : {"f4_c.npy", "i8_c.npy"}) {
    CAPTURE(name);
    const ad::Matrix<float> whole = nn::read_npy(fixture(name)).to_matrix<float>();
    nn::NpyRowFile rows{nn::RandomAccessFile(fixture(name))};
    REQUIRE(rows.rows() == whole.rows());
    REQUIRE(rows.cols() == whole.cols());
    ad::Matrix<float> block;
    for (std::int64_t first = 0; first < whole.rows(); ++first)
      for (std::int64_t count = 0; first + count <= whole.rows(); ++count) {
        rows.read(first, count, block);
        CHECK(block == whole.middleRows(first, count));
      }
    CHECK_THROWS_AS(rows.read(1, whole.rows(), block), std::invalid_argument);
  }
}

namespace {

fs::path npz_fixture(const std::string& name) { return fs::path(NIF_TEST_DATA_DIR) / "npz" / name; }

/// Member data.npy of the .npz fixture `name`, opened for reading in place as nif::PointFile does.
nn::NpyRowFile npz_rows(const std::string& name) {
  nn::RandomAccessFile file(npz_fixture(name));
  const nn::RandomAccessFile::Mapping mapping = file.map();
  const nn::ZipArchive zip = nn::ZipArchive::view(mapping.bytes(), npz_fixture(name).string());
  return nn::NpyRowFile(std::move(file), zip, "data.npy");
}

}  // namespace

TEST_CASE("NpyRowFile reads a stored .npz member in place and refuses a deflated one, naming numpy.savez_compressed") {
  nn::NpyRowFile rows = npz_rows("named_columns.npz");
  ad::Matrix<float> block;
  rows.read(3, 5, block);
  const nn::ZipArchive zip = nn::ZipArchive::open(npz_fixture("named_columns.npz"));
  const ad::Matrix<float> whole = nn::parse_npy(zip.member("data.npy"), "data.npy").to_matrix<float>();
  CHECK(block == whole.middleRows(3, 5));

  const std::string message = testing::file_error_message([&] { npz_rows("named_columns_compressed.npz"); });
  CHECK(message.find("named_columns_compressed.npz[data.npy]: is compressed (numpy.savez_compressed)") != std::string::npos);
}

TEST_CASE("NpyRowFile refuses Fortran order, arrays that are not tables and truncated files, naming the file") {
  const auto message = [](const char* name) {
    return testing::file_error_message([&] { nn::NpyRowFile{nn::RandomAccessFile(fixture(name))}; });
  };
  CHECK(message("f8_fortran.npy").find("f8_fortran.npy: is in Fortran order") != std::string::npos);
  CHECK(message("f4_1d.npy").find("f4_1d.npy: expected a table (a 2-d array)") != std::string::npos);
  CHECK(message("truncated.npy").find("truncated.npy: ") != std::string::npos);
}

TEST_CASE("NpyRowFile refuses a double beyond float range, naming its row in the file and its column") {
  nn::NpyRowFile rows = npz_rows("beyond_float.npz");
  ad::Matrix<float> block;
  rows.read(0, 2, block);
  const std::string message = testing::file_error_message([&] { rows.read(1, 3, block); });
  CHECK(message.find("beyond_float.npz[data.npy]: row 2, column 1: value") != std::string::npos);
}
