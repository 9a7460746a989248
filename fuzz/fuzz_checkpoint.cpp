// The checkpoint loader: nn::read_checkpoint_metadata and nn::load_checkpoint (into a dense layer's
// two parameters with Adam and a prune mask). Both may refuse the checkpoint only with
// nn::FileError, and a refused load must leave parameters, optimizer and mask untouched. An input starting with "PK" is the file
// itself. Any other input lists the members of an archive (fuzz::archive_of).

#include <memory>
#include <string_view>

#include "fuzz/support.hpp"
#include "nn/checkpoint.hpp"
#include "nn/files.hpp"

namespace {

/// Parameters [2, 3] and [3], all 0.5, with Adam (state zero, no step taken) and no mask.
struct Model {
  ad::ParameterBuffer<float> params;
  std::unique_ptr<nn::Optimizer<float>> optimizer;
  nn::PruneMask<float> mask;
  Model() {
    params.add("dense.kernel", 2, 3);
    params.add("dense.bias", 1, 3, /*is_matrix=*/false);
    params.values().setConstant(0.5f);
    optimizer = nn::make_optimizer<float>("adam", params);
  }
  bool untouched() const {
    for (const auto& [name, vector] : optimizer->state())
      if (!vector.isZero()) return false;
    return (params.values().array() == 0.5f).all() && optimizer->steps() == 0 && !mask.active();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::text(data, size);
  auto file = fuzz::scratch_dir() / "checkpoint.npz";
  if (input.starts_with("PK"))
    file = fuzz::scratch_file(".npz", fuzz::bytes(data, size));
  else if (fuzz::refused_with<nn::FileError>([&] { fuzz::archive_of(input).write(file); }))
    return 0;  // a member name over 64 KiB
  if (fuzz::refused_with<nn::FileError>([&] { (void)nn::read_checkpoint_metadata(file); })) return 0;
  Model model;
  if (fuzz::refused_with<nn::FileError>([&] { (void)nn::load_checkpoint(file, model.params, model.optimizer.get(), &model.mask); }))
    fuzz::require(model.untouched(), "a refused checkpoint leaves parameters and optimizer untouched");
  return 0;
}
