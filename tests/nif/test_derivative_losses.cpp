// The loss terms on input derivatives: their values against finite differences of the model, in
// physical units, their parameter gradients in double, their per-slice weighting across threads
// and snapshot runs, and the configurations they refuse.

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <numeric>
#include <vector>

#include "nif/derivative_losses.hpp"
#include "nif/trainer.hpp"
#include "support/gradcheck.hpp"
#include "support/models.hpp"

using ad::Matrix;
using ad::Var;
using nif::Index;

namespace {

/// 5 random points of the small config's widths (2 params, 2 coords, 1 output) and a standard
/// normaliser with unequal scales (means that must not matter to a derivative).
struct Slice {
  nif::PointDataset data;
  nif::Normalizer normalizer;
  std::vector<Index> rows;
  Index first = 0;       ///< where the slice's rows are in its batch
  Index batch_rows = 5;  ///< the batch's rows (the slice is the whole batch by default)

  Slice() : rows(5) {
    data.params = testing::random_matrix(5, 2, 3).cast<float>();
    data.coords = testing::random_matrix(5, 2, 4).cast<float>();
    data.targets = testing::random_matrix(5, 1, 5).cast<float>();
    std::iota(rows.begin(), rows.end(), Index(0));
    normalizer.kind = nif::Normalization::standard;
    normalizer.params = {.mean = {30, 1}, .scale = {2, 5}};
    normalizer.coords = {.mean = {0.25f, 0}, .scale = {3, 4}};
    normalizer.targets = {.mean = {1}, .scale = {0.5f}};
  }

  /// The sum of `terms` (the loss terms alone) for `model` on this slice.
  Var<double> terms_on(ad::Tape<double>& tape, const nif::ExperimentConfig& cfg, nif::Model<double>& model,
                       const nif::LossTerms<double>& terms) const {
    const Var<double> p = tape.constant(data.params.cast<double>()), x = tape.constant(data.coords.cast<double>());
    const nif::SliceInputs<double> in{.model = model, .tape = tape, .cfg = cfg, .normalizer = normalizer, .data = data,
                                      .rows = rows, .first = first, .batch_rows = batch_rows, .runs = {}, .params = p,
                                      .coords = x, .output = model.forward(p, x),
                                      .targets = tape.constant(data.targets.cast<double>()), .weights = {}};
    Var<double> total = terms.front()->on_slice(in);
    for (std::size_t i = 1; i < terms.size(); ++i) total = ad::add(total, terms[i]->on_slice(in));
    return total;
  }
};

/// The central difference of f along column `c` of its argument `a` (step h), per row.
Matrix<double> central_difference(const std::function<Matrix<double>(const Matrix<double>&)>& f, const Matrix<double>& a,
                                  Index c, double h = 1e-5) {
  Matrix<double> up = a, down = a;
  up.col(c).array() += h;
  down.col(c).array() -= h;
  return (f(up) - f(down)) / (2 * h);
}

}  // namespace

TEST_CASE("the advection residual is λ·mean (u_t + c·u_x)² in physical units, and its parameter gradient checks") {
  nif::ExperimentConfig cfg = testing::small_config("nif", "low-frequency");
  cfg.loss.advection = nif::parse_advection_residual("0.5:3");
  auto bound = testing::bind_model<double>(cfg);
  bound.params->values() = testing::random_matrix(bound.params->size(), 1, 3, -0.5, 0.5);
  const Slice slice;
  const nif::LossTerms<double> terms = nif::make_loss_terms<double>(cfg);
  REQUIRE(terms.size() == 1);
  CHECK(terms.front()->name() == "advection-residual");

  ad::Tape<double> tape;
  const double value = slice.terms_on(tape, cfg, *bound.model, terms).item();
  // In physical units u = 1 + 0.5·û, t = 30 + 2·t̂ (the first parameter), x = 0.25 + 3·x̂ (the
  // first coordinate): u_t + c·u_x = 0.5·(∂û/∂t̂ / 2 + 0.5·∂û/∂x̂ / 3), here by finite differences.
  const Matrix<double> p = slice.data.params.cast<double>(), x = slice.data.coords.cast<double>();
  const auto du_dt = central_difference([&](const Matrix<double>& q) { return bound.model->forward(tape.constant(q), tape.constant(x)).value(); }, p, 0);
  const auto du_dx = central_difference([&](const Matrix<double>& y) { return bound.model->forward(tape.constant(p), tape.constant(y)).value(); }, x, 0);
  const Matrix<double> residual = 0.5 * (du_dt / 2.0 + 0.5 * du_dx / 3.0);
  CHECK(value > 0);
  CHECK(value == doctest::Approx(3 * residual.squaredNorm() / 5).epsilon(1e-6).scale(0));

  CHECK_GRADIENT_RESULT(testing::gradcheck_parameters(
      [&](ad::Tape<double>& t) { return slice.terms_on(t, cfg, *bound.model, terms); }, *bound.params));
}

