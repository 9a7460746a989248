// The three faithful reference architectures: sizes, gradients, formulas, defects, names.

#include <doctest/doctest.h>

#include <cmath>

#include "nif/model.hpp"
#include "nn/summary.hpp"
#include "support/gradcheck.hpp"

using namespace nif;
using ad::Matrix;
using testing::random_matrix;

namespace {

const char* const kArchitectures[] = {"upstream", "functional", "pytorch"};
const char* const kCases[] = {"low-frequency", "high-frequency"};

/// A bound model of `arch` for `case_name` with the given overrides of a small config.
template <class T>
std::pair<std::unique_ptr<HyperModel<T>>, std::unique_ptr<ad::ParameterBuffer<T>>> bound(const ExperimentConfig& cfg,
                                                                                         std::uint64_t seed = 1) {
  std::unique_ptr<HyperModel<T>> model(dynamic_cast<HyperModel<T>*>(make_model<T>(cfg).release()));
  REQUIRE(model != nullptr);
  auto params = std::make_unique<ad::ParameterBuffer<T>>();
  nn::Rng rng(seed);
  model->bind(*params, rng);
  return {std::move(model), std::move(params)};
}

ExperimentConfig small(const std::string& arch, const std::string& case_name) {
  ExperimentConfig c = architecture(arch).defaults(case_name);
  c.shape_net.units = 3;
  c.parameter_net.units = 4;
  c.parameter_net.latent_dim = 2;
  c.shape_net.omega0 = 1.5;  // keeps finite differences of the sine layers well conditioned
  return c;
}

double swish(double a) { return a / (1 + std::exp(-a)); }

/// The ShapeNet of docs/seed-study.md §6.2/§7.2/§8.2 written out with loops for one sample (D = O = 1, n units,
/// L hidden layers): residual or plain, smooth (swish) or SIREN, with the last bias at `bias_at`
/// (negative: none).
double reference_shape_net(const ShapeNetConfig& s, const double* w, double x, bool residual, Index bias_at) {
  const Index n = s.units, L = s.nlayers;
  const Index nw = n + L * n * n + n;  // all weights
  auto act = [&](double a) { return s.siren() ? std::sin(a) : swish(a); };
  const double w0 = s.siren() ? s.omega0 : 1.0;
  std::vector<double> a(n), next(n);
  for (Index j = 0; j < n; ++j) a[j] = act(w0 * x * w[j] + w[nw + j]);
  for (Index k = 0; k < L; ++k) {
    const double* W = w + n + k * n * n;
    const double* b = w + nw + n + k * n;
    for (Index j = 0; j < n; ++j) {
      double z = 0;
      for (Index i = 0; i < n; ++i) z += a[i] * W[i * n + j];
      next[j] = act(w0 * z + b[j]) + (residual ? a[j] : 0.0);
    }
    a = next;
  }
  double u = bias_at >= 0 ? w[bias_at] : 0.0;
  for (Index i = 0; i < n; ++i) u += a[i] * w[n + L * n * n + i];
  return u;
}

}  // namespace

TEST_CASE("every architecture has the seed's 5,853 ParameterNet and 1,951 ShapeNet parameters in both cases") {
  for (const char* arch : kArchitectures)
    for (const char* c : kCases) {
      CAPTURE(arch);
      CAPTURE(c);
      auto [model, params] = bound<float>(architecture(arch).defaults(c));
      CHECK(model->parameter_count() == 5853);
      CHECK(params->size() == 5853);
      CHECK(model->generated().size() == 1951);
    }
}

TEST_CASE("every architecture is gradient-checked end to end in both cases, defects on and off") {
  for (const char* arch : kArchitectures)
    for (const char* c : kCases)
      for (bool fixed : {false, true}) {
        CAPTURE(arch);
        CAPTURE(c);
        CAPTURE(fixed);
        ExperimentConfig cfg = small(arch, c);
        if (fixed) cfg.defects.fix({"all"});
        auto [model, params] = bound<double>(cfg);
        params->values() = random_matrix(params->size(), 1, 3, -0.5, 0.5);
        const Matrix<double> p = random_matrix(5, 1, 4), x = random_matrix(5, 1, 5);
        CHECK_GRADIENT_RESULT(testing::gradcheck_parameters(
            [&](ad::Tape<double>& t) { return model->forward(t.constant(p), t.constant(x)); }, *params));
        CHECK_GRADIENTS([&](ad::Tape<double>&, std::span<const Var<double>> v) { return model->forward(v[0], v[1]); },
                        {p, x});
      }
}

