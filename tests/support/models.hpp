#pragma once
// Building and checking registered models in tests: small configs, bound models, and the
// whole-model checks every architecture passes (gradients in double, with and without grouping).

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>

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

}  // namespace testing