TEST_CASE("with collocation points the advection residual also averages over points drawn in the data's bounding box") {
  nif::ExperimentConfig cfg = testing::small_config("nif", "low-frequency");
  cfg.loss.advection = nif::parse_advection_residual("0.5:3");
  auto bound = testing::bind_model<double>(cfg);
  bound.params->values() = testing::random_matrix(bound.params->size(), 1, 3, -0.5, 0.5);
  // Five copies of one point: its bounding box is that point, so every collocation point is it
  // and the collocation mean equals the data's.
  Slice slice;
  slice.data.params.rowwise() = Eigen::RowVector2f(slice.data.params.row(0));
  slice.data.coords.rowwise() = Eigen::RowVector2f(slice.data.coords.row(0));
  ad::Tape<double> tape;
  const double at_data = slice.terms_on(tape, cfg, *bound.model, nif::make_loss_terms<double>(cfg)).item();
  cfg.loss.collocation_points = 4;
  const nif::LossTerms<double> terms = nif::make_loss_terms<double>(cfg);
  CHECK(slice.terms_on(tape, cfg, *bound.model, terms).item() == doctest::Approx(2 * at_data).epsilon(1e-9).scale(0));

  // A slice of 5 of a batch's 15 rows evaluates only its share of the 4 points, [⌊4·first/15⌋,
  // ⌊4·(first + 5)/15⌋), its mean scaled by (share/4)·(15/5): rows 0–4 take point 0, rows 10–14
  // the points 2 and 3.
  slice.batch_rows = 15;
  CHECK(slice.terms_on(tape, cfg, *bound.model, terms).item() ==
        doctest::Approx(at_data + 0.25 * 3 * at_data).epsilon(1e-9).scale(0));
  slice.first = 10;
  CHECK(slice.terms_on(tape, cfg, *bound.model, terms).item() ==
        doctest::Approx(at_data + 0.5 * 3 * at_data).epsilon(1e-9).scale(0));
  slice.batch_rows = 40;  // rows 10–14 of 40: 4·10/40 to 4·15/40 → 1 to 1, no point
  CHECK(slice.terms_on(tape, cfg, *bound.model, terms).item() == doctest::Approx(at_data).epsilon(1e-9).scale(0));
  slice.first = 0;
  slice.batch_rows = 5;

  // Points of their own (spread data): another value, the same at every evaluation, and its
  // parameter gradient checks.
  const Slice spread;
  const double once = spread.terms_on(tape, cfg, *bound.model, terms).item();
  CHECK(once == spread.terms_on(tape, cfg, *bound.model, terms).item());
  cfg.loss.collocation_points = 0;
  const double without = spread.terms_on(tape, cfg, *bound.model, nif::make_loss_terms<double>(cfg)).item();
  CHECK(std::abs(once - without) > 1e-3 * without);
  CHECK_GRADIENT_RESULT(testing::gradcheck_parameters(
      [&](ad::Tape<double>& t) { return spread.terms_on(t, cfg, *bound.model, terms); }, *bound.params));
}

