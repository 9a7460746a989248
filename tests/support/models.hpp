#pragma once
// Building and checking registered models in tests: small configs, bound models, and the
// whole-model checks every architecture passes (gradients in double, with and without grouping).

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>

#include "nif/derivatives.hpp"
#include "nif/model.hpp"
#include "support/gradcheck.hpp"

namespace testing {

/// A model of `cfg` bound to its own parameter buffer, initialised from `seed`.
template <class T>
struct BoundModel {
  std::unique_ptr<nif::Model<T>> model;
  std::unique_ptr<ad::ParameterBuffer<T>> params;
};

template <class T>
BoundModel<T> bind_model(const nif::ExperimentConfig& cfg, std::uint64_t seed = 1) {
  BoundModel<T> b{nif::make_model<T>(cfg), std::make_unique<ad::ParameterBuffer<T>>()};
  nn::Rng rng(seed);
  b.model->bind(*b.params, rng);
  return b;
}

/// `arch`'s config for `case_name`, shrunk so that finite differences are cheap and well
/// conditioned: 3-unit ShapeNet, 4-unit ParameterNet, latent 2, ω0 = 1.5, and two parameter and
/// two coordinate columns (one output) so that every input width path is exercised.
inline nif::ExperimentConfig small_config(const std::string& arch, const std::string& case_name) {
  nif::ExperimentConfig c = nif::architecture(arch).defaults(case_name);
  c.shape_net.units = 3;
  c.parameter_net.units = 4;
  c.parameter_net.latent_dim = 2;
  c.shape_net.omega0 = 1.5;
  c.parameter_net.input_dim = 2;
  c.shape_net.input_dim = 2;
  return c;
}

/// The values of parameter `name` in `params` (row-major); fails the test when there is none.
inline const double* parameter_values(const ad::ParameterBuffer<double>& params, const std::string& name) {
  for (const auto& e : params.entries())
    if (e.name == name) return params.values().data() + e.offset;
  FAIL("no parameter " << name);
  return nullptr;
}

/// A hypernetwork of `cfg` in double with random parameters (so that no generated tensor is
/// zero) on 3 random samples of two parameter and two coordinate columns (as small_config):
/// its inputs, its output u and its generated rows w, for checks against a written-out formula.
struct HyperEvaluation {
  BoundModel<double> bound;
  Matrix<double> p, x, u, w;
};

inline HyperEvaluation evaluate_hypernetwork(const nif::ExperimentConfig& cfg) {
  HyperEvaluation e{bind_model<double>(cfg), random_matrix(3, 2, 4), random_matrix(3, 2, 5), {}, {}};
  e.bound.params->values() = random_matrix(e.bound.params->size(), 1, 3, -0.5, 0.5);
  auto* hyper = dynamic_cast<nif::HyperModel<double>*>(e.bound.model.get());
  REQUIRE(hyper != nullptr);
  Tape<double> tape;
  e.u = hyper->forward(tape.constant(e.p), tape.constant(e.x)).value();
  e.w = hyper->shape_parameters(tape.constant(e.p)).value();
  return e;
}

/// The whole model's parameter gradient and its input gradients (p and x) against central
/// differences in double, per sample and with samples grouped in runs of equal p.
inline void check_model_gradients(const nif::ExperimentConfig& cfg) {
  auto [model, params] = bind_model<double>(cfg);
  params->values() = random_matrix(params->size(), 1, 3, -0.5, 0.5);
  const ad::Index P = cfg.parameter_net.input_dim, D = cfg.shape_net.input_dim;
  const Matrix<double> p = random_matrix(5, P, 4), x = random_matrix(5, D, 5);
  CHECK_GRADIENT_RESULT(gradcheck_parameters([&](Tape<double>& t) { return model->forward(t.constant(p), t.constant(x)); },
                                             *params));
  CHECK_GRADIENTS([&](Tape<double>&, std::span<const Var<double>> v) { return model->forward(v[0], v[1]); }, {p, x});
  static const ad::Index offsets[] = {0, 2, 5};
  const ad::RowGroups groups{offsets, 2};
  const Matrix<double> runs = random_matrix(2, P, 6);
  CHECK_GRADIENT_RESULT(gradcheck_parameters(
      [&](Tape<double>& t) { return model->forward(t.constant(runs), t.constant(x), groups); }, *params));
  // Grouped evaluation is the per-sample one with each run's input repeated.
  Matrix<double> repeated(5, P);
  for (ad::Index g = 0; g < 2; ++g)
    for (ad::Index b = offsets[g]; b < offsets[g + 1]; ++b) repeated.row(b) = runs.row(g);
  Tape<double> tape;
  const Matrix<double> grouped = model->forward(tape.constant(runs), tape.constant(x), groups).value();
  const Matrix<double> per_sample = model->forward(tape.constant(repeated), tape.constant(x)).value();
  CHECK((grouped - per_sample).cwiseAbs().maxCoeff() < 1e-12);
}

/// d^order u/dz^order along input column `col` of `which` (0: p, 1: x) by central differences of
/// the forward, all rows at once (samples are independent): the 4-point stencil for the first
/// derivative, (−u₊₂ + 16u₊ − 30u + 16u₋ − u₋₂)/12h² for the second, both exact to O(h⁴).
template <class Forward>
Matrix<double> finite_difference(Forward&& forward, Matrix<double> p, Matrix<double> x, int which, ad::Index col, int order,
                                 double h) {
  Matrix<double>& z = which == 0 ? p : x;
  const Matrix<double> z0 = z;
  auto at = [&](double d) {
    z = z0;
    z.col(col).array() += d;
    return forward(p, x);
  };
  if (order == 1) return (8 * (at(h / 2) - at(-h / 2)) - (at(h) - at(-h))) / (6 * h);
  return (-at(2 * h) + 16 * at(h) - 30 * at(0) + 16 * at(-h) - at(-2 * h)) / (12 * h * h);
}

/// Whether `analytic` matches the finite difference at step h or, for a high frequency or a ReLU
/// kink inside the stencil, at h/10 (as numeric_derivative).
template <class Forward>
void check_derivative(const Matrix<double>& analytic, Forward&& forward, const Matrix<double>& p, const Matrix<double>& x,
                      int which, ad::Index col, int order) {
  auto error = [&](double h) {
    const Matrix<double> numeric = finite_difference(forward, p, x, which, col, order, h);
    return ((analytic - numeric).array().abs() / (1 + analytic.array().abs().max(numeric.array().abs()))).maxCoeff();
  };
  const double e = std::min(error(1e-3), error(1e-4));
  INFO((which == 0 ? "d/dp" : "d/dx"), col, " order ", order, ": relative error ", e);
  CHECK(e < 1e-6);
}

/// The model's input derivatives (nif::input_derivatives: ∂u/∂x_k, ∂²u/∂x_k², ∂u/∂p_j) against
/// finite differences of its forward in double, per sample and grouped; and the parameter
/// gradient of a function of those derivatives against central differences.
inline void check_model_derivatives(const nif::ExperimentConfig& cfg) {
  auto [model, params] = bind_model<double>(cfg);
  params->values() = random_matrix(params->size(), 1, 3, -0.5, 0.5);
  const ad::Index P = cfg.parameter_net.input_dim, D = cfg.shape_net.input_dim;
  const Matrix<double> p = random_matrix(5, P, 4), x = random_matrix(5, D, 5);
  Tape<double> tape;
  auto forward = [&](const Matrix<double>& pp, const Matrix<double>& xx) -> Matrix<double> {
    tape.clear();
    return model->forward(tape.constant(pp), tape.constant(xx)).value();
  };
  Tape<double> jets;
  const auto d = nif::input_derivatives(*model, jets.constant(p), jets.constant(x));
  CHECK((d.value().value() - forward(p, x)).cwiseAbs().maxCoeff() < 1e-12);
  for (ad::Index k = 0; k < D; ++k) {
    check_derivative(d.du_dx(k).value(), forward, p, x, 1, k, 1);
    check_derivative(d.d2u_dx2(k).value(), forward, p, x, 1, k, 2);
  }
  for (ad::Index j = 0; j < P; ++j) check_derivative(d.du_dp(j).value(), forward, p, x, 0, j, 1);

  // Grouped: the per-sample derivatives with each run's input repeated.
  static const ad::Index offsets[] = {0, 2, 5};
  const ad::RowGroups groups{offsets, 2};
  const Matrix<double> runs = random_matrix(2, P, 6);
  Matrix<double> repeated(5, P);
  for (ad::Index g = 0; g < 2; ++g)
    for (ad::Index b = offsets[g]; b < offsets[g + 1]; ++b) repeated.row(b) = runs.row(g);
  const auto grouped = nif::input_derivatives(*model, jets.constant(runs), jets.constant(x), groups);
  const auto per_sample = nif::input_derivatives(*model, jets.constant(repeated), jets.constant(x));
  for (ad::Index k = 0; k < D; ++k) {
    CHECK((grouped.du_dx(k).value() - per_sample.du_dx(k).value()).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((grouped.d2u_dx2(k).value() - per_sample.d2u_dx2(k).value()).cwiseAbs().maxCoeff() < 1e-12);
  }
  for (ad::Index j = 0; j < P; ++j)
    CHECK((grouped.du_dp(j).value() - per_sample.du_dp(j).value()).cwiseAbs().maxCoeff() < 1e-12);

  // Every derivative, and a loss on one, differentiated with respect to the parameters.
  auto all_derivatives = [&](Tape<double>& t, const Matrix<double>& pp, ad::RowGroups g) {
    const auto e = nif::input_derivatives(*model, t.constant(pp), t.constant(x), g);
    const Var<double> each = ad::concat_cols({e.du_dx(0), e.du_dx(D - 1), e.d2u_dx2(0), e.d2u_dx2(D - 1), e.du_dp(0), e.du_dp(P - 1)});
    return ad::add(each, ad::mean(ad::square(e.du_dx(0))));
  };
  CHECK_GRADIENT_RESULT(gradcheck_parameters([&](Tape<double>& t) { return all_derivatives(t, p, {}); }, *params));
  CHECK_GRADIENT_RESULT(gradcheck_parameters([&](Tape<double>& t) { return all_derivatives(t, runs, groups); }, *params));
}

}  // namespace testing
