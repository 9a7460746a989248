#include <doctest/doctest.h>

#include <numeric>
#include <vector>

#include "nif/data.hpp"
#include "nif/model.hpp"
#include "nif/trainer.hpp"
#include "support/alloc_counter.hpp"

using nif::Index;

namespace {

nif::PointDataset normalized_wave(nif::WaveCase wave_case) {
  const nif::PointDataset raw = nif::from_table(nif::traveling_wave(wave_case), nif::traveling_wave_columns());
  return nif::Normalizer::fit(raw, nif::default_normalization(wave_case)).apply(raw);
}

nif::ExperimentConfig config(const std::string& arch, const std::string& case_name, int threads) {
  nif::ExperimentConfig cfg = nif::architecture(arch).defaults(case_name);
  cfg.train.threads = threads;
  cfg.train.seed = 7;
  return cfg;
}

/// Relative 2-norm distance.
double relative_difference(const ad::Vector<float>& a, const ad::Vector<float>& b) {
  return double((a - b).norm()) / double(b.norm());
}

}  // namespace

TEST_CASE("split across threads, a batch's loss and gradient equal the one-thread ones up to rounding") {
  for (const std::string arch : {"upstream", "functional", "pytorch"}) {
    for (const std::string case_name : {"low-frequency", "high-frequency"}) {
      CAPTURE(arch);
      CAPTURE(case_name);
      const nif::PointDataset data = normalized_wave(nif::parse_wave_case(case_name));
      // In fp32: the emulated fp16 of the TensorFlow ports rounds each slice's adjoints on its own.
      nif::ExperimentConfig c1 = config(arch, case_name, 1), c3 = config(arch, case_name, 3);
      c1.compute_precision = c3.compute_precision = "fp32";
      nif::Trainer one(c1, data), three(c3, data);
      REQUIRE(one.parameters().values() == three.parameters().values());
      // 1 row leaves two workers without rows; 2 rows one; 513 rows cut a snapshot between workers.
      for (Index n : {Index(1), Index(2), Index(513)}) {
        std::vector<Index> rows(static_cast<std::size_t>(n));
        for (Index i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = (i * 37) % data.size();
        const double loss1 = one.compute_gradient(rows);
        const ad::Vector<float> grad1 = one.parameters().grads();
        const double loss3 = three.compute_gradient(rows);
        CHECK(loss3 == doctest::Approx(loss1).epsilon(1e-5));
        // Measured up to 5e-5 (SIREN gradients cancel); a slice weighted wrongly is off by > 0.1.
        CHECK(relative_difference(three.parameters().grads(), grad1) < 2e-4);
      }
    }
  }
}

TEST_CASE("with the same seed and thread count, multi-threaded training repeats its loss history bit for bit") {
  const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
  nif::Trainer a(config("pytorch", "low-frequency", 2), data), b(config("pytorch", "low-frequency", 2), data);
  for (int e = 0; e < 3; ++e) CHECK(a.train_epoch().loss == b.train_epoch().loss);
  CHECK(a.parameters().values() == b.parameters().values());
}

TEST_CASE("multi-threaded training follows the one-thread loss history up to rounding") {
  const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
  // pytorch (fp32) has the workers update their parts of the parameters; the fp32 run of
  // functional with AdaBelief's gradient centralisation updates them on one thread.
  for (const std::string arch : {"pytorch", "functional"}) {
    CAPTURE(arch);
    nif::ExperimentConfig c1 = config(arch, "low-frequency", 1), c2 = config(arch, "low-frequency", 2);
    c1.compute_precision = c2.compute_precision = "fp32";
    if (arch == "functional") {
      c1.optimizer.name = c2.optimizer.name = "adabelief";
      c1.optimizer.gradient_centralization = c2.optimizer.gradient_centralization = true;
      c1.defects.dead_centralization = c2.defects.dead_centralization = false;
    }
    nif::Trainer one(c1, data), two(c2, data);
    for (int e = 0; e < 5; ++e) CHECK(two.train_epoch().loss == doctest::Approx(one.train_epoch().loss).epsilon(1e-4));
    CHECK(relative_difference(two.parameters().values(), one.parameters().values()) < 1e-3);
  }
}

TEST_CASE("emulated fp16 training with loss scaling runs split across threads like on one") {
  const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
  nif::ExperimentConfig c1 = config("upstream", "low-frequency", 1), c2 = config("upstream", "low-frequency", 2);
  REQUIRE(c1.precision() == ad::Precision::fp16);
  nif::Trainer one(c1, data), two(c2, data);
  for (int e = 0; e < 3; ++e) CHECK(two.train_epoch().loss == doctest::Approx(one.train_epoch().loss).epsilon(1e-3));
  CHECK(two.optimizer().steps() == one.optimizer().steps());
  CHECK(relative_difference(two.parameters().values(), one.parameters().values()) < 1e-3);
}

TEST_CASE("a step whose scaled gradient overflows float16 is skipped on every thread count, halving the scale") {
  const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    nif::Trainer trainer(config("upstream", "low-frequency", threads), data);
    nlohmann::json state = trainer.state_json();
    state["loss_scale"]["scale"] = 1e30;  // every fp16 adjoint overflows
    trainer.restore_state(state);
    const ad::Vector<float> before = trainer.parameters().values();
    trainer.train_epoch();  // 4 batches
    CHECK(trainer.loss_scale().skipped_steps == 4);
    CHECK(trainer.loss_scale().scale == 1e30 / 16);
    CHECK(trainer.optimizer().steps() == 0);
    CHECK(trainer.parameters().values() == before);
    // A scale that fits lets the steps through again.
    state = trainer.state_json();
    state["loss_scale"]["scale"] = 1.0;
    trainer.restore_state(state);
    trainer.train_epoch();
    CHECK(trainer.loss_scale().skipped_steps == 4);
    CHECK(trainer.optimizer().steps() == 4);
    CHECK(trainer.parameters().values() != before);
    // Steps unscale before testing finiteness, which needs a scale of at least 1.
    for (const double bad : {0.5, 0.0, -2.0}) {
      state["loss_scale"]["scale"] = bad;
      CHECK_THROWS_AS(trainer.restore_state(state), std::invalid_argument);
    }
  }
}

