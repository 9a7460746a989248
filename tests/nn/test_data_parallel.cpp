#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "nn/data_parallel.hpp"
#include "nn/random.hpp"
#include "nn/slices.hpp"
#include "support/alloc_counter.hpp"

using nn::Index;

namespace {

/// Least squares y ≈ X·w over a fixed batch of rows, w one parameter of 40 floats (so two workers
/// update different cache lines of it).
struct LeastSquares {
  static constexpr Index kRows = 96, kDim = 40;
  ad::Matrix<float> x, y;
  ad::ParameterBuffer<float> params;

  LeastSquares() : x(kRows, kDim), y(kRows, 1) {
    nn::Rng rng(3);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(rng.uniform() - 0.5);
    for (Index i = 0; i < y.size(); ++i) y.data()[i] = float(rng.uniform());
    params.add("w", kDim, 1);
    for (Index i = 0; i < kDim; ++i) params.values()[i] = float(rng.uniform() - 0.5);
  }

  /// The loss of rows [first, first + count): what the step calls on each worker.
  double operator()(ad::Tape<float>& tape, Index first, Index count, float seed) {
    ad::Var<float> u = ad::matmul(tape.constant(x.middleRows(first, count)), params.on(tape, 0));
    ad::Var<float> loss = ad::mse(u, tape.constant(y.middleRows(first, count)));
    tape.backward(loss, seed);
    return loss.item();
  }

  /// The exact gradient of the mean loss over all rows.
  Eigen::VectorXd exact_gradient() const {
    const Eigen::MatrixXd xd = x.cast<double>();
    const Eigen::VectorXd r = xd * params.values().cast<double>() - y.cast<double>();
    return 2.0 / double(kRows) * xd.transpose() * r;
  }
};

std::vector<Index> even_cuts(Index n, int workers) {
  std::vector<Index> cuts(static_cast<std::size_t>(workers) + 1);
  nn::proportional_cuts(n, std::vector<double>(static_cast<std::size_t>(workers), 0.0), cuts);
  return cuts;
}

}  // namespace

TEST_CASE("the gradient of a batch split among workers is the batch's gradient, seeded") {
  for (int workers : {1, 2, 3}) {
    CAPTURE(workers);
    LeastSquares problem;
    nn::DataParallelStep step(problem.params, {workers});
    const std::vector<Index> cuts = even_cuts(LeastSquares::kRows, workers);
    const double loss = step.gradient(cuts, 4.0f, problem);
    const Eigen::VectorXd want = 4.0 * problem.exact_gradient();
    CHECK((problem.params.grads().cast<double>() - want).norm() < 1e-5 * want.norm());
    const Eigen::VectorXd r = problem.x.cast<double>() * problem.params.values().cast<double>() - problem.y.cast<double>();
    CHECK(loss == doctest::Approx(r.squaredNorm() / double(LeastSquares::kRows)).epsilon(1e-5));
  }
}

TEST_CASE("a worker with an empty slice contributes nothing to the gradient") {
  LeastSquares one, two;
  nn::DataParallelStep a(one.params, {1}), b(two.params, {2});
  const std::vector<Index> all{0, LeastSquares::kRows}, first_empty{0, 0, LeastSquares::kRows};
  CHECK(b.gradient(first_empty, 1.0f, two) == a.gradient(all, 1.0f, one));
  CHECK(two.params.grads() == one.params.grads());
}

TEST_CASE("an optimizer step split among workers updates every part of the parameters once") {
  LeastSquares one, two;
  auto sgd1 = nn::make_optimizer<float>("sgd", one.params, {}), sgd2 = nn::make_optimizer<float>("sgd", two.params, {});
  nn::DataParallelStep a(one.params, {1}), b(two.params, {2});
  for (int s = 0; s < 5; ++s) {
    const double l1 = a.step(even_cuts(LeastSquares::kRows, 1), *sgd1, nullptr, one);
    const double l2 = b.step(even_cuts(LeastSquares::kRows, 2), *sgd2, nullptr, two);
    CHECK(l2 == doctest::Approx(l1).epsilon(1e-6));
  }
  CHECK(sgd2->steps() == 5);
  CHECK((two.params.values() - one.params.values()).norm() < 1e-6 * one.params.values().norm());
}

