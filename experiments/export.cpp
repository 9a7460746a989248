// `nif export`: a trained model as a compact file (nn/compact.hpp) — fp32, fp16 or int8 weights,
// zeros of a pruned model left out — that `nif predict` and nifcpp.load read like a checkpoint.

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "experiments/cli.hpp"
#include "experiments/saved_model.hpp"
#include "nn/compact.hpp"

namespace experiments {

int run_export(const std::vector<std::string>& args) {
  std::string checkpoint, format_name, out;
  po::options_description desc("nif export --checkpoint FILE --format fp32|fp16|int8 --out FILE");
  desc.add_options()("help", "show this help")("checkpoint", po::value(&checkpoint), "a checkpoint written by nif train")(
      "format", po::value(&format_name), "weight matrices as fp32, fp16 or int8 (per-output-channel scales)")(
      "out", po::value(&out), "the compact model file (a new file, or a compact model to replace)");
  const auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (checkpoint.empty() || format_name.empty() || out.empty()) throw UsageError("--checkpoint, --format and --out are required");
  nn::WeightFormat format{};
  try {
    format = nn::parse_weight_format(format_name);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--format: ") + e.what());
  }
  const fs::path out_dir = fs::path(out).parent_path();
  if (!out_dir.empty() && !fs::is_directory(out_dir)) throw UsageError(out_dir.string() + ": no such folder (for --out)");
  // A user's file is never overwritten; an earlier export may be.
  if (fs::exists(out) && (!fs::is_regular_file(out) || !nn::is_compact_model(out)))
    throw UsageError(out + ": exists and is not a compact model; choose another --out");
  SavedModel model(checkpoint);
  model.save_compact(out, format);
  const auto bytes = fs::file_size(out);
  fmt::print("exported {} ({} bytes) as {} to {}: {} bytes, {:.1f}x smaller\n", checkpoint, model.file_bytes(), format_name, out,
             bytes, double(model.file_bytes()) / double(bytes));
  return 0;
}

}  // namespace experiments
