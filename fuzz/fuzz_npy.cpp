// The .npy reader: nn::parse_npy on arbitrary bytes; what it accepts must survive a save/load
// round trip, convert or be refused with std::invalid_argument, and load as a point table
// (nif::load_points) or be refused with nn::FileError.

#include <cstdint>
#include <stdexcept>

#include "fuzz/support.hpp"
#include "nif/data.hpp"
#include "nn/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::bytes(data, size);
  nn::NpyArray array;
  if (fuzz::refused_with<nn::FileError>([&] { array = nn::parse_npy(input, "input.npy"); })) return 0;
  fuzz::require(nn::parse_npy(nn::serialize_npy(array), "saved.npy") == array,
                "an accepted array reads back unchanged after serialize_npy");
  fuzz::refused_with<std::invalid_argument>([&] { (void)array.to_matrix<float>(); });
  fuzz::refused_with<std::invalid_argument>([&] { (void)array.to_vector<std::int64_t>(); });
  fuzz::refused_with<nn::FileError>(
      [&] { (void)nif::load_points(fuzz::scratch_file(".npy", input), nif::traveling_wave_columns()); });
  return 0;
}
