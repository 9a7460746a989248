// The CSV reader: nif::parse_csv on arbitrary text, which may refuse it only with nn::FileError;
// an accepted table's numbers must survive write_csv/read_csv exactly, and the text must load as
// a point table (nif::load_points) or be refused with nn::FileError.

#include <cmath>
#include <cstdint>
#include <cstring>

#include "fuzz/support.hpp"
#include "nif/csv.hpp"
#include "nif/data.hpp"
#include "nn/files.hpp"

namespace {

/// Equal shapes and bit-identical entries, any NaN matching any NaN (CSV keeps no NaN payload).
bool same_numbers(const ad::Matrix<float>& a, const ad::Matrix<float>& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (ad::Index i = 0; i < a.size(); ++i) {
    const float x = a.data()[i], y = b.data()[i];
    if (std::isnan(x) != std::isnan(y) || (!std::isnan(x) && std::memcmp(&x, &y, sizeof x) != 0)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nif::CsvTable table;
  if (fuzz::refused_with<nn::FileError>([&] { table = nif::parse_csv(fuzz::text(data, size), "input.csv"); })) return 0;
  if (table.values.rows() > 0) {
    const auto saved = fuzz::scratch_dir() / "saved.csv";
    nif::write_csv(saved, table.values);
    fuzz::require(same_numbers(nif::read_csv(saved), table.values), "accepted numbers survive write_csv/read_csv");
  }
  fuzz::refused_with<nn::FileError>([&] {
    (void)nif::load_points(fuzz::scratch_file(".csv", fuzz::bytes(data, size)), nif::traveling_wave_columns());
  });
  return 0;
}
