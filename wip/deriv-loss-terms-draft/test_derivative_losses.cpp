// The loss terms on input derivatives: their values against the physical formulas, their
// parameter gradients in double, and the configurations they refuse.

#include <doctest/doctest.h>

#include <numeric>
#include <vector>

#include "nif/derivative_losses.hpp"
#include "nif/derivatives.hpp"
#include "support/models.hpp"

using ad::Var;
using nif::Index;

namespace {

/// 5 random points of the small config's widths and a standard normaliser with unequal scales.
struct Slice {
  nif::PointDataset data;
  nif::Normalizer normalizer;
  std::vector<Index> rows;

  Slice() : rows(5) {
    data.params = testing::random_matrix(5, 2, 3).cast<float>();
    data.coords = testing::random_matrix(5, 2, 4).cast<float>();
    data.targets = testing::random_matrix(5, 1, 5).cast<float>();
    std::iota(rows.begin(), rows.end(), Index(0));
    normalizer.kind = nif::Normalization::standard;
    normalizer.params = {{0, 0}, {30, 2}};
    normalizer.coords = {{0, 0}, {0.25f, 3}};
    normalizer.targets = {{0}, {0.5f}};
  }

  /// The value of `terms`' sum (the loss terms alone) for the model of `bound` on this slice.
  Var<double> terms_on(ad::Tape<double>& tape, const nif::ExperimentConfig& cfg, nif::Model<double>& model,
                       const nif::LossTerms<double>& terms) const {
    const Var<double> p = tape.constant(data.params.cast<double>()), x = tape.constant(data.coords.cast<double>());
    const nif::SliceInputs<double> in{.model = model, .tape = tape, .cfg = cfg, .normalizer = normalizer, .data = data,
                                      .rows = rows, .runs = {}, .params = p, .coords = x, .output = model.forward(p, x),
                                      .targets = tape.constant(data.targets.cast<double>()), .weights = {}};
    Var<double> total = terms.front()->on_slice(in);
    for (std::size_t i = 1; i < terms.size(); ++i) total = ad::add(total, terms[i]->on_slice(in));
    return total;
  }
};

}  // namespace

TEST_CASE("the advection residual is λ·mean (u_t + c·u_x)² in physical units, and its parameter gradient checks") {
  nif::ExperimentConfig cfg = testing::small_config("nif", "low-frequency");
  cfg.loss.advection_residual = "0.5:3";
  auto bound = testing::bind_model<double>(cfg);
  bound.params->values() = testing::random_matrix(bound.params->size(), 1, 3, -0.5, 0.5);
  const Slice slice;
  const nif::LossTerms<double> terms = nif::make_loss_terms<double>(cfg);
  REQUIRE(terms.size() == 1);
  CHECK(terms.front()->name() == "advection-residual");

  ad::Tape<double> tape;
  const double value = slice.terms_on(tape, cfg, *bound.model, terms).item();
  // Physical: u = 0.5·û, t = 30 + 2·t̂ (first parameter), x = 0.25 + 3·x̂ (first coordinate).
  const auto d = nif::input_derivatives(*bound.model, tape.constant(slice.data.params.cast<double>()),
                                        tape.constant(slice.data.coords.cast<double>()));
  const ad::Matrix<double> residual = 0.5 * (d.du_dp(0).value() / 2.0 + 0.5 * d.du_dx(0).value() / 3.0);
  CHECK(value == doctest::Approx(3 * residual.squaredNorm() / 5).epsilon(1e-12));

  CHECK_GRADIENT_RESULT(testing::gradcheck_parameters(
      [&](ad::Tape<double>& t) { return slice.terms_on(t, cfg, *bound.model, terms); }, *bound.params));
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
  // ∂z/∂p by central differences of the latent.
  auto& hyper = dynamic_cast<nif::HyperModel<double>&>(*bound.model);
  const ad::Matrix<double> p = slice.data.params.cast<double>();
  double squares = 0;
  Index count = 0;
  for (Index j = 0; j < p.cols(); ++j) {
    ad::Matrix<double> up = p, down = p;
    up.col(j).array() += 1e-5;
    down.col(j).array() -= 1e-5;
    const ad::Matrix<double> dz = (hyper.latent(tape.constant(up)).value() - hyper.latent(tape.constant(down)).value()) / 2e-5;
    squares += dz.squaredNorm();
    count += dz.size();
  }
  CHECK(value == doctest::Approx(7 * squares / double(count)).epsilon(1e-6));

  CHECK_GRADIENT_RESULT(testing::gradcheck_parameters(
      [&](ad::Tape<double>& t) { return slice.terms_on(t, cfg, *bound.model, terms); }, *bound.params));
}

TEST_CASE("derivative losses refuse what they cannot compute, naming the flag") {
  nif::ExperimentConfig cfg = testing::small_config("mlp", "low-frequency");
  cfg.loss.jacobian_reg = 1;
  CHECK_THROWS_WITH_AS(nif::make_loss_terms<float>(cfg), "--jacobian-reg needs a latent; architecture mlp has none",
                       std::invalid_argument);
  cfg = testing::small_config("nif", "low-frequency");
  cfg.parameter_net.input_dim = 0;
  cfg.loss.advection_residual = "1:1";
  CHECK_THROWS_AS(nif::make_loss_terms<float>(cfg), std::invalid_argument);
  for (const char* bad : {"1", "1:-2", "x:1", "1:1:1", "inf:1", ""}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(nif::parse_advection_residual(bad), std::invalid_argument);
  }
  CHECK(nif::parse_advection_residual("0.006:1e-3").speed == 0.006);
  CHECK(nif::parse_advection_residual("none").weight == 0);
}
