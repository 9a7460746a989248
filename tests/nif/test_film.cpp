// Shift modulation ("film"): its formula for one sample against loops, its sizes on the seed
// ShapeNet, and shifts that start near zero.

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "support/models.hpp"

using namespace nif;
using ad::Matrix;

namespace {

/// u for one sample written out with loops: sin(ω0·(a·W_k) + b_k + shift_k) for every layer but
/// the last, which is a·W + b.
double reference_output(const ExperimentConfig& cfg, const ad::ParameterBuffer<double>& params, const GeneratedLayout& g,
                        const double* w, std::vector<double> a) {
  const Index layers = cfg.shape_net.nlayers + 2;
  for (Index k = 0; k < layers; ++k) {
    const std::string name = "layer" + std::to_string(k);
    const double* W = testing::parameter_values(params, "shape_net." + name + ".weight");
    const double* b = testing::parameter_values(params, "shape_net." + name + ".bias");
    const bool last = k == layers - 1;
    const Index in = Index(a.size()), out = last ? cfg.shape_net.output_dim : cfg.shape_net.units;
    std::vector<double> y(static_cast<std::size_t>(out));
    for (Index j = 0; j < out; ++j) {
      double z = 0;
      for (Index i = 0; i < in; ++i) z += a[i] * W[i * out + j];
      y[j] = last ? z + b[j] : std::sin(cfg.shape_net.omega0 * z + b[j] + w[g.at(name + ".shift").offset + j]);
    }
    a = y;
  }
  return a[0];
}

}  // namespace

TEST_CASE("film computes sin(ω0·(s·W) + b + shift(p)) per sine layer, as loops over one sample do") {
  for (const char* c : {"low-frequency", "high-frequency"}) {
    CAPTURE(c);
    const ExperimentConfig cfg = testing::small_config("film", c);
    REQUIRE(cfg.shape_net.siren());
    const testing::HyperEvaluation e = testing::evaluate_hypernetwork(cfg);
    for (Index b = 0; b < 3; ++b)
      CHECK(e.u(b, 0) == doctest::Approx(reference_output(cfg, *e.bound.params, e.bound.model->generated(), e.w.row(b).data(),
                                                          {e.x(b, 0), e.x(b, 1)}))
                             .epsilon(1e-12));
  }
}

TEST_CASE("film on the seed ShapeNet generates one 30-wide shift per sine layer and trains the SIREN directly") {
  auto [model, params] = testing::bind_model<float>(architecture("film").defaults("low-frequency"));
  CHECK(model->generated().size() == 3 * 30);
  // Shared SIREN: weights 30 + 2·900 + 30, biases 3·30 + 1; ParameterNet 1→30→(2 shortcuts)→1→90.
  CHECK(model->parameter_count() == 1860 + 91 + 60 + 2 * 930 + 31 + 2 * 90);
}

TEST_CASE("film's shifts start near zero: at z = 0 each is within ±0.01, and they depend on p") {
  auto [model, params] = testing::bind_model<double>(architecture("film").defaults("high-frequency"));
  auto* hyper = dynamic_cast<HyperModel<double>*>(model.get());
  REQUIRE(hyper != nullptr);
  ad::Tape<double> tape;
  const Matrix<double> at_zero = hyper->shape_parameters_from_latent(tape.constant(Matrix<double>::Zero(1, 1))).value();
  CHECK(at_zero.cwiseAbs().maxCoeff() <= 0.01);
  CHECK(at_zero.cwiseAbs().maxCoeff() > 0.005);
  const Matrix<double> z = Matrix<double>::Ones(1, 1);
  CHECK(hyper->shape_parameters_from_latent(tape.constant(z)).value() != at_zero);
}
