// The "fourier" baseline: u = MLP([sin, cos](2π·(p, x)·B)) with B ~ N(0, σ²) fixed, drawn from the
// run's seed.

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "support/dense_reference.hpp"
#include "support/models.hpp"

using namespace nif;
using testing::random_matrix;

namespace {

/// A small fourier config: P = D = 2, 3 units, m = 5 frequencies of scale σ, run seed `seed`.
ExperimentConfig small(double sigma, std::uint64_t seed = 7) {
  ExperimentConfig cfg = testing::small_config("fourier", "custom");
  cfg.variant["fourier_sigma"] = sigma;
  cfg.variant["fourier_features"] = 5;
  cfg.train.seed = seed;
  return cfg;
}

/// u at the samples (p, x) of a double model of `cfg` whose trainable values are `values`.
ad::Matrix<double> evaluate(const ExperimentConfig& cfg, const ad::Vector<double>& values, const ad::Matrix<double>& p,
                            const ad::Matrix<double>& x) {
  auto [model, params] = testing::bind_model<double>(cfg, 99);
  params->values() = values;
  ad::Tape<double> tape;
  return model->forward(tape.constant(p), tape.constant(x)).value();
}

}  // namespace

TEST_CASE("fourier computes the MLP of [sin(2π·v·B), cos(2π·v·B)] for one sample, B drawn as documented") {
  const ExperimentConfig cfg = small(10);
  auto [model, params] = testing::bind_model<double>(cfg);
  params->values() = random_matrix(params->size(), 1, 21, -0.8, 0.8);
  // B [P + D, m] ~ N(0, σ²), row-major from the stream 0xF0F1E5 of the run's seed, stored as 2π·B.
  ad::Matrix<double> b(4, 5);
  nn::Rng rng = nn::Rng(7).split(0xF0F1E5);
  nn::init::normal(ad::MatrixMap<double>(b.data(), 4, 5), 2 * std::numbers::pi * 10, rng);
  const ad::Matrix<double> p = random_matrix(1, 2, 22), x = random_matrix(1, 2, 23);
  const double v[] = {p(0, 0), p(0, 1), x(0, 0), x(0, 1)};
  std::vector<double> features(10);
  for (int j = 0; j < 5; ++j) {
    double phase = 0;
    for (int i = 0; i < 4; ++i) phase += v[i] * b(i, j);
    features[std::size_t(j)] = std::sin(phase);
    features[std::size_t(j + 5)] = std::cos(phase);
  }
  ad::Tape<double> tape;
  const double u = model->forward(tape.constant(p), tape.constant(x)).value()(0, 0);
  const auto ref = testing::reference_dense_stack(*params, features, [](double a) { return std::max(a, 0.0); });
  CHECK(u == doctest::Approx(ref[0]).epsilon(1e-12));
}

TEST_CASE("fourier trains only its MLP: 5,761 parameters on the seed cases with 64 frequencies") {
  for (const char* c : {"low-frequency", "high-frequency"}) {
    CAPTURE(c);
    auto [model, params] = testing::bind_model<float>(architecture("fourier").defaults(c));
    CHECK(model->config().option("fourier_features") == 64);
    // (2·64 → 30) + 2 × (30 → 30) + (30 → 1), with biases; B is not a parameter.
    CHECK(model->parameter_count() == 129 * 30 + 2 * 31 * 30 + 31);
    CHECK(model->parameter_count() == 5761);
    for (const auto& e : params->entries()) CHECK(e.name.starts_with("net."));
  }
  ExperimentConfig cfg = architecture("fourier").defaults("low-frequency");
  cfg.variant["fourier_features"] = 16;
  CHECK(testing::bind_model<float>(cfg).model->parameter_count() == 33 * 30 + 2 * 31 * 30 + 31);
}

TEST_CASE("fourier's σ scales the frequencies: the model at σ = 10 is the model at σ = 1 on 10·(p, x)") {
  const ExperimentConfig one = small(1), ten = small(10);
  const ad::Vector<double> values = random_matrix(testing::bind_model<double>(one).params->size(), 1, 31, -0.8, 0.8);
  const ad::Matrix<double> p = random_matrix(6, 2, 32), x = random_matrix(6, 2, 33);
  const ad::Matrix<double> at_ten = evaluate(ten, values, p, x);
  const ad::Matrix<double> scaled = evaluate(one, values, 10 * p, 10 * x);
  CHECK((at_ten - scaled).cwiseAbs().maxCoeff() < 1e-9);
  CHECK((at_ten - evaluate(one, values, p, x)).cwiseAbs().maxCoeff() > 1e-3);
}

TEST_CASE("fourier's B follows the run's seed, not the weights' init, and survives training and a rebuild from config.json") {
  const ExperimentConfig cfg = small(10);
  const ad::Matrix<double> p = random_matrix(6, 2, 41), x = random_matrix(6, 2, 42);
  auto [model, params] = testing::bind_model<double>(cfg, 1);
  // Two plain gradient steps stand in for training.
  for (int step = 0; step < 2; ++step) {
    ad::Tape<double> tape;
    params->zero_grad();
    tape.backward(ad::sum(ad::square(model->forward(tape.constant(p), tape.constant(x)))));
    params->values() -= 0.1 * params->grads();
  }
  ad::Tape<double> tape;
  const ad::Matrix<double> trained = model->forward(tape.constant(p), tape.constant(x)).value();
  // `nif predict` rebuilds the model from config.json and loads the trained values.
  const ExperimentConfig rebuilt = experiment_config_from_json(to_json(cfg));
  CHECK((evaluate(rebuilt, params->values(), p, x) - trained).cwiseAbs().maxCoeff() == 0);
  // Another run seed draws another B.
  CHECK((evaluate(small(10, 8), params->values(), p, x) - trained).cwiseAbs().maxCoeff() > 1e-3);
}
