// The experiment flags are generated from the config's field table and the architectures' declared
// options: every flag reaches config.json, model dimensions change the model, bad values exit 2
// with one line naming the flag, and a run folder alone rebuilds its model for predict.

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "experiments/cli.hpp"
#include "nif/model.hpp"
#include "support/cli.hpp"
#include "support/scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;
using testing::nif_cli;

/// A value other than `current` that the field accepts, as its flag text.
std::string other_value(const nif::ConfigField& f, const nlohmann::json& current) {
  if (current.is_boolean()) return current.get<bool>() ? "false" : "true";
  if (current.is_number_integer()) return std::to_string(current.get<std::int64_t>() + 1);
  if (current.is_number()) return std::to_string(current.get<double>() == 0 ? 0.5 : current.get<double>() / 2);
  for (const char* candidate : {"tanh", "pytorch", "keras", "sgd", "cosine", "minmax", "fp32", "bf16", "constant", "lbfgs:3", "fp64", "global", "layer", "0.006:1"})
    if (candidate != current.get<std::string>()) {
      try {
        nif::ExperimentConfig probe;
        f.set(probe, candidate);
        return candidate;
      } catch (const std::invalid_argument&) {
      }
    }
  FAIL("no other value for " << f.flag);
  return {};
}

const nlohmann::json& at(const nlohmann::json& j, const nif::ConfigField& f) {
  return f.section.empty() ? j.at(f.key) : j.at(f.section).at(f.key);
}

}  // namespace

TEST_CASE("every flag of the field table changes its field and only its field") {
  for (const nif::ConfigField& f : nif::experiment_fields()) {
    // --preset stands for several flags (test_finetune_cli.cpp checks what it sets).
    if (f.flag.empty() || f.flag == "arch" || f.flag == "case" || f.flag == "preset") continue;
    CAPTURE(f.flag);
    const nlohmann::json base = nif::to_json(experiments::ExperimentFlags{}.config(true));
    experiments::ExperimentFlags flags;
    flags.set(f.flag, f.is_switch ? "true" : other_value(f, at(base, f)));
    nlohmann::json changed;
    try {
      changed = nif::to_json(flags.config(true));
    } catch (const std::invalid_argument& e) {
      FAIL(e.what());
    }
    CHECK(at(changed, f) != at(base, f));
    CHECK(nlohmann::json::diff(base, changed).size() == 1);
  }
}

TEST_CASE("model dimensions from flags change the model's parameters") {
  const auto count = [](std::vector<std::pair<std::string, std::string>> given) {
    experiments::ExperimentFlags flags;
    for (const auto& [flag, value] : given) flags.set(flag, value);
    auto model = nif::make_model<float>(flags.config(true));
    return std::pair{model->parameter_count(), model->generated().size()};
  };
  const auto base = count({});
  for (const char* flag : {"shape-units", "shape-layers", "pnet-units", "pnet-layers", "latent-dim"}) {
    CAPTURE(flag);
    CHECK(count({{flag, "7"}}) != base);
  }
  CHECK(count({{"resblock", "true"}}).second > base.second);
  // Activations and ω0 change values, not counts: the model's output differs.
  const auto output = [](std::vector<std::pair<std::string, std::string>> given) {
    experiments::ExperimentFlags flags;
    for (const auto& [flag, value] : given) flags.set(flag, value);
    auto model = nif::make_model<double>(flags.config(true));
    ad::ParameterBuffer<double> params;
    nn::Rng rng(1);
    model->bind(params, rng);
    ad::Tape<double> tape;
    return ad::Matrix<double>(model->forward(tape.constant(ad::Matrix<double>::Constant(2, 1, 0.3)),
                                             tape.constant(ad::Matrix<double>::Constant(2, 1, 0.7)))
                                  .value());
  };
  const ad::Matrix<double> u = output({});
  for (auto [flag, value] : {std::pair{"shape-activation", "tanh"}, {"pnet-activation", "tanh"}, {"omega0", "3"}}) {
    CAPTURE(flag);
    CHECK(output({{flag, value}}) != u);
  }
}

TEST_CASE("a bad model flag exits 2 with one line naming the flag and the accepted range") {
  testing::ScratchDir tmp;
  const std::string data = std::string(NIF_TEST_DATA_DIR) + "/csv/points.csv";
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"train", "--data", data, "--epochs", "1", "--quiet", "--out", (tmp / "run").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return nif_cli(args);
  };
  const auto r = run({"--shape-units", "0"});
  CHECK(r.code == 2);
  CHECK(r.err == "nif train: --shape-units must be an integer from 1 to 65536 (got 0)\n");
  CHECK(run({"--omega0", "-3"}).err == "nif train: --omega0 must be a number in (0, 10000] (got -3.0)\n");
  CHECK(run({"--shape-activation", "cosh"}).code == 2);
  CHECK(run({"--case", "low-frequency"}).err == "nif train: --case does not apply with --data: your data is the case\n");
  CHECK_FALSE(fs::exists(tmp / "run"));
}

TEST_CASE("--resume rebuilds the run's model from its folder: no model flag is needed, a different one is refused") {
  testing::ScratchDir tmp;
  const std::string run = (tmp / "run").string();
  REQUIRE(nif_cli({"train", "--arch", "nif", "--case", "high-frequency", "--shape-units", "7", "--latent-dim", "3",
                   "--epochs", "2", "--quiet", "--out", run})
              .code == 0);
  const auto resumed = nif_cli({"train", "--resume", "--epochs", "3", "--quiet", "--out", run});
  CHECK_MESSAGE(resumed.code == 0, resumed.err);
  const auto cfg = nlohmann::json::parse(testing::read_text(tmp / "run" / "config.json"));
  CHECK(cfg["architecture"] == "nif");
  CHECK(cfg["shape_net"]["units"] == 7);
  CHECK(cfg["parameter_net"]["latent_dim"] == 3);
  CHECK(cfg["train"]["epochs"] == 3);
  const auto other = nif_cli({"train", "--resume", "--arch", "upstream", "--quiet", "--out", run});
  CHECK(other.code == 2);
  CHECK(other.err == "nif train: --arch upstream: the run was trained with --arch nif\n");
  CHECK(nif_cli({"train", "--resume", "--shape-units", "8", "--quiet", "--out", run}).code == 2);
}
