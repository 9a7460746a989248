#include "nif/csv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstddef>
#include <iterator>
#include <stdexcept>
#include <system_error>

#include "nn/files.hpp"

namespace nif {

namespace {

constexpr std::string_view blanks = " \t";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

/// A cell's float, or why it has none (`problem` is empty on success).
struct ParsedCell {
  float value = 0;
  std::string_view problem;
};

ParsedCell parse_cell(std::string_view cell) {
  if (cell.empty()) return {0, "empty cell"};
  // from_chars rejects an explicit '+', which other writers (and humans) do produce.
  std::string_view digits = cell;
  if (digits.size() > 1 && digits[0] == '+' && digits[1] != '-' && digits[1] != '+') digits.remove_prefix(1);
  float value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (end != digits.data() + digits.size() || ec == std::errc::invalid_argument) return {0, "not a number"};
  if (ec == std::errc::result_out_of_range) {
    // Out of range is reported for underflow too. strtod tells them apart even beyond double's
    // range (1e400 gives HUGE_VAL, 1e-400 gives 0), and an underflowing value is as close to its
    // float (0 or subnormal) as float allows.
    const std::string copy(digits);
    const double wide = std::strtod(copy.c_str(), nullptr);
    if (!(std::fabs(wide) < 1.0)) return {0, "out of float range"};
    return {static_cast<float>(wide), {}};
  }
  return {value, {}};
}

/// `cell` quoted for an error message: printable characters only, at most 32 of them.
std::string printable(std::string_view cell) {
  constexpr std::size_t shown = 32;
  std::string out = "'";
  for (const char c : cell.substr(0, shown)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (cell.size() > shown) out += "...";
  return out + "'";
}

/// Splits a line into its trimmed cells.
std::vector<std::string_view> split_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  for (;;) {
    const auto comma = line.find(',');
    cells.push_back(trim(line.substr(0, comma)));
    if (comma == std::string_view::npos) return cells;
    line.remove_prefix(comma + 1);
  }
}

bool is_number(std::string_view cell) { return parse_cell(cell).problem.empty(); }

}  // namespace

CsvTable parse_csv(std::string_view text, const std::string& what) {
  CsvTable table;
  std::vector<float> values;
  std::size_t width = 0;  // cells per line, fixed by the first content line
  std::size_t rows = 0;
  std::size_t line_number = 0;
  auto fail = [&](std::size_t column, std::string_view problem) {
    throw nn::FileError(what, fmt::format("line {}, column {}: {}", line_number, column, problem));
  };
  while (!text.empty()) {
    // A CSV of millions of rows takes seconds; a stop request (Ctrl-C) is answered between lines.
    if (++line_number % 65536 == 0) nn::check_stop(what);
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    const std::string_view content = trim(line);
    if (content.empty() || content.front() == '#') continue;

    const std::vector<std::string_view> cells = split_cells(line);
    if (width == 0) {
      width = cells.size();
      if (std::none_of(cells.begin(), cells.end(), is_number)) {
        table.header.assign(cells.begin(), cells.end());
        continue;
      }
    }
    if (cells.size() != width)
      fail(std::min(cells.size(), width) + 1, fmt::format("expected {} columns, found {}", width, cells.size()));
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const ParsedCell parsed = parse_cell(cells[c]);
      if (!parsed.problem.empty())
        fail(c + 1, cells[c].empty() ? std::string(parsed.problem)
                                     : fmt::format("{}: {}", parsed.problem, printable(cells[c])));
      values.push_back(parsed.value);
    }
    ++rows;
  }
  table.values = ad::MatrixMap<float>(values.data(), static_cast<ad::Index>(rows), static_cast<ad::Index>(width));
  return table;
}

CsvTable read_csv_table(const std::filesystem::path& path) {
  const std::vector<std::byte> bytes = nn::read_file(path);
  return parse_csv(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string());
}

ad::Matrix<float> read_csv(const std::filesystem::path& path) { return read_csv_table(path).values; }

void write_csv(const std::filesystem::path& path, const ad::Matrix<float>& values,
               const std::vector<std::string>& header) {
  if (!header.empty() && static_cast<ad::Index>(header.size()) != values.cols())
    throw std::invalid_argument(
        fmt::format("nif::write_csv: {} header names for {} columns", header.size(), values.cols()));
  if (values.cols() == 0 && values.rows() > 0)
    throw std::invalid_argument("nif::write_csv: rows without columns cannot be written as CSV");
  for (const std::string& name : header) {
    const bool readable = !name.empty() && name.find_first_of(",\r\n") == std::string::npos && name.front() != '#' &&
                          trim(name).size() == name.size() && !is_number(name);
    if (!readable)
      throw std::invalid_argument("nif::write_csv: column name " + printable(name) +
                                  " would not read back as a header");
  }
  fmt::memory_buffer out;
  if (!header.empty()) fmt::format_to(std::back_inserter(out), "{}\n", fmt::join(header, ","));
  for (ad::Index r = 0; r < values.rows(); ++r) {
    const auto row = values.row(r);
    fmt::format_to(std::back_inserter(out), "{}\n", fmt::join(row.begin(), row.end(), ","));
  }
  nn::write_file_atomically(path, std::string_view(out.data(), out.size()));
}

}  // namespace nif
