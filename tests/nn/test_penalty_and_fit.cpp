// Regularisation terms, activation names, and a small MLP that must actually learn.

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "nn/layers.hpp"
#include "nn/optim.hpp"
#include "nn/penalty.hpp"
#include "support/gradcheck.hpp"

using namespace nn;
using ad::Matrix;

TEST_CASE("parameter penalties equal their formulas and are gradient-checked") {
  Dense<double> d({.in = 3, .out = 2});
  ad::ParameterBuffer<double> params;
  Rng rng(1);
  d.bind(params, rng);
  params.values() = testing::random_matrix(params.size(), 1, 2);
  ad::Tape<double> tape;
  CHECK(l2_penalty(d, tape, 0.5).item() == doctest::Approx(0.5 * params.values().squaredNorm()));
  CHECK(l1_penalty(d, tape, 0.25).item() == doctest::Approx(0.25 * params.values().cwiseAbs().sum()));
  CHECK_GRADIENT_RESULT(testing::gradcheck_parameters([&](ad::Tape<double>& t) { return l2_penalty(d, t, 0.3); }, params));
  CHECK_GRADIENT_RESULT(testing::gradcheck_parameters([&](ad::Tape<double>& t) { return l1_penalty(d, t, 0.3); }, params));
}

TEST_CASE("activity penalties divide by the batch size and are gradient-checked") {
  const Matrix<double> A = testing::random_matrix(4, 3, 3);
  ad::Tape<double> tape;
  CHECK(activity_l2(tape.constant(A), 2.0).item() == doctest::Approx(2.0 * A.squaredNorm() / 4));
  CHECK(activity_l1(tape.constant(A), 2.0).item() == doctest::Approx(2.0 * A.cwiseAbs().sum() / 4));
  CHECK_GRADIENTS([](ad::Tape<double>&, std::span<const Var<double>> v) { return activity_l2(v[0], 0.7); }, {A});
  CHECK_GRADIENTS([](ad::Tape<double>&, std::span<const Var<double>> v) { return activity_l1(v[0], 0.7); }, {A});
}

TEST_CASE("activations are found by name and an unknown name is a clear error") {
  CHECK(ad::activation_from_name("silu") == Activation::swish);
  CHECK(ad::activation_from_name("sine") == Activation::sin);
  CHECK(ad::activation_from_name("linear") == Activation::identity);
  CHECK_THROWS_WITH_AS(ad::activation_from_name("gelu"),
                       "unknown activation 'gelu' (expected identity, relu, sigmoid, tanh, swish, silu or sine)",
                       std::invalid_argument);
}

TEST_CASE("a small MLP learns sin(x) on [-pi, pi] to MSE below 1e-4 within 3000 Adam steps") {
  constexpr ad::Index kPoints = 128;
  Matrix<float> x(kPoints, 1), y(kPoints, 1);
  for (ad::Index i = 0; i < kPoints; ++i) {
    x(i, 0) = float(-std::numbers::pi + 2 * std::numbers::pi * double(i) / double(kPoints - 1));
    y(i, 0) = std::sin(x(i, 0));
  }
  Sequential<float> net;
  net.add("hidden", std::make_shared<Dense<float>>(DenseOptions{.in = 1, .out = 32, .activation = Activation::tanh}))
      .add("out", std::make_shared<Dense<float>>(DenseOptions{.in = 32, .out = 1}));
  ad::ParameterBuffer<float> params;
  Rng rng(0);
  net.bind(params, rng);
  auto adam = make_optimizer<float>("adam", params, {.learning_rate = 1e-2, .adam_flavour = AdamFlavour::pytorch});
  ad::Tape<float> tape;
  float loss = 1;
  for (int step = 0; step < 3000 && loss >= 1e-4f; ++step) {
    tape.clear();
    params.zero_grad();
    auto l = ad::mse(net(tape.constant(x)), tape.constant(y));
    tape.backward(l);
    adam->step();
    loss = l.item();
  }
  CHECK(loss < 1e-4f);
}
