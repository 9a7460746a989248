#include <doctest/doctest.h>

#include <numeric>
#include <vector>

#include "nif/loss_terms.hpp"
#include "nif/trainer.hpp"
#include "support/gradcheck.hpp"
#include "support/models.hpp"

using ad::Var;
using nif::Index;

namespace {

/// `rows` random points with the small config's widths (2 params, 2 coords, 1 output).
nif::PointDataset random_points(Index rows) {
  nif::PointDataset d;
  d.params = testing::random_matrix(rows, 2, 3).cast<float>();
  d.coords = testing::random_matrix(rows, 2, 4).cast<float>();
  d.targets = testing::random_matrix(rows, 1, 5).cast<float>();
  return d;
}

}  // namespace

TEST_CASE("no term is made unless its weight is positive") {
  nif::ExperimentConfig cfg = testing::small_config("nif", "low-frequency");
  CHECK(nif::make_loss_terms<float>(cfg).empty());
  cfg.loss.l2 = 1e-3;
  const auto terms = nif::make_loss_terms<float>(cfg);
  REQUIRE(terms.size() == 1);
  CHECK(terms.front()->name() == "l2");
}

TEST_CASE("the slice objective is the data MSE plus the L1 and L2 penalties, and its parameter gradient checks in double") {
  nif::ExperimentConfig cfg = testing::small_config("nif", "high-frequency");
  cfg.loss.l1 = 3e-3;
  cfg.loss.l2 = 2e-2;
  auto bound = testing::bind_model<double>(cfg);
  const nif::PointDataset data = random_points(5);
  const nif::Normalizer normalizer;
  std::vector<Index> rows(5);
  std::iota(rows.begin(), rows.end(), Index(0));
  const nif::LossTerms<double> terms = nif::make_loss_terms<double>(cfg);
  REQUIRE(terms.size() == 2);
  Var<double> mse_only;
  auto objective = [&](ad::Tape<double>& tape) {
    const Var<double> p = tape.constant(data.params.cast<double>()), x = tape.constant(data.coords.cast<double>());
    const nif::SliceInputs<double> in{.model = *bound.model, .tape = tape, .cfg = cfg, .normalizer = normalizer, .data = data,
                                      .rows = rows, .first = 0, .batch_rows = Index(rows.size()), .runs = {}, .params = p,
                                      .coords = x, .output = bound.model->forward(p, x),
                                      .targets = tape.constant(data.targets.cast<double>()), .weights = {}};
    mse_only = nif::slice_objective(in, nif::LossTerms<double>{});
    return nif::slice_objective(in, terms);
  };
  CHECK_GRADIENT_RESULT(testing::gradcheck_parameters(objective, *bound.params));

  ad::Tape<double> tape;
  const double total = objective(tape).item();
  const ad::Vector<double>& theta = bound.params->values();
  const double penalty = cfg.loss.l1 * theta.cwiseAbs().sum() + cfg.loss.l2 * theta.squaredNorm();
  CHECK(total == doctest::Approx(mse_only.item() + penalty).epsilon(1e-12));
}

TEST_CASE("split across threads, the trainer counts a parameter penalty once per batch: its gradient is 2λθ on top of the MSE's") {
  const nif::PointDataset raw = nif::from_table(nif::traveling_wave(nif::WaveCase::low_frequency), nif::traveling_wave_columns());
  const nif::PointDataset data = nif::Normalizer::fit(raw, nif::Normalization::standard).apply(raw);
  nif::ExperimentConfig plain = nif::architecture("nif").defaults("low-frequency");
  plain.train.threads = 3;
  nif::ExperimentConfig penalised = plain;
  penalised.loss.l2 = 0.5;
  nif::Trainer a(plain, data), b(penalised, data);
  REQUIRE(a.parameters().values() == b.parameters().values());
  std::vector<Index> rows(700);
  std::iota(rows.begin(), rows.end(), Index(0));
  const double loss_a = a.compute_gradient(rows), loss_b = b.compute_gradient(rows);
  const ad::Vector<float>& theta = a.parameters().values();
  CHECK(loss_b == doctest::Approx(loss_a + 0.5 * double(theta.squaredNorm())).epsilon(1e-5));
  const ad::Vector<float> expected = a.parameters().grads() + 2 * 0.5f * theta;
  CHECK(double((b.parameters().grads() - expected).norm()) <= 1e-5 * double(expected.norm()));
}