TEST_CASE("with loss scaling, a step whose scaled gradient overflows is skipped and halves the scale") {
  for (int workers : {1, 2}) {
    CAPTURE(workers);
    LeastSquares problem;
    auto sgd = nn::make_optimizer<float>("sgd", problem.params, {});
    nn::DataParallelStep step(problem.params, {workers});
    const ad::Vector<float> before = problem.params.values();
    nn::LossScale scale{3e38, 0, 0};  // the seeded adjoint overflows float
    step.step(even_cuts(LeastSquares::kRows, workers), *sgd, &scale, problem);
    CHECK(scale.skipped_steps == 1);
    CHECK(scale.scale == 1.5e38);
    CHECK(sgd->steps() == 0);
    CHECK(problem.params.values() == before);
    // A scale that fits: the gradient is unscaled, so the step equals the unscaled one.
    LeastSquares plain;
    auto sgd_plain = nn::make_optimizer<float>("sgd", plain.params, {});
    nn::DataParallelStep plain_step(plain.params, {workers});
    scale = {1024, 0, 0};
    step.step(even_cuts(LeastSquares::kRows, workers), *sgd, &scale, problem);
    plain_step.step(even_cuts(LeastSquares::kRows, workers), *sgd_plain, nullptr, plain);
    CHECK(sgd->steps() == 1);
    CHECK(scale.good_steps == 1);
    CHECK(problem.params.values() == plain.params.values());  // scaling by a power of two is exact
  }
}

TEST_CASE("a slice loss that throws on one worker leaves no step taken and the workers usable") {
  LeastSquares problem;
  auto sgd = nn::make_optimizer<float>("sgd", problem.params, {});
  nn::DataParallelStep step(problem.params, {2});
  const ad::Vector<float> before = problem.params.values();
  auto failing = [&](ad::Tape<float>& tape, Index first, Index count, float seed) {
    if (first > 0) throw std::runtime_error("slice failed");
    return problem(tape, first, count, seed);
  };
  CHECK_THROWS_AS(step.step(even_cuts(LeastSquares::kRows, 2), *sgd, nullptr, failing), std::runtime_error);
  CHECK(sgd->steps() == 0);
  CHECK(problem.params.values() == before);
  step.step(even_cuts(LeastSquares::kRows, 2), *sgd, nullptr, problem);
  CHECK(sgd->steps() == 1);
}

TEST_CASE("worker speeds are measured only when asked for") {
  LeastSquares a, b;
  nn::DataParallelStep measured(a.params, {2, true, true}), unmeasured(b.params, {2, true, false});
  const std::vector<Index> cuts = even_cuts(LeastSquares::kRows, 2);
  measured.gradient(cuts, 1.0f, a);
  unmeasured.gradient(cuts, 1.0f, b);
  CHECK(measured.speeds().size() == 2);
  for (double s : measured.speeds()) CHECK(s > 0);
  for (double s : unmeasured.speeds()) CHECK(s == 0);
}

TEST_CASE("a steady-state data-parallel step allocates nothing") {
  for (int workers : {1, 2}) {
    CAPTURE(workers);
    LeastSquares problem;
    auto adam = nn::make_optimizer<float>("adam", problem.params, {});
    nn::DataParallelStep step(problem.params, {workers});
    nn::LossScale scale;
    const std::vector<Index> cuts = even_cuts(LeastSquares::kRows, workers);
    step.step(cuts, *adam, &scale, problem);  // warm-up: the tapes grow to their working size
    const std::size_t before = testing::allocation_count();
    for (int s = 0; s < 10; ++s) step.step(cuts, *adam, &scale, problem);
    if (testing::kAllocationCounting) CHECK(testing::allocation_count() == before);
    CHECK(adam->steps() == 11);
  }
}

TEST_CASE("a data-parallel step refuses fewer than one worker") {
  LeastSquares problem;
  CHECK_THROWS_AS(nn::DataParallelStep(problem.params, {0}), std::invalid_argument);
}

TEST_CASE("a batch cut into another number of slices than there are workers is refused") {
  LeastSquares problem;
  nn::DataParallelStep step(problem.params, {2});
  CHECK(step.slices() == 2);  // a process alone: its workers take every slice
  CHECK_THROWS_AS(step.gradient(even_cuts(LeastSquares::kRows, 3), 1.0f, problem), std::invalid_argument);
}
