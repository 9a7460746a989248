#pragma once
// Plain numeric CSV tables: the text counterpart of .npy for point data.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "autodiff/tape.hpp"

namespace nif {

/// A parsed CSV file: the column names (empty without a header line) and the numbers.
struct CsvTable {
  std::vector<std::string> header;
  ad::Matrix<float> values;  ///< one row per data line; 0 x 0 when there is no data and no header
};

/// Parses CSV text: comma-separated numbers, one row per line. Lines whose first non-blank
/// character is '#' and blank lines are skipped; a trailing '\r' (CRLF files) is dropped; spaces
/// and tabs around a cell are ignored. The first remaining line is a header of column names
/// when none of its cells is a number. Cells are read as float ("nan", "inf" and exponents are
/// accepted; magnitudes beyond float's range are not). Every row must have as many cells as
/// the first. Errors throw nn::FileError "<what>: line L, column C: <problem>" with L and C
/// counted from 1 as an editor shows them.
CsvTable parse_csv(std::string_view text, const std::string& what);

/// The CSV file at `path`, header and numbers (see parse_csv). Throws nn::FileError naming the
/// file for unreadable files and malformed content, nn::ReadInterrupted when a stop is requested.
CsvTable read_csv_table(const std::filesystem::path& path);

/// The numbers of the CSV file at `path` (see parse_csv; the header, if any, is dropped).
/// Throws nn::FileError naming the file for unreadable files and malformed content.
ad::Matrix<float> read_csv(const std::filesystem::path& path);

/// Writes `values` as CSV, atomically (nn::write_file_atomically): the header line first when
/// `header` is not empty, then one line per row with the shortest decimal form that reads back
/// as the same float (so write_csv followed by read_csv is exact, NaN and Inf included).
/// Throws std::invalid_argument when the header does not have one name per column or a name
/// would not read back as a header (empty, containing ',', '\r' or '\n', starting with '#',
/// padded with blanks, or itself a number).
void write_csv(const std::filesystem::path& path, const ad::Matrix<float>& values,
               const std::vector<std::string>& header = {});

}  // namespace nif
