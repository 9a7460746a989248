// `nif train` with loss terms, L-BFGS fine-tuning and --preset: what is recorded, written,
// resumed and refused.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nif/config.hpp"
#include "nn/checkpoint.hpp"
#include "support/cli.hpp"
#include "support/scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::lines_of;
using testing::nif_cli;
using testing::read_json;
using testing::read_text;
using testing::ScratchDir;

/// A tiny full-batch SIREN run into `out` with `epochs` Adam epochs and `steps` L-BFGS steps.
std::vector<std::string> tiny_finetune(const fs::path& out, int epochs, int steps) {
  return {"train",           "--arch",       "nif",       "--shape-activation", "sine", "--shape-units", "8", "--pnet-units", "8",
          "--batch-size",    "2000",         "--epochs",  std::to_string(epochs), "--finetune", "lbfgs:" + std::to_string(steps),
          "--log-every",     "1",            "--checkpoint-every", "0", "--quiet", "--out", out.string()};
}

void check_usage_error(std::vector<std::string> args, const std::string& names) {
  const CliResult r = nif_cli(args);
  CAPTURE(r.err);
  CHECK(r.code == 2);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.find(names) != std::string::npos);
  CHECK(r.out.empty());  // refused before any banner
}

}  // namespace

TEST_CASE("negative loss weights, loss terms the model cannot have, fine-tuning without steps and unknown presets exit 2 with one line naming the flag, printing nothing") {
  ScratchDir tmp;
  const std::string out = (tmp / "run").string();
  check_usage_error({"train", "--l1", "-1e-3", "--out", out}, "--l1");
  check_usage_error({"train", "--l2", "-2", "--out", out}, "--l2");
  check_usage_error({"train", "--l2", "lots", "--out", out}, "--l2");
  check_usage_error({"train", "--finetune", "lbfgs:0", "--out", out}, "--finetune");
  check_usage_error({"train", "--finetune", "lbfgs:-5", "--out", out}, "--finetune");
  check_usage_error({"train", "--finetune", "adam:5", "--out", out}, "--finetune");
  check_usage_error({"train", "--finetune-precision", "fp16", "--out", out}, "--finetune-precision");
  check_usage_error({"train", "--preset", "fastest", "--out", out}, "--preset");
  check_usage_error({"train", "--arch", "mlp", "--jacobian-reg", "1", "--out", out}, "--jacobian-reg");
  check_usage_error({"train", "--collocation-points", "10", "--out", out}, "--collocation-points");
  check_usage_error({"train", "--sobolev-weight", "-1", "--out", out}, "--sobolev-weight");
  check_usage_error({"train", "--sobolev-weight", "1", "--out", out}, "--sobolev-weight needs --derivative-cols");
  const std::string data = (tmp / "wave.csv").string();
  std::ofstream(data) << "t,x,u,u_x\n0,0,1,2\n0,1,2,3\n";
  check_usage_error({"train", "--data", data, "--derivative-cols", "u_x", "--out", out}, "--derivative-cols needs --sobolev-weight");
  check_usage_error({"train", "--data", data, "--sobolev-weight", "1", "--derivative-cols", "2,3", "--out", out}, "expected 1");
  check_usage_error({"train", "--data", data, "--sobolev-weight", "1", "--derivative-cols", "u_y", "--out", out}, "no column named 'u_y'");
  CHECK_FALSE(fs::exists(tmp / "run" / "config.json"));
}

TEST_CASE("fine-tuning logs its steps after the epochs with their phase, and keeps the best parameters for predict") {
  ScratchDir tmp;
  const fs::path run = tmp / "run";
  auto flags = tiny_finetune(run, 3, 4);
  flags.insert(flags.end(), {"--l2", "1e-6"});
  const CliResult r = nif_cli(flags);
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto config = read_json(run / "config.json");
  CHECK(config["finetune"]["method"] == "lbfgs:4");
  CHECK(config["loss"]["l2"] == 1e-6);
  const auto log = lines_of(read_text(run / "log.csv"));
  REQUIRE(log.size() == 8);
  CHECK(log[0].ends_with(",phase"));
  CHECK(log[3].ends_with(",adam"));
  CHECK(log[4].rfind("4,", 0) == 0);
  CHECK(log[4].ends_with(",lbfgs"));
  const auto m = read_json(run / "metrics.json");
  CHECK(m["epochs"] == 3);
  CHECK(m["lbfgs_steps"] == 4);

  // checkpoint-best.npz holds the lowest logged loss (L-BFGS only goes down: the last step's).
  const auto best = nn::read_checkpoint_metadata(run / "checkpoint-best.npz")["user"]["best"];
  CHECK(best["epoch"] == 7);
  CHECK(best["loss"].get<double>() == m["final_loss"].get<double>());
  const CliResult predicted = nif_cli({"predict", "--checkpoint", (run / "checkpoint-best.npz").string(), "--data",
                                       std::string(NIF_TEST_DATA_DIR) + "/traveling_wave.npz", "--out", (tmp / "u.npy").string()});
  CHECK(predicted.code == 0);
}

