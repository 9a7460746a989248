// Experiment configs the fuzz target fuzz/fuzz_config_json.cpp found mishandled (saved in
// tests/data/fuzz/config_json/): an integer field holding a float outside the C++ type's range was
// converted with undefined behaviour. Integer fields now take JSON integers in range only.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "nif/config.hpp"

namespace {

/// The message experiment_config_from_json refuses `json` with (empty if it accepts it).
std::string refusal(const nlohmann::json& json) {
  try {
    nif::experiment_config_from_json(json);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("the saved config with a 3e19 input_dim is refused with invalid_argument naming a field") {
  std::ifstream in(std::filesystem::path(NIF_TEST_DATA_DIR) / "fuzz" / "config_json" / "integer_field_out_of_range.json");
  REQUIRE(in);
  // Its architecture is empty too, and the fields are checked in table order.
  CHECK(refusal(nlohmann::json::parse(in)) == "invalid experiment config: --arch: an architecture name is needed");
  nlohmann::json j = nif::to_json(nif::ExperimentConfig{});
  j["shape_net"]["input_dim"] = nlohmann::json::parse("30000000000000000001");
  CHECK(refusal(j) == "invalid experiment config: shape_net.input_dim must be an integer from 1 to 65536 (got 3e+19)");
}

TEST_CASE("integer config fields accept JSON integers in range and refuse floats and values out of range") {
  const nlohmann::json valid = nif::to_json(nif::ExperimentConfig{});
  const auto with = [&](const char* key, const nlohmann::json& value) {
    nlohmann::json j = valid;
    j["train"][key] = value;
    return j;
  };
  CHECK(refusal(valid).empty());
  CHECK(nif::experiment_config_from_json(with("epochs", 100000000)).train.epochs == 100000000);
  CHECK(nif::experiment_config_from_json(with("seed", INT64_MAX)).train.seed == std::uint64_t(INT64_MAX));
  CHECK(refusal(with("epochs", 2147483648)) ==
        "invalid experiment config: --epochs must be an integer from 0 to 100000000 (got 2147483648)");
  CHECK(refusal(with("epochs", 1e300)).find("--epochs must be an integer") != std::string::npos);
  CHECK(refusal(with("epochs", 5.0)).find("--epochs must be an integer") != std::string::npos);
  CHECK(refusal(with("seed", -1)) == "invalid experiment config: --seed must be an integer from 0 to 9223372036854775807 (got -1)");
  CHECK(refusal(with("seed", UINT64_MAX)).find("--seed must be an integer") != std::string::npos);
  CHECK(refusal(with("batch_size", -1.5)).find("--batch-size must be an integer") != std::string::npos);
}
