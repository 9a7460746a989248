// The .npz (zip) reader: nn::parse_zip_members on arbitrary bytes, every ".npy" member of an
// accepted archive through nn::parse_npy, and the archive as a point table (nif::load_points);
// each may refuse the input only with nn::FileError.

#include <cstdint>

#include "fuzz/support.hpp"
#include "nif/data.hpp"
#include "nn/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::bytes(data, size);
  std::vector<std::pair<std::string, std::vector<std::byte>>> members;
  if (fuzz::refused_with<nn::FileError>([&] { members = nn::parse_zip_members(input, "input.npz"); })) return 0;
  for (const auto& [name, bytes] : members)
    if (name.ends_with(".npy")) fuzz::refused_with<nn::FileError>([&] { (void)nn::parse_npy(bytes, name); });
  fuzz::refused_with<nn::FileError>(
      [&] { (void)nif::load_points(fuzz::scratch_file(".npz", input), nif::traveling_wave_columns()); });
  return 0;
}