TEST_CASE("each ShapeNet computes its seed implementation's formula, including the last-bias defects") {
  struct Expect {
    const char* arch;
    const char* case_name;
    bool fix;
    bool residual;
    Index bias_at;  // for n = 3, L = 2: N_W = 24; correct last bias 24 + 9 = 33; aliased 24 + 6 = 30
  };
  const Expect cases[] = {
      {"upstream", "low-frequency", false, true, 33},    {"upstream", "high-frequency", false, false, 33},
      {"functional", "low-frequency", false, false, 30}, {"functional", "low-frequency", true, false, 33},
      {"functional", "high-frequency", false, false, -1}, {"functional", "high-frequency", true, false, 33},
      {"pytorch", "low-frequency", false, false, 30},     {"pytorch", "high-frequency", false, false, -1},
      {"pytorch", "high-frequency", true, false, 33},
  };
  for (const Expect& e : cases) {
    CAPTURE(e.arch);
    CAPTURE(e.case_name);
    CAPTURE(e.fix);
    ExperimentConfig cfg = small(e.arch, e.case_name);
    if (e.fix) cfg.defects.fix({"all"});
    auto [model, params] = bound<double>(cfg);
    REQUIRE(model->generated().size() == 34);
    ad::Tape<double> tape;
    const Matrix<double> w = random_matrix(4, 34, 6), x = random_matrix(4, 1, 7);
    const Matrix<double> u = model->shape_net(tape.constant(x), tape.constant(w)).value();
    for (Index b = 0; b < 4; ++b)
      CHECK(u(b, 0) == doctest::Approx(reference_shape_net(cfg.shape_net, w.row(b).data(), x(b, 0), e.residual, e.bias_at))
                           .epsilon(1e-12));
  }
}

TEST_CASE("with the aliased last bias, the true last-bias output of the ParameterNet gets no gradient") {
  for (bool fixed : {false, true}) {
    ExperimentConfig cfg = architecture("functional").defaults("low-frequency");
    if (fixed) cfg.defects.fix({"aliased_last_bias"});
    auto [model, params] = bound<double>(cfg);
    ad::Tape<double> tape;
    auto w = tape.variable(random_matrix(3, 1951, 8, -0.1, 0.1));
    tape.backward(ad::sum(model->shape_net(tape.constant(random_matrix(3, 1, 9)), w)));
    CHECK((w.grad().col(1950).array() == 0).all() == !fixed);
    CHECK((w.grad().col(1920).array() != 0).all());
  }
}

TEST_CASE("the SIREN-aware output init draws each segment of the bias within its upstream bound") {
  ExperimentConfig cfg = architecture("upstream").defaults("high-frequency");
  auto [model, params] = bound<double>(cfg);
  const auto& e = params->entries();
  const auto& bias = e.back();
  const auto& weight = e[e.size() - 2];
  REQUIRE(bias.name == "last_pnet.bias");
  const auto b = params->values().segment(bias.offset, bias.size());
  const auto wv = params->values().segment(weight.offset, weight.size());
  CHECK(wv.cwiseAbs().maxCoeff() <= 0.01 * std::sqrt(6.0));
  CHECK(wv.cwiseAbs().maxCoeff() > 0.01 * std::sqrt(6.0) * 0.9);
  auto max_abs = [&](Index from, Index to) { return b.segment(from, to - from).cwiseAbs().maxCoeff(); };
  CHECK(max_abs(0, 30) <= 1.0);
  CHECK(max_abs(0, 30) > 0.8);
  CHECK(max_abs(30, 1830) <= std::sqrt(6.0 / 30) / 30);
  CHECK(max_abs(30, 1830) > 0.95 * std::sqrt(6.0 / 30) / 30);
  CHECK(max_abs(1830, 1860) <= std::sqrt(6.0 / 60));
  CHECK(max_abs(1860, 1951) <= 1.0 / 30);
  // The functional port keeps TruncatedNormal(0.1) unless the defect is fixed.
  ExperimentConfig f = architecture("functional").defaults("high-frequency");
  auto [fm, fp] = bound<double>(f);
  CHECK(fp->values().tail(1951).cwiseAbs().maxCoeff() > 0.1);
}

