// The experiment config reader: nif::experiment_config_from_json on any JSON document, which may
// refuse it only with std::invalid_argument; an accepted config must survive to_json unchanged.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>

#include "fuzz/support.hpp"
#include "nif/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto json = nlohmann::json::parse(fuzz::text(data, size), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  nif::ExperimentConfig config;
  if (fuzz::refused_with<std::invalid_argument>([&] { config = nif::experiment_config_from_json(json); })) return 0;
  const auto written = nif::to_json(config);
  fuzz::require(nif::to_json(nif::experiment_config_from_json(written)) == written,
                "an accepted config reads back unchanged after to_json");
  return 0;
}
