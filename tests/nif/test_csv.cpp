#include <doctest/doctest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "nif/csv.hpp"
#include "nn/files.hpp"
#include "support/file_error.hpp"

namespace fs = std::filesystem;

namespace {

fs::path fixture(const std::string& name) { return fs::path(NIF_TEST_DATA_DIR) / "csv" / name; }

using testing::file_error_message;

std::string parse_error(const std::string& text) {
  return file_error_message([&] { nif::parse_csv(text, "t.csv"); });
}

}  // namespace

TEST_CASE("parse_csv reads a header, skips comments and blank lines and tolerates CRLF") {
  const nif::CsvTable table =
      nif::parse_csv("# made by hand\r\n\r\n t , x,u\r\n1,2, 3\r\n  # a comment\r\n\t\r\n-4e1,+0.5,.25\r\n", "t.csv");
  CHECK(table.header == std::vector<std::string>{"t", "x", "u"});
  REQUIRE(table.values.rows() == 2);
  REQUIRE(table.values.cols() == 3);
  CHECK(table.values(0, 0) == 1.0f);
  CHECK(table.values(0, 2) == 3.0f);
  CHECK(table.values(1, 0) == -40.0f);
  CHECK(table.values(1, 1) == 0.5f);
  CHECK(table.values(1, 2) == 0.25f);
}

TEST_CASE("parse_csv takes a numeric first line as data and accepts a missing final newline") {
  const nif::CsvTable table = nif::parse_csv("1,2\n3,4", "t.csv");
  CHECK(table.header.empty());
  REQUIRE(table.values.rows() == 2);
  CHECK(table.values(1, 1) == 4.0f);
}

TEST_CASE("parse_csv reads nan and inf cells and rounds decimals to the nearest float") {
  const nif::CsvTable table = nif::parse_csv("nan,inf,-inf,0.1,1e-40\n", "t.csv");
  CHECK(std::isnan(table.values(0, 0)));
  CHECK(table.values(0, 1) == std::numeric_limits<float>::infinity());
  CHECK(table.values(0, 2) == -std::numeric_limits<float>::infinity());
  CHECK(table.values(0, 3) == 0.1f);
  CHECK(table.values(0, 4) == 1e-40f);  // subnormal: underflow is not an error
}

TEST_CASE("parse_csv shapes: empty text, comments only, header only") {
  CHECK(nif::parse_csv("", "t.csv").values.size() == 0);
  CHECK(nif::parse_csv("# nothing\n\n", "t.csv").values.size() == 0);
  const nif::CsvTable header_only = nif::parse_csv("a,b,c\n", "t.csv");
  CHECK(header_only.values.rows() == 0);
  CHECK(header_only.values.cols() == 3);
}

TEST_CASE("parse_csv errors name the file, the 1-based line and column and the problem") {
  CHECK(parse_error("a,b\n1,2\n3,4,5\n") == "t.csv: line 3, column 3: expected 2 columns, found 3");
  CHECK(parse_error("1,2,3\n\n4,5\n") == "t.csv: line 3, column 3: expected 3 columns, found 2");
  CHECK(parse_error("1,2\r\n3,x7\r\n") == "t.csv: line 2, column 2: not a number: 'x7'");
  CHECK(parse_error("1,2\n3,\n") == "t.csv: line 2, column 2: empty cell");
  CHECK(parse_error("1,2\n3,1e39\n") == "t.csv: line 2, column 2: out of float range: '1e39'");
  CHECK(parse_error("1,2 3\n") == "t.csv: line 1, column 2: not a number: '2 3'");
  // A first line mixing numbers and words is data with a bad cell, not a header.
  CHECK(parse_error("1,x\n2,3\n") == "t.csv: line 1, column 2: not a number: 'x'");
  // A trailing comment is not a comment line.
  CHECK(parse_error("1,2 # two\n") == "t.csv: line 1, column 2: not a number: '2 # two'");
}

TEST_CASE("parse_csv errors stay one short line for binary junk and very long cells") {
  std::string junk = "1,";
  junk += std::string(1'000'000, 'z');
  junk += '\0';
  junk += "\x01\n";
  const std::string message = parse_error(junk);
  CHECK(message.starts_with("t.csv: line 1, column 2: not a number: 'zzz"));
  CHECK(message.size() < 100);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(parse_error(std::string("1,\x01\x7f\n")) == "t.csv: line 1, column 2: not a number: '\?\?'");
}