TEST_CASE("architectures differ in ParameterNet initialisation as their sources do") {
  auto hidden_max = [](const char* arch) {
    auto [model, params] = bound<double>(architecture(arch).defaults("low-frequency"));
    const auto& e = params->entry(2);  // first hidden block's weight
    REQUIRE(e.rows == 30);
    return params->values().segment(e.offset, e.size()).cwiseAbs().maxCoeff();
  };
  // Keras TruncatedNormal(0.1) reaches up to 2σ = 0.2 (about 2 % of 900 draws lie beyond 0.1826);
  // nn.Linear's default U(±1/√30) never passes 0.1826.
  CHECK(hidden_max("upstream") <= 0.2);
  CHECK(hidden_max("upstream") > 1 / std::sqrt(30.0));
  CHECK(hidden_max("pytorch") <= 1 / std::sqrt(30.0) + 1e-12);
  CHECK(hidden_max("pytorch") > 0.18);
}

TEST_CASE("parameter names follow each source's naming") {
  auto names = [](const char* arch) {
    auto [model, params] = bound<float>(architecture(arch).defaults("low-frequency"));
    std::vector<std::string> v;
    for (const auto& e : params->entries()) v.push_back(e.name);
    return v;
  };
  CHECK(names("upstream").front() == "first_dense_pnet.weight");
  CHECK(names("upstream")[2] == "hidden_mlpshortcut_pnet_0.dense.weight");
  CHECK(names("functional").back() == "last_pnet.bias");
  CHECK(names("pytorch")[4] == "parameter_net.3.dense.weight");
}

TEST_CASE("the same seed builds identical models and another seed builds others") {
  const auto cfg = architecture("pytorch").defaults("low-frequency");
  auto [m1, p1] = bound<float>(cfg, 5);
  auto [m2, p2] = bound<float>(cfg, 5);
  auto [m3, p3] = bound<float>(cfg, 6);
  CHECK(p1->values() == p2->values());
  CHECK(p1->values() != p3->values());
}

TEST_CASE("unknown architectures and cases are reported with the known names") {
  CHECK_THROWS_WITH_AS(architecture("keras"),
                       ("unknown architecture 'keras' (expected one of: " + architecture_list() +
                        "; or all, faithful, hypernetwork, baseline where a list is taken)")
                           .c_str(),
                       std::invalid_argument);
  CHECK_THROWS_AS(seed_case_config("medium-frequency"), std::invalid_argument);
}

TEST_CASE("a model summary shows the ParameterNet layers and the total") {
  auto [model, params] = bound<float>(architecture("upstream").defaults("low-frequency"));
  const std::string s = nn::summary(*model, "upstream", [&](ad::Tape<float>& tape) {
    model->forward(tape.constant(Matrix<float>::Zero(1, 1)), tape.constant(Matrix<float>::Zero(1, 1)));
  });
  CHECK(s.find("last_pnet") != std::string::npos);
  CHECK(s.find("Total params: 5,853") != std::string::npos);
}

TEST_CASE("experiment configs survive a JSON round trip") {
  ExperimentConfig c = architecture("functional").defaults("high-frequency");
  c.train.epochs = 17;
  c.defects.fix({"missing_last_bias"});
  const ExperimentConfig back = experiment_config_from_json(to_json(c));
  CHECK(to_json(back) == to_json(c));
  CHECK_THROWS_AS(experiment_config_from_json(nlohmann::json{{"architecture", "x"}}), std::invalid_argument);
}
