// The compact model reader (nn/compact.hpp, what `nif export` writes): nn::is_compact_model,
// nn::read_compact_metadata and nn::load_compact_model (into a dense layer's two parameters). Each
// may refuse the file only with nn::FileError, and a refused load must leave the parameters
// untouched. An input starting with "PK" is the file itself; any other input lists the members of
// an archive (fuzz::archive_of).

#include "fuzz/support.hpp"
#include "nn/compact.hpp"
#include "nn/files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::text(data, size);
  auto file = fuzz::scratch_dir() / "model.nifc";
  if (input.starts_with("PK"))
    file = fuzz::scratch_file(".nifc", fuzz::bytes(data, size));
  else if (fuzz::refused_with<nn::FileError>([&] { fuzz::archive_of(input).write(file); }))
    return 0;  // a member name over 64 KiB
  if (fuzz::refused_with<nn::FileError>([&] { (void)nn::is_compact_model(file); })) return 0;
  if (fuzz::refused_with<nn::FileError>([&] { (void)nn::read_compact_metadata(file); })) return 0;
  ad::ParameterBuffer<float> params;
  params.add("dense.kernel", 2, 3);
  params.add("dense.bias", 1, 3, /*is_matrix=*/false);
  params.values().setConstant(0.5f);
  if (fuzz::refused_with<nn::FileError>([&] { (void)nn::load_compact_model(file, params); }))
    fuzz::require((params.values().array() == 0.5f).all(), "a refused compact model leaves the parameters untouched");
  else
    fuzz::require(params.values().allFinite(), "a loaded compact model holds finite values");
  return 0;
}
