// Last-layer-parameterised NIF ("linear-nif"): u_o = Σ_k a_{o,k}(p)·φ_{o,k}(x) + b_o(p) for one
// sample against loops, its sizes on the seed ShapeNet, its spatial modes, --rank and --resblock.

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "nif/modal.hpp"
#include "support/models.hpp"

using namespace nif;
using ad::Matrix;
using testing::random_matrix;

namespace {

/// φ(x) for one point written out with loops: a plain SIREN, sin(ω0·(a·W) + b) per layer, then
/// the linear last layer with O·r outputs.
std::vector<double> reference_modes(const ExperimentConfig& cfg, const ad::ParameterBuffer<double>& params,
                                    std::vector<double> a) {
  const Index layers = cfg.shape_net.nlayers + 2;
  for (Index k = 0; k < layers; ++k) {
    const std::string name = "shape_net.layer" + std::to_string(k);
    const double *W = testing::parameter_values(params, name + ".weight"), *b = testing::parameter_values(params, name + ".bias");
    const bool last = k == layers - 1;
    const Index in = Index(a.size());
    const Index out = last ? cfg.shape_net.output_dim * Index(cfg.option("rank")) : cfg.shape_net.units;
    std::vector<double> y(static_cast<std::size_t>(out));
    for (Index j = 0; j < out; ++j) {
      double z = 0;
      for (Index i = 0; i < in; ++i) z += a[i] * W[i * out + j];
      y[j] = last ? z + b[j] : std::sin(cfg.shape_net.omega0 * z + b[j]);
    }
    a = y;
  }
  return a;
}

}  // namespace

TEST_CASE("linear-nif computes u_o = sum_k a_ok(p)·phi_ok(x) + b_o(p), as loops over one sample do, for two fields") {
  ExperimentConfig cfg = testing::small_config("linear-nif", "high-frequency");
  cfg.shape_net.output_dim = 2;
  cfg.variant["rank"] = 3;
  const testing::HyperEvaluation e = testing::evaluate_hypernetwork(cfg);
  auto* modal = dynamic_cast<ModalModel<double>*>(e.bound.model.get());
  REQUIRE(modal != nullptr);
  ad::Tape<double> tape;
  const Matrix<double> phi = modal->spatial_modes(tape.constant(e.x)).value();
  REQUIRE(phi.cols() == 6);
  const GeneratedTensor &a = e.bound.model->generated().at("coefficients"), &bias = e.bound.model->generated().at("bias");
  for (Index b = 0; b < 3; ++b) {
    const std::vector<double> modes = reference_modes(cfg, *e.bound.params, {e.x(b, 0), e.x(b, 1)});
    for (Index o = 0; o < 2; ++o) {
      double ref = e.w(b, bias.offset + o);
      for (Index k = 0; k < 3; ++k) ref += e.w(b, a.offset + o * 3 + k) * modes[std::size_t(o * 3 + k)];
      CHECK(e.u(b, o) == doctest::Approx(ref).epsilon(1e-12));
    }
    for (Index j = 0; j < 6; ++j) CHECK(phi(b, j) == doctest::Approx(modes[std::size_t(j)]).epsilon(1e-12));
  }
}

TEST_CASE("linear-nif on the seed ShapeNet generates r coefficients and a bias per field; --rank sets r") {
  for (int r : {10, 4}) {
    CAPTURE(r);
    ExperimentConfig cfg = architecture("linear-nif").defaults("low-frequency");
    cfg.variant["rank"] = r;
    auto [model, params] = testing::bind_model<float>(cfg);
    CHECK(model->generated().size() == r + 1);
    // φ: weights 30 + 2·900 + 30·r, biases 3·30 + r; ParameterNet 1→30→(2 shortcuts)→10→r+1.
    CHECK(model->parameter_count() == 30 + 1800 + 30 * r + 90 + r + 60 + 2 * 930 + 310 + 11 * (r + 1));
    ad::Tape<float> tape;
    auto* modal = dynamic_cast<ModalModel<float>*>(model.get());
    REQUIRE(modal != nullptr);
    CHECK(modal->spatial_modes(tape.constant(Matrix<float>::Zero(4, 1))).cols() == r);
  }
  CHECK(architecture("linear-nif").defaults("low-frequency").option("rank") == 10);
}

TEST_CASE("linear-nif with --resblock builds phi from res-blocks and is gradient-checked") {
  ExperimentConfig cfg = architecture("linear-nif").defaults("high-frequency");
  cfg.shape_net.use_resblock = true;
  auto [model, params] = testing::bind_model<float>(cfg);
  // Two blocks of two 30 x 30 layers: 4·(900 + 30) more than the first and last layers' 30 + 30 + 300 + 10.
  CHECK(model->parameter_count() - (60 + 2 * 930 + 310 + 11 * 11) == 4 * 930 + 60 + 300 + 10);
  ExperimentConfig small = testing::small_config("linear-nif", "high-frequency");
  small.shape_net.use_resblock = true;
  testing::check_model_gradients(small);
}

TEST_CASE("only models of the modal form have spatial modes") {
  for (const std::string& arch : architecture_names()) {
    CAPTURE(arch);
    auto [model, params] = testing::bind_model<float>(architecture(arch).defaults("low-frequency"));
    CHECK((dynamic_cast<ModalModel<float>*>(model.get()) != nullptr) == (arch == "linear-nif"));
  }
}
