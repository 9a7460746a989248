// The `--config FILE` parser of the nif program (experiments::parse, lines `name = value`) with
// the experiment flags every training command has, then their validation
// (ExperimentFlags::config); both may refuse the file only with std::invalid_argument (UsageError).

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "experiments/cli.hpp"
#include "fuzz/support.hpp"

namespace {

/// Whether `text` holds a placeholder of Boost.ProgramOptions' error messages. Boost 1.74 fills
/// them in by replacing each placeholder until none is left, so an option name or value that
/// itself contains one makes the error message loop forever, growing (`nif train --config F`
/// with a line "x%canonical_option% = 1" hangs; so does `nif train --epochs=%value%`).
/// experiments::parse has to refuse such text before Boost sees it; until it does, these inputs
/// are skipped (tests/data/fuzz/config_file/ holds the one the fuzzer found).
bool has_boost_placeholder(std::string_view text) {
  for (const std::string_view placeholder : {"%canonical_option%", "%option%", "%value%", "%prefix%", "%original_token%"})
    if (text.find(placeholder) != std::string_view::npos) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (has_boost_placeholder(fuzz::text(data, size))) return 0;
  experiments::ExperimentFlags flags;
  std::string config;
  experiments::po::options_description desc;
  flags.add_to(desc);
  desc.add_options()("config", experiments::po::value(&config), "options file");
  const auto file = fuzz::scratch_file(".cfg", fuzz::bytes(data, size));
  fuzz::refused_with<std::invalid_argument>([&] {
    experiments::parse({"--config", file.string()}, desc);
    (void)flags.config();
  });
  return 0;
}