TEST_CASE("parse_csv handles a very long line and many rows") {
  std::string wide;
  for (int c = 0; c < 100'000; ++c) {
    if (c > 0) wide += ',';
    wide += std::to_string(c % 7);
  }
  std::string text = wide + "\n" + wide + "\n";
  const nif::CsvTable table = nif::parse_csv(text, "t.csv");
  CHECK(table.values.rows() == 2);
  CHECK(table.values.cols() == 100'000);
  CHECK(table.values(1, 99'999) == static_cast<float>(99'999 % 7));

  std::string tall;
  for (int r = 0; r < 200'000; ++r) tall += std::to_string(r) + ",1\n";
  const nif::CsvTable rows = nif::parse_csv(tall, "t.csv");
  CHECK(rows.values.rows() == 200'000);
  CHECK(rows.values(199'999, 0) == 199'999.0f);
}

TEST_CASE("read_csv reads a CRLF fixture and reports problems with the file name") {
  const ad::Matrix<float> points = nif::read_csv(fixture("points.csv"));
  REQUIRE(points.rows() == 4);
  REQUIRE(points.cols() == 4);
  CHECK(points(2, 2) == 2e-3f);
  CHECK(points(3, 2) == 4.0f);
  CHECK(points(3, 3) == 1.5f);

  CHECK(file_error_message([] { nif::read_csv(fixture("ragged.csv")); }) ==
        fixture("ragged.csv").string() + ": line 3, column 3: expected 3 columns, found 2");
  CHECK(file_error_message([] { nif::read_csv(fixture("missing.csv")); }).starts_with(fixture("missing.csv").string() + ": "));
}

TEST_CASE("write_csv round-trips every float exactly, header included") {
  const fs::path file = fs::temp_directory_path() / ("nif_test_csv_" + std::to_string(::getpid()) + ".csv");
  ad::Matrix<float> values(3, 4);
  values << 0.1f, -1e-30f, 3.4028235e38f, 1.17549435e-38f,                        //
      std::numeric_limits<float>::denorm_min(), 16777217.0f, -0.0f, 2.0f / 3.0f,  //
      std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
      -std::numeric_limits<float>::infinity(), 45.0f;
  nif::write_csv(file, values, {"t", "x", "u", "area"});
  const std::vector<std::byte> bytes = nn::read_file(file);
  const nif::CsvTable back =
      nif::parse_csv(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), file.string());
  fs::remove(file);
  CHECK(back.header == std::vector<std::string>{"t", "x", "u", "area"});
  REQUIRE(back.values.rows() == 3);
  REQUIRE(back.values.cols() == 4);
  for (ad::Index r = 0; r < 3; ++r)
    for (ad::Index c = 0; c < 4; ++c) {
      CAPTURE(r);
      CAPTURE(c);
      if (std::isnan(values(r, c)))
        CHECK(std::isnan(back.values(r, c)));
      else
        CHECK(std::bit_cast<std::uint32_t>(back.values(r, c)) == std::bit_cast<std::uint32_t>(values(r, c)));
    }
}

TEST_CASE("write_csv refuses headers that would not read back") {
  const fs::path file = fs::temp_directory_path() / "nif_test_csv_never_written.csv";
  const ad::Matrix<float> values = ad::Matrix<float>::Zero(1, 2);
  CHECK_THROWS_AS(nif::write_csv(file, values, {"a"}), std::invalid_argument);
  CHECK_THROWS_AS(nif::write_csv(file, values, {"a", "b,c"}), std::invalid_argument);
  CHECK_THROWS_AS(nif::write_csv(file, values, {"a", "#b"}), std::invalid_argument);
  CHECK_THROWS_AS(nif::write_csv(file, values, {"a", ""}), std::invalid_argument);
  CHECK_THROWS_AS(nif::write_csv(file, values, {"a", " b"}), std::invalid_argument);
  CHECK_THROWS_AS(nif::write_csv(file, values, {"a", "2"}), std::invalid_argument);
  CHECK_THROWS_AS(nif::write_csv(file, values, {"a", "nan"}), std::invalid_argument);
  CHECK_FALSE(fs::exists(file));
}

TEST_CASE("a CSV value beyond double's range (1e400) is refused naming its line and column, not read as 0") {
  CHECK(parse_error("t,x\n0,1e400\n") == "t.csv: line 2, column 2: out of float range: '1e400'");
  CHECK(parse_error("t,x\n0,-1e400\n") == "t.csv: line 2, column 2: out of float range: '-1e400'");
  CHECK(nif::parse_csv("t,x\n0,1e-400\n", "t.csv").values(0, 1) == 0.0f);
}

TEST_CASE("read_csv_table keeps the header as column names") {
  const nif::CsvTable table = nif::read_csv_table(fixture("points.csv"));
  CHECK_FALSE(table.header.empty());
  CHECK(static_cast<ad::Index>(table.header.size()) == table.values.cols());
}
