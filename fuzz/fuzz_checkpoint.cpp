// The checkpoint loader: nn::read_checkpoint_metadata and nn::load_checkpoint (into a dense layer's
// two parameters with Adam). Both may refuse the checkpoint only with nn::FileError, and a refused
// load must leave parameters and optimizer untouched. An input starting with "PK" is the file
// itself. Any other input lists the members of an archive that nn::NpzWriter writes with correct
// CRC-32s, so that mutations reach the metadata and arrays behind them: each member begins with
// a line "@@ <member name>" and holds the bytes up to the next such line.

#include <algorithm>
#include <memory>
#include <string_view>

#include "fuzz/support.hpp"
#include "nn/checkpoint.hpp"
#include "nn/files.hpp"
#include "nn/npy.hpp"

namespace {

/// Parameters [2, 3] and [3], all 0.5, with Adam (state zero, no step taken).
struct Model {
  ad::ParameterBuffer<float> params;
  std::unique_ptr<nn::Optimizer<float>> optimizer;
  Model() {
    params.add("dense.kernel", 2, 3);
    params.add("dense.bias", 1, 3, /*is_matrix=*/false);
    params.values().setConstant(0.5f);
    optimizer = nn::make_optimizer<float>("adam", params);
  }
  bool untouched() const {
    for (const auto& [name, vector] : optimizer->state())
      if (!vector.isZero()) return false;
    return (params.values().array() == 0.5f).all() && optimizer->steps() == 0;
  }
};

/// The archive the input describes: text before the first "@@ " line is ignored, and a repeated
/// member name keeps its first contents.
nn::NpzWriter archive_of(std::string_view input) {
  constexpr std::string_view marker = "@@ ", separator = "\n@@ ";
  nn::NpzWriter archive;
  for (auto at = input.starts_with(marker) ? 0 : input.find(separator); at != std::string_view::npos;) {
    if (input[at] == '\n') ++at;
    const auto name_begin = at + marker.size();
    const auto name_end = input.find('\n', name_begin);
    if (name_end == std::string_view::npos) break;
    const auto next = input.find(separator, name_end);
    const auto end = next == std::string_view::npos ? input.size() : next;
    const auto begin = std::min(name_end + 1, end);  // empty contents: the next marker follows the name
    const auto contents = std::as_bytes(std::span(input.data() + begin, end - begin));
    fuzz::refused_with<std::invalid_argument>([&] {  // a repeated name
      archive.add_raw(std::string(input.substr(name_begin, name_end - name_begin)), {contents.begin(), contents.end()});
    });
    at = next;
  }
  return archive;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::text(data, size);
  auto file = fuzz::scratch_dir() / "checkpoint.npz";
  if (input.starts_with("PK"))
    file = fuzz::scratch_file(".npz", fuzz::bytes(data, size));
  else if (fuzz::refused_with<nn::FileError>([&] { archive_of(input).write(file); }))
    return 0;  // a member name over 64 KiB
  if (fuzz::refused_with<nn::FileError>([&] { (void)nn::read_checkpoint_metadata(file); })) return 0;
  Model model;
  if (fuzz::refused_with<nn::FileError>([&] { (void)nn::load_checkpoint(file, model.params, model.optimizer.get()); }))
    fuzz::require(model.untouched(), "a refused checkpoint leaves parameters and optimizer untouched");
  return 0;
}
