// Out-of-core points: a table on disk read part by part (nif::PointFile), its normalisation in
// one pass, the order an epoch reads it in (nif::PointStream), and training from it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "nif/data.hpp"
#include "nif/point_stream.hpp"
#include "nif/trainer.hpp"
#include "nn/npy.hpp"
#include "support/file_error.hpp"
#include "support/scratch_dir.hpp"

using nif::Index;

namespace {

namespace fs = std::filesystem;

/// 20 snapshots of 100 points of a traveling sine, (t, x, u, w), with a positive weight w that varies.
ad::Matrix<float> weighted_wave() {
  ad::Matrix<float> table(2000, 4);
  for (Index r = 0; r < table.rows(); ++r) {
    const float t = float(r / 100) / 20.0f, x = float(r % 100) / 100.0f;
    table.row(r) << t, x, std::sin(6.2831853f * (x - 0.3f * t)), 0.5f + float(r % 7) / 7.0f;
  }
  return table;
}

const nif::Columns kWeighted{.params = {0}, .coords = {1}, .targets = {2}, .weight = 3};

fs::path write_table(const testing::ScratchDir& dir, const ad::Matrix<float>& table) {
  const fs::path file = dir / "points.npy";
  nn::write_npy(file, nn::NpyArray::from_matrix(table));
  return file;
}

void check_close(const std::vector<float>& streamed, const std::vector<float>& in_memory) {
  REQUIRE(streamed.size() == in_memory.size());
  for (std::size_t c = 0; c < streamed.size(); ++c)
    CHECK(std::abs(streamed[c] - in_memory[c]) <= 1e-6f * (1 + std::abs(in_memory[c])));
}

}  // namespace

TEST_CASE("statistics fitted in one pass over a file's parts equal those of the whole table to float rounding") {
  testing::ScratchDir dir;
  const ad::Matrix<float> table = weighted_wave();
  const fs::path file = write_table(dir, table);
  const nif::PointDataset whole = nif::from_table(table, kWeighted);
  for (const auto kind : {nif::Normalization::none, nif::Normalization::standard, nif::Normalization::minmax})
    for (const Index part_rows : {Index(7), Index(2000), Index(5000)}) {
      CAPTURE(nif::name(kind));
      CAPTURE(part_rows);
      nif::PointFile points(file, kWeighted);
      nif::PointDataset scratch;
      const nif::Normalizer streamed = nif::fit_streaming(points, kind, part_rows, scratch);
      const nif::Normalizer expected = nif::Normalizer::fit(whole, kind);
      for (const auto& [a, b] : {std::pair{&streamed.params, &expected.params}, std::pair{&streamed.coords, &expected.coords},
                                 std::pair{&streamed.targets, &expected.targets}}) {
        check_close(a->mean, b->mean);
        check_close(a->scale, b->scale);
      }
      CHECK(streamed.weight_scale == doctest::Approx(expected.weight_scale).epsilon(1e-6));
    }
}

