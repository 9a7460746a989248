// The "mlp" baseline: an MLP on (p, x) sized by the shape flags, tanh (Glorot) or relu (He).

#include <doctest/doctest.h>

#include <cmath>

#include "support/dense_reference.hpp"
#include "support/models.hpp"

using namespace nif;
using testing::random_matrix;

namespace {
const char* const kSeedCases[] = {"low-frequency", "high-frequency"};

/// The maximum |value| of the buffer entry called `name`.
double max_abs(const ad::ParameterBuffer<double>& params, const std::string& name) {
  for (const auto& e : params.entries())
    if (e.name == name) return params.values().segment(e.offset, e.size()).cwiseAbs().maxCoeff();
  FAIL("no parameter " << name);
  return 0;
}
}  // namespace

TEST_CASE("mlp computes act(…act([p, x]·W + b)…)·W + b for one sample, tanh by default and relu by flag") {
  for (Activation act : {Activation::tanh, Activation::relu}) {
    ExperimentConfig cfg = testing::small_config("mlp", "custom");
    cfg.shape_net.activation = act;
    auto [model, params] = testing::bind_model<double>(cfg);
    params->values() = random_matrix(params->size(), 1, 11, -0.8, 0.8);
    const ad::Matrix<double> p = random_matrix(1, 2, 12), x = random_matrix(1, 2, 13);
    ad::Tape<double> tape;
    const double u = model->forward(tape.constant(p), tape.constant(x)).value()(0, 0);
    auto f = [act](double a) { return act == Activation::tanh ? std::tanh(a) : std::max(a, 0.0); };
    const auto ref = testing::reference_dense_stack(*params, {p(0, 0), p(0, 1), x(0, 0), x(0, 1)}, f);
    CHECK(u == doctest::Approx(ref[0]).epsilon(1e-12));
  }
}

TEST_CASE("mlp at the seed's width and depth has 1,981 trainable parameters and generates none") {
  for (const char* c : kSeedCases) {
    CAPTURE(c);
    auto [model, params] = testing::bind_model<float>(architecture("mlp").defaults(c));
    // (P + D → 30) + 2 × (30 → 30) + (30 → 1), with biases.
    CHECK(model->parameter_count() == 3 * 30 + 2 * 31 * 30 + 31);
    CHECK(model->parameter_count() == 1981);
    CHECK(model->generated().empty());
  }
}

TEST_CASE("mlp's shape flags size it: --shape-units its width, --shape-layers its hidden layers") {
  ExperimentConfig cfg = architecture("mlp").defaults("custom");
  cfg.parameter_net.input_dim = 1;
  cfg.shape_net.input_dim = 2;
  cfg.shape_net.output_dim = 3;
  cfg.shape_net.units = 36;
  cfg.shape_net.nlayers = 3;
  auto [model, params] = testing::bind_model<float>(cfg);
  CHECK(model->parameter_count() == 4 * 36 + 3 * 37 * 36 + 37 * 3);
}

TEST_CASE("mlp initialises tanh layers by Glorot and relu layers by He, biases at zero") {
  ExperimentConfig cfg = architecture("mlp").defaults("low-frequency");
  auto glorot = testing::bind_model<double>(cfg);
  const double g = std::sqrt(6.0 / 60), h = std::sqrt(6.0 / 30);
  CHECK(max_abs(*glorot.params, "net.hidden0.weight") <= g);
  CHECK(max_abs(*glorot.params, "net.hidden0.weight") > 0.95 * g);
  CHECK(max_abs(*glorot.params, "net.hidden0.bias") == 0);
  cfg.shape_net.activation = Activation::relu;
  auto he = testing::bind_model<double>(cfg);
  CHECK(max_abs(*he.params, "net.hidden0.weight") <= h);
  CHECK(max_abs(*he.params, "net.hidden0.weight") > 0.95 * h);
  // The linear last layer keeps Glorot: 30 → 1.
  CHECK(max_abs(*he.params, "net.last.weight") <= std::sqrt(6.0 / 31));
}

TEST_CASE("mlp refuses --resblock, which has no meaning for it") {
  ExperimentConfig cfg = architecture("mlp").defaults("custom");
  cfg.shape_net.use_resblock = true;
  CHECK_THROWS_WITH_AS(make_model<float>(cfg), "--resblock does not apply to architecture mlp", std::invalid_argument);
}