TEST_CASE("training with batches cut by thread speed follows the one-thread loss history up to rounding") {
  const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
  nif::ExperimentConfig c1 = config("pytorch", "low-frequency", 1), c2 = config("pytorch", "low-frequency", 2);
  c2.train.balance_threads = true;
  nif::Trainer one(c1, data), two(c2, data);
  for (int e = 0; e < 5; ++e) CHECK(two.train_epoch().loss == doctest::Approx(one.train_epoch().loss).epsilon(1e-4));
  CHECK(relative_difference(two.parameters().values(), one.parameters().values()) < 1e-3);
}

TEST_CASE("compute_gradient refuses an empty selection and rows outside the data") {
  const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
  nif::Trainer trainer(config("pytorch", "low-frequency", 1), data);
  CHECK_THROWS_AS(trainer.compute_gradient({}), std::invalid_argument);
  const std::vector<Index> outside{0, data.size()};
  CHECK_THROWS_AS(trainer.compute_gradient(outside), std::invalid_argument);
}

TEST_CASE("a trainer refuses a thread count below one") {
  const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
  CHECK_THROWS_AS(nif::Trainer(config("pytorch", "low-frequency", 0), data), std::invalid_argument);
}

TEST_CASE("flushing subnormals to zero leaves the loss history unchanged to float precision") {
  const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
  nif::ExperimentConfig strict = config("pytorch", "low-frequency", 1), flushed = strict;
  strict.train.flush_subnormals = false;
  REQUIRE(flushed.train.flush_subnormals);
  nif::Trainer a(strict, data), b(flushed, data);
  for (int e = 0; e < 30; ++e) CHECK(b.train_epoch().loss == doctest::Approx(a.train_epoch().loss).epsilon(1e-6));
}

TEST_CASE("after warm-up, the gradient of a batch split across threads allocates nothing") {
  // Per-sample ParameterNet inputs: with one input, the grouped hyper layer's backward
  // (autodiff/ops/hyper.hpp) still has Eigen allocate a temporary; see issue 12.
  const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
  for (const std::string arch : {"pytorch", "upstream"}) {
    for (int threads : {1, 2}) {
      CAPTURE(arch);
      CAPTURE(threads);
      nif::ExperimentConfig cfg = config(arch, "low-frequency", threads);
      cfg.train.group_by_params = false;
      nif::Trainer trainer(cfg, data);
      std::vector<Index> rows(static_cast<std::size_t>(cfg.train.batch_size));
      for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = Index(i * 7) % data.size();
      trainer.compute_gradient(rows);  // warm-up: tapes and scratch reach their working size
      const std::size_t before = testing::allocation_count();
      for (int s = 0; s < 3; ++s) trainer.compute_gradient(rows);
      trainer.compute_gradient(std::span<const Index>(rows).first(3));
      if (testing::kAllocationCounting) CHECK(testing::allocation_count() == before);
    }
  }
}
