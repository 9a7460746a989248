// `nif train --resume --out DIR` from the run folder alone: the recorded data file, its content
// hash and columns; flags given again must agree; the newest checkpoint that loads is used.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "nn/checkpoint.hpp"
#include "nn/files.hpp"
#include "support/cli.hpp"
#include "support/scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;
using testing::nif_cli;
using testing::read_json;
using testing::ScratchDir;

/// 10 snapshots of 20 points with a CSV header, `shift` added to every target.
void write_points(const fs::path& file, double shift = 0) {
  std::string csv = "t,x,u\n";
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < 20; ++j) csv += fmt::format("{},{},{}\n", i, j / 20.0, std::sin(j / 3.0 + i) + shift);
  nn::write_file_atomically(file, csv);
}

std::vector<std::string> train(const fs::path& data, const fs::path& run, int epochs) {
  // A constant schedule: nif's default warmup-cosine is stretched over the epochs and cannot be extended.
  return {"train", "--data", data.string(), "--param-cols", "t", "--input-cols", "x", "--output-cols", "u", "--batch-size",
          "50", "--schedule", "constant", "--epochs", std::to_string(epochs), "--checkpoint-every", "1", "--quiet",
          "--out", run.string()};
}

std::vector<std::string> resume(const fs::path& run, int epochs, std::vector<std::string> more = {}) {
  std::vector<std::string> args{"train", "--resume", "--epochs", std::to_string(epochs), "--quiet", "--out", run.string()};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

int epochs_in(const fs::path& checkpoint) {
  return nn::read_checkpoint_metadata(checkpoint).at("user").at("trainer").at("epochs_done").get<int>();
}

/// A run of `epochs` (checkpointed after every one) on tmp/points.csv in tmp/run.
struct TrainedRun {
  ScratchDir tmp;
  fs::path data = tmp / "points.csv", run = tmp / "run";
  explicit TrainedRun(int epochs) {
    write_points(data);
    REQUIRE(nif_cli(train(data, run, epochs)).code == 0);
  }
};

}  // namespace

TEST_CASE("a --data run resumes from its folder alone: config.json records the file, its content hash and columns") {
  const TrainedRun t(2);
  const ScratchDir& tmp = t.tmp;
  const fs::path &data = t.data, &run = t.run;
  const auto record = read_json(run / "config.json")["data"];
  CHECK(record["file"] == fs::absolute(data).lexically_normal().string());
  CHECK(record["content_hash"] == nn::content_hash(data));
  CHECK(record["input_cols"] == std::vector<std::string>{"x"});
  const auto r = nif_cli(resume(run, 3));
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK(epochs_in(run / "checkpoint.npz") == 3);
  // The same as one straight run of 3 epochs.
  const fs::path straight = tmp / "straight";
  REQUIRE(nif_cli(train(data, straight, 3)).code == 0);
  CHECK(read_json(run / "metrics.json")["final_loss"] == read_json(straight / "metrics.json")["final_loss"]);
}

TEST_CASE("--resume refuses data flags that differ from the run's, naming the flag; a moved file with the same contents is accepted") {
  const TrainedRun t(2);
  const ScratchDir& tmp = t.tmp;
  const fs::path &data = t.data, &run = t.run;
  const auto cols = nif_cli(resume(run, 3, {"--input-cols", "u"}));
  CHECK(cols.code == 2);
  CHECK(cols.err == "nif train: --input-cols u: the run was trained with --input-cols x\n");
  const auto weight = nif_cli(resume(run, 3, {"--weight-col", "x"}));
  CHECK(weight.code == 2);
  CHECK(weight.err == "nif train: --weight-col x: the run was trained without --weight-col\n");
  fs::rename(data, tmp / "moved.csv");
  CHECK(nif_cli(resume(run, 3)).code == 2);  // the recorded file is gone
  const auto moved = nif_cli(resume(run, 3, {"--data", (tmp / "moved.csv").string(), "--input-cols", "x"}));
  CHECK_MESSAGE(moved.code == 0, moved.err);
  CHECK(epochs_in(run / "checkpoint.npz") == 3);
}

TEST_CASE("--resume on a data file whose contents changed exits 2 naming the content hashes, and trains nothing") {
  const TrainedRun t(2);
  const fs::path &data = t.data, &run = t.run;
  const std::string recorded = nn::content_hash(data);
  write_points(data, 0.5);
  const auto r = nif_cli(resume(run, 3));
  CHECK(r.code == 2);
  CHECK(testing::lines_of(r.err).size() == 1);
  CHECK(r.err.find("not the data the run was trained on (content hash " + nn::content_hash(data)) != std::string::npos);
  CHECK(r.err.find("the run recorded " + recorded) != std::string::npos);
  CHECK(epochs_in(run / "checkpoint.npz") == 2);
}

TEST_CASE("--resume continues from the newest checkpoint that loads and says which") {
  const TrainedRun t(3);  // checkpoint.npz (3), checkpoint-1.npz, checkpoint-2.npz
  const fs::path& run = t.run;
  nn::write_file_atomically(run / "checkpoint.npz", std::string_view("not a checkpoint"));
  auto args = resume(run, 4);
  args.erase(std::find(args.begin(), args.end(), "--quiet"));
  const auto r = nif_cli(args);
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("from epoch 2 (checkpoint-2.npz; not loadable: ") != std::string::npos);
  CHECK(epochs_in(run / "checkpoint.npz") == 4);
  // Without checkpoint.npz the numbered ones are used too.
  fs::remove(run / "checkpoint.npz");
  CHECK(nif_cli(resume(run, 5)).code == 0);
  CHECK(epochs_in(run / "checkpoint.npz") == 5);
}

TEST_CASE("--resume exits 2 when no checkpoint of the run loads, and on a folder that holds no run") {
  const TrainedRun t(2);
  const ScratchDir& tmp = t.tmp;
  const fs::path& run = t.run;
  for (const auto& entry : fs::directory_iterator(run))
    if (entry.path().extension() == ".npz") nn::write_file_atomically(entry.path(), std::string_view("broken"));
  const auto broken = nif_cli(resume(run, 3));
  CHECK(broken.code == 2);
  CHECK(broken.err.find("no checkpoint of the run loads") != std::string::npos);
  CHECK(broken.err.find("checkpoint-best.npz") == std::string::npos);  // for predictions, never resumed from
  const auto missing = nif_cli(resume(tmp / "misspelt", 3));
  CHECK(missing.code == 2);
  CHECK(missing.err.find("no run to resume here") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp / "misspelt"));
  fs::create_directories(tmp / "empty");
  CHECK(nif_cli(resume(tmp / "empty", 3)).code == 2);
}