TEST_CASE("a pass visits every row once, in parts of part_rows, in a block order drawn from the RNG") {
  testing::ScratchDir dir;
  ad::Matrix<float> table(2000, 3);
  for (Index r = 0; r < table.rows(); ++r) table.row(r) << float(r), float(r % 13), float(r);
  nif::PointFile file(write_table(dir, table), nif::Columns{.params = {0}, .coords = {1}, .targets = {2}});
  nif::PointStream stream(std::move(file), nif::Normalizer::fit(nif::from_table(table, {{0}, {1}, {2}}), nif::Normalization::none), 300);
  CHECK(stream.block_rows() == 4);  // a 64th of a part

  const auto pass = [&](std::vector<Index>& sizes) {
    std::vector<Index> rows;
    nif::PointDataset part, raw;
    while (stream.next(part, &raw)) {
      sizes.push_back(part.size());
      for (Index r = 0; r < part.size(); ++r) rows.push_back(Index(raw.params(r, 0)));
    }
    return rows;
  };
  nn::Rng rng(5), same(5), other(6);
  std::vector<Index> sizes;
  stream.shuffle(rng);
  const std::vector<Index> order = pass(sizes);
  CHECK(sizes == std::vector<Index>{300, 300, 300, 300, 300, 300, 200});
  std::vector<Index> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<Index> all(2000);
  std::iota(all.begin(), all.end(), Index(0));
  CHECK(sorted == all);
  CHECK(order != all);
  // Blocks stay whole: each run of block_rows rows starting at a multiple of it is consecutive.
  for (std::size_t i = 0; i < order.size(); i += 4) CHECK(order[i + 3] == order[i] + 3);

  std::vector<Index> unused;
  stream.shuffle(same);
  CHECK(pass(unused) == order);
  stream.shuffle(other);
  CHECK(pass(unused) != order);
  stream.rewind();
  CHECK(pass(unused) == all);
}

TEST_CASE("a bad value in a later part is reported with its row in the file") {
  testing::ScratchDir dir;
  ad::Matrix<float> table = weighted_wave();
  table(1500, 2) = NAN;
  nif::PointFile points(write_table(dir, table), kWeighted);
  nif::PointDataset part;
  points.read(0, 1000, part);
  CHECK(part.size() == 1000);
  const std::string message = testing::file_error_message([&] { points.read(1000, 1000, part); });
  CHECK(message.find("points.npy: row 1500, column 2: value is NaN") != std::string::npos);
}

TEST_CASE("training from a stream repeats its loss history bit for bit and lowers the loss") {
  testing::ScratchDir dir;
  const ad::Matrix<float> table = weighted_wave();
  const fs::path file = write_table(dir, table);
  nif::ExperimentConfig cfg = nif::architecture("nif").defaults("low-frequency");
  cfg.train.batch_size = 128;
  cfg.train.threads = 2;
  cfg.train.seed = 3;
  cfg.train.schedule = "constant";
  cfg.train.base_lr = 1e-3;
  const auto history = [&](Index part_rows) {
    nif::PointFile points(file, kWeighted);
    nif::PointDataset scratch;
    const nif::Normalizer normalizer = nif::fit_streaming(points, nif::Normalization::standard, 100, scratch);
    nif::Trainer trainer(cfg, std::make_unique<nif::PointStream>(std::move(points), normalizer, part_rows));
    std::vector<double> losses;
    for (int e = 0; e < 16; ++e) losses.push_back(trainer.train_epoch().loss);
    CHECK(std::isfinite(trainer.evaluate_loss()));
    return losses;
  };
  const std::vector<double> a = history(512);
  CHECK(a == history(512));
  CHECK(a.back() < 0.8 * a.front());
  CHECK(a != history(1024));  // another part size reads another order
}

TEST_CASE("a trainer refuses streamed parts that would cut batches short, and L-BFGS fine-tuning") {
  testing::ScratchDir dir;
  const fs::path file = write_table(dir, weighted_wave());
  nif::ExperimentConfig cfg = nif::architecture("pytorch").defaults("low-frequency");
  cfg.train.batch_size = 128;
  const auto make = [&](Index part_rows) {
    nif::PointFile points(file, kWeighted);
    nif::PointDataset scratch;
    const nif::Normalizer normalizer = nif::fit_streaming(points, nif::Normalization::standard, 100, scratch);
    const nif::Trainer trainer(cfg, std::make_unique<nif::PointStream>(std::move(points), normalizer, part_rows));
  };
  CHECK_THROWS_WITH_AS(make(500), "parts of 500 points are not a multiple of the batch size 128", std::invalid_argument);
  cfg.finetune.lbfgs_iterations = 5;
  CHECK_THROWS_WITH_AS(make(512), doctest::Contains("--memory-budget"), std::invalid_argument);
}
