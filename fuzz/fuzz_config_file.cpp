// The `--config FILE` parser of the nif program (experiments::parse, lines `name = value`) with
// the experiment flags every training command has, then their validation
// (ExperimentFlags::config); both may refuse the file only with std::invalid_argument (UsageError).
// Lines that would make Boost's error messages loop forever are refused by parse itself
// (tests/data/fuzz/config_file/ holds the inputs that found it).

#include <cstdint>
#include <stdexcept>
#include <string>

#include "experiments/cli.hpp"
#include "fuzz/support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
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
