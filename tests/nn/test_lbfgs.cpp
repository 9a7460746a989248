// L-BFGS with a strong-Wolfe line search: Rosenbrock, an ill-conditioned quadratic, stopping
// reasons, training a ParameterBuffer in place, and error handling.

#include <doctest/doctest.h>

#include <Eigen/QR>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "nn/lbfgs.hpp"
#include "support/gradcheck.hpp"

namespace {

double rosenbrock(const ad::Vector<double>& x, ad::Vector<double>& g) {
  const double a = 1 - x[0], b = x[1] - x[0] * x[0];
  g[0] = -2 * a - 400 * x[0] * b;
  g[1] = 200 * b;
  return a * a + 100 * b * b;
}

/// ½ (x − x*)ᵀA(x − x*) with A = Qᵀ·diag(λ)·Q, λ evenly spaced in [1, condition], for a fixed
/// random rotation Q. The minimum value is 0, so f keeps relative precision down to the minimum.
struct Quadratic {
  ad::Matrix<double> A;
  ad::Vector<double> minimizer;
  Quadratic(ad::Index n, double condition) {
    const ad::Matrix<double> Q = Eigen::HouseholderQR<ad::Matrix<double>>(testing::random_matrix(n, n, 11)).householderQ();
    A = Q.transpose() * ad::Vector<double>::LinSpaced(n, 1.0, condition).asDiagonal() * Q;
    minimizer = testing::random_matrix(n, 1, 12);
  }
  double operator()(const ad::Vector<double>& x, ad::Vector<double>& g) const {
    const ad::Vector<double> e = x - minimizer;
    g = A * e;
    return 0.5 * e.dot(g);
  }
};

}  // namespace

TEST_CASE("lbfgs minimises Rosenbrock from (-1.2, 1)") {
  ad::Vector<double> x(2);
  x << -1.2, 1.0;
  const nn::LbfgsResult r = nn::lbfgs_minimize<double>(rosenbrock, x);
  CAPTURE(nn::to_string(r.reason));
  CAPTURE(r.iterations);
  CHECK(r.converged);
  CHECK(r.f < 1e-8);
  CHECK(std::abs(x[0] - 1) < 1e-4);
  CHECK(std::abs(x[1] - 1) < 1e-4);
  ad::Vector<double> g(2);
  CHECK(rosenbrock(x, g) == r.f);
  CHECK(r.evaluations > r.iterations);
}

TEST_CASE("lbfgs solves a 20-dimensional convex quadratic in at most 25 iterations") {
  // Condition number 5; SciPy's L-BFGS-B (maxcor 10, gtol 1e-8) needs 18-20 iterations on such problems.
  const Quadratic q(20, 5.0);
  ad::Vector<double> x = ad::Vector<double>::Zero(20);
  const nn::LbfgsResult r = nn::lbfgs_minimize<double>(q, x);
  CAPTURE(nn::to_string(r.reason));
  CHECK(r.reason == nn::LbfgsStop::gradient_tolerance);
  CHECK(r.iterations <= 25);
  CHECK(r.gradient_norm <= 1e-8);
  CHECK((x - q.minimizer).cwiseAbs().maxCoeff() < 1e-8);
}

TEST_CASE("lbfgs: a longer history helps on an ill-conditioned quadratic") {
  const Quadratic q(20, 1000.0);
  const auto iterations = [&](int history) {
    ad::Vector<double> x = ad::Vector<double>::Zero(20);
    const nn::LbfgsResult r = nn::lbfgs_minimize<double>(q, x, {.history = history, .max_iterations = 1000});
    CHECK(r.reason == nn::LbfgsStop::gradient_tolerance);
    CHECK((x - q.minimizer).cwiseAbs().maxCoeff() < 1e-6);
    return r.iterations;
  };
  CHECK(iterations(20) < iterations(3));
}

TEST_CASE("lbfgs stopping reasons") {
  SUBCASE("already at the minimum: no iteration") {
    ad::Vector<double> x = ad::Vector<double>::Ones(2);
    const auto r = nn::lbfgs_minimize<double>(rosenbrock, x);
    CHECK(r.converged);
    CHECK(r.reason == nn::LbfgsStop::gradient_tolerance);
    CHECK(r.iterations == 0);
    CHECK(r.evaluations == 1);
  }
  SUBCASE("iteration budget") {
    ad::Vector<double> x(2);
    x << -1.2, 1.0;
    const auto r = nn::lbfgs_minimize<double>(rosenbrock, x, {.max_iterations = 3});
    CHECK_FALSE(r.converged);
    CHECK(r.reason == nn::LbfgsStop::max_iterations);
    CHECK(r.iterations == 3);
    CHECK(r.f < 24.2);  // f(-1.2, 1) = 24.2
  }
  SUBCASE("function tolerance: relative decrease below 1e-6 near a minimum value of 10") {
    const Quadratic q(5, 10.0);
    ad::Vector<double> x = ad::Vector<double>::Zero(5);
    const auto r = nn::lbfgs_minimize<double>(
        [&](const ad::Vector<double>& v, ad::Vector<double>& g) { return q(v, g) + 10.0; }, x,
        {.gradient_tolerance = 0.0, .function_tolerance = 1e-6});
    CHECK(r.converged);
    CHECK(r.reason == nn::LbfgsStop::function_tolerance);
    CHECK(r.f - 10.0 < 1e-4);
  }
  SUBCASE("no descent possible: a gradient that lies") {
    ad::Vector<double> x = ad::Vector<double>::Ones(1);
    const auto r = nn::lbfgs_minimize<double>(
        [](const ad::Vector<double>& v, ad::Vector<double>& g) {
          g[0] = -1.0;  // claims f decreases to the right, while f = x² increases there
          return v[0] * v[0];
        },
        x);
    CHECK_FALSE(r.converged);
    CHECK(r.reason == nn::LbfgsStop::line_search_failed);
    CHECK(x[0] == 1.0);
  }
  CHECK(nn::to_string(nn::LbfgsStop::line_search_failed) == "line_search_failed");
}

