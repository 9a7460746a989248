// `nif train --memory-budget`: a file larger than the budget trained from part by part, resumed
// exactly, and the options that need all points in memory refused.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nn/npy.hpp"
#include "support/cli.hpp"
#include "support/scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;
using testing::nif_cli;

/// 100 snapshots of 1000 points of a traveling sine, (t, x, u) as float32: 1.2 MB, more than
/// the smallest budget (1 MB).
fs::path write_wave(const testing::ScratchDir& dir) {
  ad::Matrix<float> table(100'000, 3);
  for (ad::Index r = 0; r < table.rows(); ++r) {
    const float t = float(r / 1000) / 100.0f, x = float(r % 1000) / 1000.0f;
    table.row(r) << t, x, std::sin(6.2831853f * (x - 0.3f * t));
  }
  const fs::path file = dir / "wave.npy";
  nn::write_npy(file, nn::NpyArray::from_matrix(table));
  return file;
}

std::vector<std::string> train(const fs::path& data, const fs::path& out, int epochs, std::vector<std::string> more = {},
                               const std::string& batch_size = "1024") {
  std::vector<std::string> args{"train", "--data", data.string(), "--param-cols", "0", "--input-cols", "1", "--output-cols", "2",
                                "--arch", "pytorch", "--batch-size", batch_size, "--epochs", std::to_string(epochs),
                                "--checkpoint-every", "1", "--quiet", "--out", out.string()};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::string loss_lines(const fs::path& run) {
  std::string text = testing::read_text(run / "log.csv"), losses;
  for (const std::string& line : testing::lines_of(text)) losses += line.substr(0, line.find(',', line.find(',') + 1)) + "\n";
  return losses;
}

}  // namespace

TEST_CASE("train --memory-budget smaller than the file trains part by part, resumes exactly and reports its errors") {
  testing::ScratchDir dir;
  const fs::path data = write_wave(dir);
  REQUIRE(fs::file_size(data) > (std::size_t(1) << 20));
  REQUIRE(nif_cli(train(data, dir / "straight", 3, {"--memory-budget", "1"})).code == 0);
  const nlohmann::json m = testing::read_json(dir / "straight" / "metrics.json");
  CHECK(m["epochs"] == 3);
  CHECK(m["final_loss"].get<double>() < 1.0);
  CHECK(std::isfinite(m["final_eval_loss"].get<double>()));
  CHECK(m["train_rel_l2"].get<double>() > 0);
  CHECK(testing::read_json(dir / "straight" / "config.json")["train"]["memory_budget"] == 1);

  REQUIRE(nif_cli(train(data, dir / "resumed", 2, {"--memory-budget", "1"})).code == 0);
  REQUIRE(nif_cli({"train", "--resume", "--epochs", "3", "--quiet", "--out", (dir / "resumed").string()}).code == 0);
  CHECK(loss_lines(dir / "resumed") == loss_lines(dir / "straight"));
}

TEST_CASE("--memory-budget refuses what needs every point in memory, files it cannot read in parts, and budgets below a batch") {
  testing::ScratchDir dir;
  const fs::path data = write_wave(dir);
  const auto refused = [&](std::vector<std::string> args, const std::string& expected) {
    CAPTURE(expected);
    const testing::CliResult r = nif_cli(args);
    CHECK(r.code == 2);
    CHECK(r.err.find(expected) != std::string::npos);
    CHECK(testing::lines_of(r.err).size() == 1);
  };
  refused(train(data, dir / "a", 1, {"--memory-budget", "1", "--holdout", "points:5"}), "--holdout");
  refused(train(data, dir / "b", 1, {"--memory-budget", "1", "--finetune", "lbfgs:5"}), "--finetune");
  refused({"train", "--case", "low-frequency", "--memory-budget", "1", "--quiet", "--out", (dir / "c").string()}, "--data FILE");
  refused(train(data, dir / "d", 1, {"--memory-budget", "1"}, "65536"), "fewer than one batch");
  const fs::path csv = dir / "wave.csv";
  std::ofstream(csv) << "t,x,u\n0,0,0\n0,1,1\n";
  refused(train(csv, dir / "e", 1, {"--memory-budget", "1"}, "1"), "cannot be read in parts");
}
