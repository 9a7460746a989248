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

TEST_CASE("after warm-up, the gradient of a batch split across threads allocates nothing, with and without snapshot groups") {
  const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
  for (const std::string arch : {"pytorch", "upstream", "nif"}) {
    for (int threads : {1, 2}) {
      for (bool grouped : {false, true}) {
        CAPTURE(arch);
        CAPTURE(threads);
        CAPTURE(grouped);
        nif::ExperimentConfig cfg = config(arch, "low-frequency", threads);
        cfg.train.group_by_params = grouped;
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
}

namespace {

/// The pytorch port on the low-frequency wave, pruned to `target` from epoch 1 to 3 of 6.
nif::ExperimentConfig pruned_config(double target, const std::string& scope = "layer") {
  nif::ExperimentConfig cfg = config("pytorch", "low-frequency", 1);
  cfg.train.epochs = 6;
  cfg.train.prune = target;
  cfg.train.prune_begin = 1;
  cfg.train.prune_end = 3;
  cfg.train.prune_scope = scope;
  return cfg;
}

}  // namespace

TEST_CASE("pruning follows the cubic schedule to the target at prune_end, then holds the mask; pruned weights stay exactly zero") {
  for (const std::string scope : {"layer", "global"}) {
    CAPTURE(scope);
    nif::Trainer trainer(pruned_config(0.8, scope), normalized_wave(nif::WaveCase::low_frequency));
    ad::Vector<float> held;
    for (int epoch = 0; epoch < 6; ++epoch) {
      trainer.train_epoch();
      const nn::PruneMask<float>& mask = trainer.prune_mask();
      CHECK(mask.active() == (epoch >= 1));
      if (!mask.active()) continue;
      // The mask of epoch e (epochs done) prunes the schedule's fraction, to rounding per matrix.
      CHECK(mask.sparsity(trainer.parameters()) == doctest::Approx(nn::polynomial_sparsity(0.8, 1, 3, std::min(epoch, 3))).epsilon(0.01));
      REQUIRE(((mask.keep().array() == 0) <= (trainer.parameters().values().array() == 0)).all());
      for (const auto& [name, state] : trainer.optimizer().state())
        REQUIRE(((mask.keep().array() == 0) <= (state.array() == 0)).all());
      if (epoch == 3) held = mask.keep();
      if (epoch > 3) CHECK(mask.keep() == held);
    }
    // Biases are never pruned.
    for (const auto& e : trainer.parameters().entries())
      if (!e.is_matrix) CHECK((trainer.prune_mask().keep().segment(e.offset, e.size()).array() == 1).all());
  }
}

TEST_CASE("a pruned model's gradient is zero at the pruned weights and its step allocates nothing after warm-up") {
  nif::ExperimentConfig cfg = pruned_config(0.5);
  nif::Trainer trainer(cfg, normalized_wave(nif::WaveCase::low_frequency));
  trainer.train_epoch();
  trainer.train_epoch();  // the mask exists from the second epoch on
  std::vector<Index> rows(512);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = Index(i * 7) % trainer.data().size();
  trainer.compute_gradient(rows);
  trainer.after_update();
  const std::size_t before = testing::allocation_count();
  trainer.compute_gradient(rows);
  trainer.after_update();
  if (testing::kAllocationCounting) CHECK(testing::allocation_count() == before);
  const auto& keep = trainer.prune_mask().keep();
  CHECK(((keep.array() == 0) <= (trainer.parameters().grads().array() == 0)).all());
}

TEST_CASE("a pruning schedule without an end, ending before its begin or after the last epoch is refused") {
  const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
  nif::ExperimentConfig cfg = pruned_config(0.5);
  cfg.train.prune_end = 0;
  CHECK_THROWS_AS(nif::Trainer(cfg, data), std::invalid_argument);
  cfg.train.prune_begin = 4;
  cfg.train.prune_end = 2;
  CHECK_THROWS_AS(nif::Trainer(cfg, data), std::invalid_argument);
  cfg.train.prune_begin = 1;
  cfg.train.prune_end = 7;
  CHECK_THROWS_AS(nif::Trainer(cfg, data), std::invalid_argument);
}

namespace {

/// A small SIREN `nif` on the low-frequency wave, full-batch, with `epochs` Adam epochs and
/// `steps` L-BFGS steps after them.
nif::ExperimentConfig finetune_config(int epochs, int steps, const std::string& precision = "fp32") {
  nif::ExperimentConfig cfg = config("nif", "low-frequency", 1);
  cfg.shape_net.activation = ad::Activation::sin;
  cfg.shape_net.omega0 = 5;
  cfg.shape_net.units = 10;
  cfg.parameter_net.units = 10;
  cfg.train.batch_size = 2000;
  cfg.train.schedule = "constant";
  cfg.train.base_lr = 1e-2;
  cfg.train.epochs = epochs;
  cfg.finetune.lbfgs_iterations = steps;
  cfg.finetune.precision = precision;
  return cfg;
}

/// Runs the fine-tuning of `t`, stopping after `stop_after` steps of this call (0: never).
nn::LbfgsStop finetune(nif::Trainer& t, int stop_after = 0) {
  int seen = 0;
  return t.finetune([&](const nif::EpochLog&) { return stop_after == 0 || ++seen < stop_after; });
}

}  // namespace

TEST_CASE("L-BFGS fine-tuning after the epochs lowers the loss, logs each step after the epochs and keeps the best parameters") {
  for (const std::string precision : {"fp32", "fp64"}) {
    CAPTURE(precision);
    const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
    nif::Trainer t(finetune_config(50, 30, precision), data);
    while (t.epochs_done() < 50) t.train_epoch();
    const double before = t.evaluate_loss();
    CHECK_FALSE(t.finished());
    finetune(t);
    CHECK(t.finished());
    CHECK(t.epochs_done() == 50);
    REQUIRE(t.finetune_done() == 30);
    const auto& h = t.history();
    REQUIRE(h.size() == 80);
    CHECK_FALSE(h[49].lbfgs);
    CHECK(h[50].lbfgs);
    CHECK(h.back().epoch == 80);
    // A line search that satisfies sufficient decrease never raises the loss.
    for (std::size_t i = 51; i < h.size(); ++i) CHECK(h[i].loss <= h[i - 1].loss);
    const double after = t.evaluate_loss();
    CHECK(after < 0.8 * before);  // measured: 0.72
    // The logged loss is the full-batch loss of the parameters left in the trainer (fp64: before
    // rounding them to float).
    CHECK(after == doctest::Approx(h.back().loss).epsilon(1e-3));
    CHECK(t.best_loss() == h.back().loss);
    CHECK(t.best_epoch() == 80);
    CHECK(t.best_parameters().values() == t.parameters().values());
  }
}

TEST_CASE("the best parameters are those of the lowest logged loss, the start of a full-batch epoch being its parameters") {
  const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
  nif::ExperimentConfig cfg = finetune_config(30, 0);
  cfg.train.base_lr = 2e-2;  // large enough for the loss to jump around
  nif::Trainer t(cfg, data);
  std::vector<ad::Vector<float>> starts;
  while (t.epochs_done() < 30) {
    starts.push_back(t.parameters().values());
    t.train_epoch();
  }
  const auto& h = t.history();
  std::size_t best = 0;
  for (std::size_t i = 1; i < h.size(); ++i)
    if (h[i].loss < h[best].loss) best = i;
  CHECK(t.best_epoch() == int(best) + 1);
  CHECK(t.best_loss() == h[best].loss);
  CHECK(t.best_parameters().values() == starts[best]);
}

TEST_CASE("interrupted fine-tuning resumes from its saved state: the steps add up and the loss goes on from where it stopped") {
  const nif::PointDataset data = normalized_wave(nif::WaveCase::low_frequency);
  const nif::ExperimentConfig cfg = finetune_config(10, 24);
  nif::Trainer first(cfg, data);
  while (first.epochs_done() < 10) first.train_epoch();
  CHECK(finetune(first, 9) == nn::LbfgsStop::stopped);
  REQUIRE(first.finetune_done() == 9);

  // What a checkpoint keeps: parameters, optimizer state (unused by L-BFGS) and trainer state.
  nif::Trainer resumed(cfg, data);
  resumed.parameters().values() = first.parameters().values();
  resumed.restore_state(first.state_json());
  CHECK(resumed.epochs_done() == 10);
  CHECK(resumed.finetune_done() == 9);
  CHECK_THROWS_AS(resumed.train_epoch(), std::logic_error);
  finetune(resumed);
  REQUIRE(resumed.finetune_done() == 24);
  const auto& h = resumed.history();
  REQUIRE(h.size() == 34);
  for (std::size_t i = 0; i < 19; ++i) CHECK(h[i].loss == first.history()[i].loss);
  // The curvature history restarts empty, so the steps differ from an uninterrupted run's, but
  // the first resumed step starts at the saved point and only goes down.
  CHECK(h[19].loss <= h[18].loss);
  CHECK(h.back().loss < h[18].loss);

  nif::Trainer uninterrupted(cfg, data);
  while (uninterrupted.epochs_done() < 10) uninterrupted.train_epoch();
  finetune(uninterrupted);
  for (std::size_t i = 0; i < 19; ++i) CHECK(uninterrupted.history()[i].loss == h[i].loss);
}

TEST_CASE("pruned weights stay exactly zero through L-BFGS fine-tuning, in fp32 and fp64") {
  for (const std::string precision : {"fp32", "fp64"}) {
    CAPTURE(precision);
    nif::ExperimentConfig cfg = pruned_config(0.8);
    cfg.finetune.lbfgs_iterations = 3;
    cfg.finetune.precision = precision;
    nif::Trainer t(cfg, normalized_wave(nif::WaveCase::low_frequency));
    while (t.epochs_done() < cfg.train.epochs) t.train_epoch();
    const ad::Vector<float> before = t.parameters().values();
    finetune(t);
    CHECK(t.finetune_done() > 0);
    CHECK(t.parameters().values() != before);
    const auto& keep = t.prune_mask().keep();
    CHECK(((keep.array() == 0) <= (t.parameters().values().array() == 0)).all());
  }
}
