#include "experiments/demo.hpp"

#include <fmt/format.h>

#include <cmath>
#include <numbers>
#include <random>

#include "autodiff/autodiff.hpp"

namespace experiments {

int run_demo(int, char**) {
  using namespace ad;
  constexpr Index kPoints = 256, kHidden = 32;
  constexpr int kSteps = 3000;
  Matrix<float> x(kPoints, 1), y(kPoints, 1);
  for (Index i = 0; i < kPoints; ++i) {
    x(i, 0) = float(-std::numbers::pi + 2 * std::numbers::pi * double(i) / double(kPoints - 1));
    y(i, 0) = std::sin(x(i, 0));
  }
  ParameterBuffer<float> params;
  const Index w1 = params.add("w1", 1, kHidden), b1 = params.add("b1", 1, kHidden, false);
  const Index w2 = params.add("w2", kHidden, 1), b2 = params.add("b2", 1, 1, false);
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0, 1);
  for (Index i : {w1, w2})
    for (auto& v : params.value(i).reshaped()) v = normal(rng) / std::sqrt(float(params.entry(i).rows));

  // Plain gradient descent with momentum on the flat buffers.
  Vector<float> velocity = Vector<float>::Zero(params.size());
  Tape<float> tape;
  fmt::print("demo: fitting sin(x) on [-pi, pi] with a 1-{}-1 tanh MLP, {} points, {} steps\n", kHidden, kPoints, kSteps);
  for (int step = 0; step <= kSteps; ++step) {
    tape.clear();
    params.zero_grad();
    auto h = tanh(affine(tape.constant(x), params.on(tape, w1), params.on(tape, b1)));
    auto loss = mse(affine(h, params.on(tape, w2), params.on(tape, b2)), tape.constant(y));
    tape.backward(loss);
    velocity = 0.9f * velocity - 0.05f * params.grads();
    params.values() += velocity;
    if (step % 500 == 0) fmt::print("  step {:5d}  mse {:.3e}\n", step, loss.item());
  }
  return 0;
}

}  // namespace experiments
