// The LoRA hypernetwork ("lowrank"): its formula for one sample against loops, its sizes on the
// seed ShapeNet (819 generated per sample at rank 4), its start at the shared network, --rank.

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "support/cli.hpp"
#include "support/models.hpp"

using namespace nif;
using ad::Matrix;
using testing::random_matrix;

namespace {

using Vec = std::vector<double>;

double swish(double a) { return a / (1 + std::exp(-a)); }

/// Layer k's pre-activation s·(a·W0 + (a·A)·B) + b written out with loops, w one generated row.
Vec reference_layer(const ad::ParameterBuffer<double>& params, const GeneratedLayout& g, const double* w, Index k,
                    double s, const Vec& a) {
  const std::string name = "layer" + std::to_string(k);
  const GeneratedTensor &A = g.at(name + ".A"), &B = g.at(name + ".B"), &b = g.at(name + ".bias");
  const Index in = A.rows, r = A.cols, out = B.cols;
  const double* W0 = testing::parameter_values(params, "shape_net." + name + ".weight");
  Vec xa(std::size_t(r), 0.0), y(static_cast<std::size_t>(out));
  for (Index q = 0; q < r; ++q)
    for (Index i = 0; i < in; ++i) xa[q] += a[i] * w[A.offset + i * r + q];
  for (Index j = 0; j < out; ++j) {
    double z = 0;
    for (Index i = 0; i < in; ++i) z += a[i] * W0[i * out + j];
    for (Index q = 0; q < r; ++q) z += xa[q] * w[B.offset + q * out + j];
    y[j] = s * z + w[b.offset + j];
  }
  return y;
}

/// u for one sample: upstream's ShapeNet structure (residual swish or plain SIREN) around
/// reference_layer.
double reference_output(const ExperimentConfig& cfg, const ad::ParameterBuffer<double>& params, const GeneratedLayout& g,
                        const double* w, const Vec& x) {
  const ShapeNetConfig& sh = cfg.shape_net;
  const double s = sh.siren() ? sh.omega0 : 1.0;
  auto act = [&](double v) { return sh.siren() ? std::sin(v) : swish(v); };
  Vec a = reference_layer(params, g, w, 0, s, x);
  for (double& v : a) v = act(v);
  for (Index k = 1; k <= sh.nlayers; ++k) {
    const Vec pre = reference_layer(params, g, w, k, s, a);
    for (std::size_t j = 0; j < a.size(); ++j) a[j] = act(pre[j]) + (sh.siren() ? 0.0 : a[j]);
  }
  return reference_layer(params, g, w, sh.nlayers + 1, 1.0, a)[0];
}

}  // namespace

TEST_CASE("lowrank computes s·(x·W0 + (x·A(p))·B(p)) + b(p) per layer, as loops over one sample do") {
  for (const char* c : {"low-frequency", "high-frequency"}) {
    CAPTURE(c);
    ExperimentConfig cfg = testing::small_config("lowrank", c);
    cfg.variant["rank"] = 2;
    const testing::HyperEvaluation e = testing::evaluate_hypernetwork(cfg);
    for (Index b = 0; b < 3; ++b)
      CHECK(e.u(b, 0) == doctest::Approx(reference_output(cfg, *e.bound.params, e.bound.model->generated(), e.w.row(b).data(),
                                                          {e.x(b, 0), e.x(b, 1)}))
                             .epsilon(1e-12));
  }
}

TEST_CASE("lowrank at rank 4 on the seed ShapeNet generates 819 parameters per sample and trains W0 directly") {
  for (const char* c : {"low-frequency", "high-frequency"}) {
    CAPTURE(c);
    auto [model, params] = testing::bind_model<float>(architecture("lowrank").defaults(c));
    // Per layer in → out: A in·4, B 4·out, bias out. Layers 1→30, 30→30, 30→30, 30→1:
    // (4 + 120 + 30) + 2·(120 + 120 + 30) + (120 + 4 + 1) = 819.
    CHECK(model->generated().size() == 819);
    // W0: 30 + 2·900 + 30; ParameterNet 1→30→(2 shortcuts)→1→819: 60 + 2·930 + 31 + 2·819.
    CHECK(model->parameter_count() == 1860 + 60 + 2 * 930 + 31 + 2 * 819);
  }
  const testing::CliResult r = testing::nif_cli({"summary", "--arch", "lowrank"});
  CHECK(r.code == 0);
  CHECK(r.out.find("Generated per sample by the ParameterNet: 819 parameters") != std::string::npos);
}

TEST_CASE("lowrank starts at the shared network: u does not depend on p, and the gradient reaches B") {
  for (const char* c : {"low-frequency", "high-frequency"}) {
    CAPTURE(c);
    auto [model, params] = testing::bind_model<double>(architecture("lowrank").defaults(c), 7);
    const Matrix<double> x = random_matrix(4, 1, 8);
    ad::Tape<double> tape;
    const Matrix<double> u1 = model->forward(tape.constant(random_matrix(4, 1, 9)), tape.constant(x)).value();
    Var<double> u2 = model->forward(tape.constant(random_matrix(4, 1, 10)), tape.constant(x));
    CHECK(u1 == u2.value());
    CHECK(u1.cwiseAbs().maxCoeff() > 0);
    tape.backward(ad::sum(u2));
    const auto& out = params->entries().back();
    REQUIRE(out.name == "parameter_net.output.bias");
    const auto grad = params->grads().segment(out.offset, out.size());
    for (const GeneratedTensor& t : model->generated().tensors()) {
      CAPTURE(t.name);
      const double g = grad.segment(t.offset, t.size()).cwiseAbs().maxCoeff();
      if (t.name.ends_with(".B") || t.name.ends_with(".bias")) CHECK(g > 0);
      if (t.name.ends_with(".A")) CHECK(g == 0);  // dA = xᵀ·dy·Bᵀ with B = 0
    }
  }
}

TEST_CASE("--rank sets the width of every generated factor") {
  for (int r : {1, 2, 8}) {
    CAPTURE(r);
    ExperimentConfig cfg = architecture("lowrank").defaults("low-frequency");
    cfg.variant["rank"] = r;
    auto [model, params] = testing::bind_model<float>(cfg);
    // Σ_k (in_k + out_k) = 31 + 60 + 60 + 31 = 182 per unit of rank, plus 91 biases.
    CHECK(model->generated().size() == 182 * r + 91);
    CHECK(model->generated().at("layer1.A").cols == r);
    CHECK(model->generated().at("layer1.B").rows == r);
  }
  const testing::CliResult r = testing::nif_cli({"summary", "--arch", "lowrank", "--rank", "2"});
  CHECK(r.code == 0);
  CHECK(r.out.find("Generated per sample by the ParameterNet: 455 parameters") != std::string::npos);
}