TEST_CASE("lbfgs backs off from trial points where the objective is infinite") {
  // f = −log(0.5 − u) − 4u, minimum at u = 0.25; the first trial step lands at u = 1, past the barrier.
  ad::Vector<double> x = ad::Vector<double>::Zero(1);
  int infinite = 0;
  const auto r = nn::lbfgs_minimize<double>(
      [&](const ad::Vector<double>& v, ad::Vector<double>& g) {
        const double u = v[0];
        if (u >= 0.5) {
          ++infinite;
          return std::numeric_limits<double>::infinity();
        }
        g[0] = 1.0 / (0.5 - u) - 4.0;
        return -std::log(0.5 - u) - 4.0 * u;
      },
      x);
  CHECK(infinite > 0);
  CHECK(r.converged);
  CHECK(std::abs(x[0] - 0.25) < 1e-8);
}

TEST_CASE("lbfgs rejects bad input") {
  ad::Vector<double> x = ad::Vector<double>::Zero(2);
  CHECK_THROWS_AS(nn::lbfgs_minimize<double>(rosenbrock, x, {.history = 0}), std::invalid_argument);
  CHECK_THROWS_AS(nn::lbfgs_minimize<double>(rosenbrock, x, {.c1 = 0.95, .c2 = 0.9}), std::invalid_argument);
  CHECK_THROWS_AS(nn::lbfgs_minimize<double>(
                      [](const ad::Vector<double>&, ad::Vector<double>& g) {
                        g = ad::Vector<double>::Zero(3);
                        return 0.0;
                      },
                      x),
                  std::invalid_argument);
  CHECK_THROWS_AS(nn::lbfgs_minimize<double>([](const ad::Vector<double>&, ad::Vector<double>&) { return std::nan(""); }, x),
                  std::invalid_argument);
  CHECK_THROWS_AS(nn::lbfgs_minimize<double>(nn::Objective<double>{}, x), std::invalid_argument);
}

TEST_CASE("lbfgs works in float") {
  ad::Vector<float> x = ad::Vector<float>::Zero(3);
  const ad::Vector<float> target = (ad::Vector<float>(3) << 1.0f, -2.0f, 0.5f).finished();
  const auto r = nn::lbfgs_minimize<float>(
      [&](const ad::Vector<float>& v, ad::Vector<float>& g) {
        const ad::Vector<float> d = v - target;
        g = 2.0f * d.cwiseProduct(ad::Vector<float>::LinSpaced(3, 1.0f, 10.0f));
        return d.dot(d.cwiseProduct(ad::Vector<float>::LinSpaced(3, 1.0f, 10.0f)));
      },
      x, {.gradient_tolerance = 1e-5});
  CHECK(r.converged);
  CHECK((x - target).cwiseAbs().maxCoeff() < 1e-4f);
}

TEST_CASE("lbfgs_train fits a ParameterBuffer in place and keeps frozen entries") {
  // Least squares y = X·w + b on exact data; the closure fills the buffer's gradients.
  ad::ParameterBuffer<double> params;
  const ad::Index w = params.add("w", 3, 1);
  const ad::Index b = params.add("b", 1, 1, false);
  const ad::Index frozen = params.add("frozen", 1, 2);
  params.value(frozen) << 0.25, -0.75;
  params.set_trainable(frozen, false);
  const ad::Matrix<double> X = testing::random_matrix(40, 3, 21);
  const ad::Vector<double> w_true = (ad::Vector<double>(3) << 0.5, -1.0, 2.0).finished();
  const ad::Vector<double> y = (X * w_true).array() + 0.3;
  int calls = 0;
  const auto loss = [&] {
    ++calls;
    CHECK((params.grads().array() == 0.0).all());
    const ad::Vector<double> residual = (X * params.value(w)).array() + params.value(b)(0, 0) - y.array();
    params.grad(w) = X.transpose() * residual / 20.0;
    params.grad(b)(0, 0) = residual.sum() / 20.0;
    params.grad(frozen).setConstant(1.0);  // must be ignored
    return residual.squaredNorm() / 40.0;
  };
  const nn::LbfgsResult r = nn::lbfgs_train<double>(params, loss);
  CHECK(r.converged);
  CHECK(r.evaluations == calls);
  CHECK((params.value(w).col(0) - w_true).cwiseAbs().maxCoeff() < 1e-8);
  CHECK(std::abs(params.value(b)(0, 0) - 0.3) < 1e-8);
  CHECK(params.value(frozen)(0, 0) == 0.25);
  CHECK(params.value(frozen)(0, 1) == -0.75);
}