TEST_CASE("--resume extends a run's fine-tuning; its epochs cannot be extended once it fine-tunes") {
  ScratchDir tmp;
  const fs::path run = tmp / "run";
  REQUIRE(nif_cli(tiny_finetune(run, 2, 3)).code == 0);
  auto more = tiny_finetune(run, 2, 6);
  more.push_back("--resume");
  const CliResult r = nif_cli(more);
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto log = lines_of(read_text(run / "log.csv"));
  REQUIRE(log.size() == 9);
  CHECK(log.back().rfind("8,", 0) == 0);
  CHECK(read_json(run / "metrics.json")["lbfgs_steps"] == 6);

  auto longer = tiny_finetune(run, 4, 6);
  longer.push_back("--resume");
  check_usage_error(longer, "fine-tuning");
}

TEST_CASE("--preset accurate records its choices in config.json, prints them, and explicit flags override them") {
  ScratchDir tmp;
  const fs::path run = tmp / "run";
  const CliResult r = nif_cli({"train", "--preset", "accurate", "--epochs", "2", "--finetune", "lbfgs:1", "--shape-units", "6",
                               "--checkpoint-every", "0", "--out", run.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("preset accurate: --arch nif") != std::string::npos);
  CHECK(r.out.find("--shape-units") == std::string::npos);  // overridden, so not the preset's choice
  const auto config = read_json(run / "config.json");
  CHECK(config["preset"] == "accurate");
  CHECK(config["architecture"] == "nif");
  CHECK(config["shape_net"]["units"] == 6);
  CHECK(config["train"]["epochs"] == 2);
  CHECK(config["finetune"]["method"] == "lbfgs:1");
  // Every other choice of the preset is in the config as the preset sets it.
  nif::ExperimentConfig preset = nif::architecture("nif").defaults("low-frequency");
  for (const auto& [flag, value] : nif::preset_settings("accurate", "low-frequency")) {
    if (flag == "arch" || flag == "shape-units" || flag == "epochs" || flag == "finetune") continue;
    CAPTURE(flag);
    for (const nif::ConfigField& f : nif::experiment_fields())
      if (f.flag == flag) {
        f.set(preset, f.parse(value));
        CHECK((f.section.empty() ? config : config[f.section])[f.key] == f.get(preset));
      }
  }
}

TEST_CASE("--preset accurate takes omega0 60 on the high-frequency wave and 3 (with a larger rate) on the low-frequency one, unless given") {
  ScratchDir tmp;
  for (const auto& [case_name, extra, omega0, lr] : {std::tuple{"high-frequency", "", 60.0, 5e-3}, {"low-frequency", "", 3.0, 1e-2},
                                                     {"high-frequency", "45", 45.0, 5e-3}}) {
    CAPTURE(case_name);
    const fs::path run = tmp / (std::string(case_name) + extra);
    std::vector<std::string> args{"train", "--preset", "accurate", "--case", case_name, "--epochs", "1", "--finetune", "none",
                                  "--shape-units", "4", "--quiet", "--out", run.string()};
    if (*extra) args.insert(args.end(), {"--omega0", extra});
    const CliResult r = nif_cli(args);
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto config = read_json(run / "config.json");
    CHECK(config["shape_net"]["omega_0"] == omega0);
    CHECK(config["train"]["base_lr"] == doctest::Approx(lr));
  }
  const auto low = nif::preset_settings("accurate", "low-frequency"), high = nif::preset_settings("accurate", "high-frequency");
  CHECK(std::ranges::count(low, std::pair<std::string, std::string>{"finetune", "lbfgs:6000"}) == 1);
  CHECK(std::ranges::count(high, std::pair<std::string, std::string>{"finetune", "lbfgs:2000"}) == 1);
}
