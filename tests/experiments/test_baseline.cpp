// Held-out evaluation from the command line: `nif baseline pod` and `nif train --holdout`, their
// outputs and their one-line errors for bad specs, values and ranks.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "nn/npy.hpp"
#include "support/cli.hpp"
#include "support/scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;
using ad::Index;
using testing::CliResult;
using testing::lines_of;
using testing::nif_cli;
using testing::read_text;
using testing::ScratchDir;

using testing::read_json;

/// Columns (t, x, u, v, area): 9 snapshots t = 0, 0.25, …, 2 of 10 points, each field the mean
/// plus two modes whose coefficients are cubics in t (so rank 2 with not-a-knot cubic
/// coefficients predicts held-out times exactly).
fs::path write_snapshots(const ScratchDir& dir) {
  ad::Matrix<float> m(90, 5);
  for (Index s = 0; s < 9; ++s)
    for (Index i = 0; i < 10; ++i) {
      const double t = 0.25 * double(s), x = 0.1 * double(i * i) / 9.0;
      const double a = t * t * t - t, b = t * t + 0.5 * t;
      m.row(10 * s + i) << float(t), float(x), float(1 + x + a * std::sin(3 * x) + b * std::cos(2 * x)),
          float(x * x + a * std::cos(5 * x) - b * x), float(0.1 + x);
    }
  const fs::path file = dir / "snapshots.npy";
  nn::write_npy(file, nn::NpyArray::from_matrix(m));
  return file;
}

std::vector<std::string> pod_args(const fs::path& data, const std::string& holdout, const std::string& rank) {
  return {"baseline", "pod", "--data", data.string(), "--input-cols", "1", "--output-cols", "2,3", "--weight-col", "4",
          "--holdout", holdout, "--rank", rank};
}

std::vector<std::string> train_args(const fs::path& data, const fs::path& out, const std::string& holdout, int epochs) {
  return {"train", "--data", data.string(), "--input-cols", "1", "--output-cols", "2,3", "--weight-col", "4",
          "--holdout", holdout, "--epochs", std::to_string(epochs), "--batch-size", "16", "--log-every", "2",
          "--checkpoint-every", "0", "--schedule", "constant", "--quiet", "--out", out.string()};
}

void check_one_line_error(const std::vector<std::string>& args, const std::string& expected) {
  std::string shown;
  for (const auto& a : args) shown += a + " ";
  CAPTURE(shown);
  const CliResult r = nif_cli(args);
  CHECK(r.code == 2);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.find(expected) != std::string::npos);
}

}  // namespace

TEST_CASE("nif baseline pod prints errors and stored values per rank and writes metrics.json") {
  ScratchDir tmp;
  const fs::path data = write_snapshots(tmp);
  auto args = pod_args(data, "every:3", "1,2");
  args.insert(args.end(), {"--out", (tmp / "pod").string()});
  const CliResult r = nif_cli(args);
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("6 training snapshots") != std::string::npos);
  CHECK(r.out.find("interpolated in p0") != std::string::npos);
  const auto m = read_json(tmp / "pod" / "metrics.json");
  REQUIRE(m["results"].size() == 4);  // ranks 1, 2 × linear, cubic
  // Rank 2: 2 modes × 10 points × 2 fields + the mean (20) + 2 coefficients × 6 snapshots.
  const auto& cubic2 = m["results"][3];
  CHECK(cubic2["rank"] == 2);
  CHECK(cubic2["interpolation"] == "cubic");
  CHECK(cubic2["stored_values"] == 2 * 20 + 20 + 2 * 6);
  CHECK(cubic2["test_rel_l2"].get<double>() < 1e-5);
  CHECK(m["results"][2]["test_rel_l2"].get<double>() > 1e-4);  // linear in t is not exact
  REQUIRE(cubic2["test_snapshots"].size() == 3);
  CHECK(cubic2["test_snapshots"][0]["params"]["p0"] == 0.5);
  CHECK(cubic2.contains("test_rel_l2_f1"));
  CHECK(r.out.find("|    2 | cubic  |            72 |") != std::string::npos);
}