TEST_CASE("the Sobolev term is λ·mean (∂û/∂x̂ − target mapped to normalised units)², and its parameter gradient checks") {
  nif::ExperimentConfig cfg = testing::small_config("nif", "low-frequency");
  cfg.loss.sobolev_weight = 3;
  auto bound = testing::bind_model<double>(cfg);
  bound.params->values() = testing::random_matrix(bound.params->size(), 1, 3, -0.5, 0.5);
  Slice slice;
  slice.data.derivatives = testing::random_matrix(5, 2, 6).cast<float>();  // ∂u/∂x_0, ∂u/∂x_1 in physical units
  slice.rows = {3, 0, 4};  // the term reads the slice's rows of the data's derivatives
  const nif::LossTerms<double> terms = nif::make_loss_terms<double>(cfg);
  REQUIRE(terms.size() == 1);
  CHECK(terms.front()->name() == "sobolev");

  Slice picked = slice;  // the data of the rows the slice's inputs are
  for (const auto& [to, from] : {std::pair{&picked.data.params, &slice.data.params}, std::pair{&picked.data.coords, &slice.data.coords},
                                 std::pair{&picked.data.targets, &slice.data.targets}}) {
    to->resize(3, from->cols());
    for (Index i = 0; i < 3; ++i) to->row(i) = from->row(slice.rows[std::size_t(i)]);
  }
  ad::Tape<double> tape;
  const double value = picked.terms_on(tape, cfg, *bound.model, terms).item();
  // x̂_j = (x_j − m_j)/s_j with s = (3, 4), û = (u − 1)/0.5: a physical ∂u/∂x_j is
  // (s_j/0.5)·∂û/∂x̂_j in normalised units; ∂û/∂x̂_j here by finite differences.
  const Matrix<double> p = picked.data.params.cast<double>(), x = picked.data.coords.cast<double>();
  double squares = 0;
  for (Index j = 0; j < 2; ++j) {
    const Matrix<double> du_dx = central_difference(
        [&](const Matrix<double>& y) { return bound.model->forward(tape.constant(p), tape.constant(y)).value(); }, x, j);
    const double to_normalised = (j == 0 ? 3.0 : 4.0) / 0.5;
    for (Index i = 0; i < 3; ++i)
      squares += std::pow(du_dx(i, 0) - to_normalised * double(slice.data.derivatives(slice.rows[std::size_t(i)], j)), 2);
  }
  CHECK(value > 0);
  CHECK(value == doctest::Approx(3 * squares / 6).epsilon(1e-6).scale(0));

  CHECK_GRADIENT_RESULT(testing::gradcheck_parameters(
      [&](ad::Tape<double>& t) { return picked.terms_on(t, cfg, *bound.model, terms); }, *bound.params));
}

TEST_CASE("the Jacobian regulariser is λ·mean over (samples, r, P) of (∂z/∂p)², and its parameter gradient checks") {
  nif::ExperimentConfig cfg = testing::small_config("lowrank", "high-frequency");
  cfg.loss.jacobian_reg = 7;
  auto bound = testing::bind_model<double>(cfg);
  bound.params->values() = testing::random_matrix(bound.params->size(), 1, 3, -0.5, 0.5);
  const Slice slice;
  const nif::LossTerms<double> terms = nif::make_loss_terms<double>(cfg);
  REQUIRE(terms.size() == 1);
  CHECK(terms.front()->name() == "jacobian-reg");

  ad::Tape<double> tape;
  const double value = slice.terms_on(tape, cfg, *bound.model, terms).item();
  auto& hyper = dynamic_cast<nif::HyperModel<double>&>(*bound.model);
  const Matrix<double> p = slice.data.params.cast<double>();
  double squares = 0;
  Index count = 0;
  for (Index j = 0; j < p.cols(); ++j) {
    const Matrix<double> dz =
        central_difference([&](const Matrix<double>& q) { return hyper.latent(tape.constant(q)).value(); }, p, j);
    squares += dz.squaredNorm();
    count += dz.size();
  }
  CHECK(value > 0);
  CHECK(value == doctest::Approx(7 * squares / double(count)).epsilon(1e-6).scale(0));

  CHECK_GRADIENT_RESULT(testing::gradcheck_parameters(
      [&](ad::Tape<double>& t) { return slice.terms_on(t, cfg, *bound.model, terms); }, *bound.params));
}