TEST_CASE("nif baseline pod refuses bad specs, absent values, too high ranks and moving points with one line") {
  ScratchDir tmp;
  const fs::path data = write_snapshots(tmp);
  check_one_line_error(pod_args(data, "every:3", "7"), "rank 7 is not between 1 and the number of training snapshots (6)");
  check_one_line_error(pod_args(data, "every:1", "2"), "K must be at least 2");
  check_one_line_error(pod_args(data, "sometimes", "2"), "--holdout 'sometimes'");
  check_one_line_error(pod_args(data, "param:0=0.3", "2"), "the value 0.3 is not in the data (present: 0, 0.25, 0.5");
  check_one_line_error(pod_args(data, "points:3", "2"), "POD predicts whole snapshots");
  check_one_line_error(pod_args(data, "every:3", "two"), "--rank");
  auto spline = pod_args(data, "every:3", "2");
  spline.insert(spline.end(), {"--interpolation", "spline"});
  check_one_line_error(spline, "unknown interpolation 'spline'");
  check_one_line_error({"baseline", "dmd"}, "unknown baseline 'dmd'");
  check_one_line_error({"baseline", "pod", "--data", data.string()}, "are required");
  // One point moved in one snapshot: not a fixed set of points.
  auto table = nn::read_npy(data).to_matrix<float>();
  table(35, 1) += 0.01f;
  nn::write_npy(tmp / "moved.npy", nn::NpyArray::from_matrix(table));
  check_one_line_error(pod_args(tmp / "moved.npy", "every:3", "2"), "POD needs the same points");
}

TEST_CASE("nif train --holdout logs test errors every interval, reports them per snapshot and keeps the split on resume") {
  ScratchDir tmp;
  const fs::path data = write_snapshots(tmp), run = tmp / "run";
  const CliResult r = nif_cli(train_args(data, run, "every:3", 4));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(read_json(run / "config.json")["holdout"] == "every:3");
  const auto log = lines_of(read_text(run / "log.csv"));
  REQUIRE(log.size() == 5);
  CHECK(log[0] == "epoch,loss,lr,samples_per_s,seed_points_per_s,elapsed_s,test_mse,test_rel_l2,test_rel_l2_f0,test_rel_l2_f1");
  CHECK(log[1].find(",,") == std::string::npos);   // epoch 1 is logged
  CHECK(log[3].rfind(",,,,") == log[3].size() - 4);  // epoch 3 is not
  const auto m = read_json(run / "metrics.json");
  CHECK(m["holdout"] == "every:3");
  CHECK(m["test_points"] == 30);
  CHECK(m["test_rel_l2"].get<double>() > 0);
  CHECK(m["test_mse"].get<double>() > 0);
  REQUIRE(m["test_snapshots"].size() == 3);
  CHECK(m["test_snapshots"][2]["params"]["p0"] == 2.0);
  CHECK(m["test_snapshots"][2].contains("rel_l2_f0"));

  auto other = train_args(data, run, "every:2", 6);
  other.push_back("--resume");
  check_one_line_error(other, "the checkpoint was written with --holdout 'every:3', not 'every:2'");
  auto more = train_args(data, run, "every:3", 6);
  more.push_back("--resume");
  REQUIRE(nif_cli(more).code == 0);
  const auto resumed = lines_of(read_text(run / "log.csv"));
  REQUIRE(resumed.size() == 7);
  CHECK(resumed[2] == log[2]);  // the earlier test errors are kept
  CHECK(resumed[6].find(",,") == std::string::npos);
}

TEST_CASE("nif train --holdout points:K reports the held-out MSE; bad specs and values exit 2 before training") {
  ScratchDir tmp;
  const fs::path data = write_snapshots(tmp);
  REQUIRE(nif_cli(train_args(data, tmp / "points", "points:5", 2)).code == 0);
  const auto m = read_json(tmp / "points" / "metrics.json");
  CHECK(m["test_points"] == 18);
  CHECK(m["test_mse"].get<double>() > 0);
  check_one_line_error(train_args(data, tmp / "bad", "every:x", 2), "K is not an integer");
  check_one_line_error(train_args(data, tmp / "bad", "param:t=1", 2), "no such ParameterNet column");
  check_one_line_error(train_args(data, tmp / "bad", "param:0=7", 2), "the value 7 is not in the data");
  check_one_line_error(train_args(data, tmp / "bad", "file:" + (tmp / "none.npy").string(), 2), "none.npy");
  CHECK_FALSE(fs::exists(tmp / "bad"));
}