TEST_CASE("the derivative losses of a batch do not depend on how it is cut into thread slices or grouped into runs") {
  const nif::PointDataset raw = nif::from_table(nif::traveling_wave(nif::WaveCase::low_frequency), nif::traveling_wave_columns());
  const nif::Normalizer normalizer = nif::Normalizer::fit(raw, nif::Normalization::standard);
  nif::PointDataset data = normalizer.apply(raw);
  data.derivatives = testing::random_matrix(data.size(), 1, 7).cast<float>();
  nif::ExperimentConfig cfg = nif::architecture("nif").defaults("low-frequency");
  cfg.loss.advection = nif::parse_advection_residual("0.006:1e-4");
  cfg.loss.collocation_points = 50;
  cfg.loss.jacobian_reg = 0.3;
  cfg.loss.sobolev_weight = 1e-3;
  std::vector<Index> rows(700);
  std::iota(rows.begin(), rows.end(), Index(0));
  nif::Trainer one(cfg, data, normalizer);
  const double reference = one.compute_gradient(rows);
  const ad::Vector<float> gradient = one.parameters().grads();
  nif::ExperimentConfig plain = cfg;
  plain.loss = {};
  CHECK(nif::Trainer(plain, data, normalizer).compute_gradient(rows) < reference);  // the terms add something
  // Each thread slice evaluates its share of the 50 collocation points (about 17 of them with 3
  // threads); the step's loss and gradient are those of one thread.
  for (const auto& [threads, grouped] : {std::pair{3, true}, std::pair{3, false}, std::pair{2, false}, std::pair{1, false}}) {
    CAPTURE(threads);
    CAPTURE(grouped);
    cfg.train.threads = threads;
    cfg.train.group_by_params = grouped;
    nif::Trainer other(cfg, data, normalizer);
    CHECK(other.compute_gradient(rows) == doctest::Approx(reference).epsilon(1e-5).scale(0));
    CHECK(double((other.parameters().grads() - gradient).norm()) <= 1e-4 * double(gradient.norm()));
  }
}

TEST_CASE("derivative losses refuse what they cannot compute, naming the flag") {
  nif::ExperimentConfig cfg = testing::small_config("mlp", "low-frequency");
  cfg.loss.jacobian_reg = 1;
  CHECK_THROWS_WITH_AS(nif::make_loss_terms<float>(cfg), "--jacobian-reg needs a latent; architecture mlp has none",
                       std::invalid_argument);
  cfg = testing::small_config("nif", "low-frequency");
  cfg.loss.collocation_points = 10;
  CHECK_THROWS_WITH_AS(nif::make_loss_terms<float>(cfg), "--collocation-points needs --advection-residual c:λ with λ > 0",
                       std::invalid_argument);
  cfg = nif::architecture("nif").defaults("low-frequency");
  cfg.loss.sobolev_weight = 1;
  const nif::PointDataset wave = nif::from_table(nif::traveling_wave(nif::WaveCase::low_frequency), nif::traveling_wave_columns());
  CHECK_THROWS_WITH_AS(nif::Trainer(cfg, wave, nif::Normalizer{}), "the data has 0 derivative column(s) but the config expects 1",
                       std::invalid_argument);
  for (const char* bad : {"1", "1:-2", "x:1", "1:1:1", "inf:1", "1:nan", ""}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(nif::parse_advection_residual(bad), std::invalid_argument);
  }
  CHECK(nif::parse_advection_residual("0.006:1e-3").speed == 0.006);
  CHECK(nif::parse_advection_residual("-2:1e-3").speed == -2);
  CHECK(nif::parse_advection_residual("none").weight == 0);
}
