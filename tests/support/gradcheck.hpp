#pragma once
// The one gradient-check utility: reverse-mode gradients against central differences in double.

#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "autodiff/autodiff.hpp"

namespace testing {

using ad::Matrix;
using ad::Tape;
using ad::Var;

/// Builds the function under test on a tape from its input leaves.
using TapeFunction = std::function<Var<double>(Tape<double>&, std::span<const Var<double>>)>;

struct GradCheckOptions {
  double relative_tolerance = 1e-6;
  double absolute_tolerance = 1e-8;
  double step = 1e-3;               ///< finite-difference step (relative to max(1, |x|))
  std::vector<bool> differentiable;  ///< per input; empty: all inputs differentiable
  unsigned seed = 7;                 ///< seed of the random output projection
};

struct GradCheckResult {
  bool ok = true;
  double max_abs_error = 0;
  double max_rel_error = 0;
  std::string first_failure;  ///< "input k, element (i,j): analytic a vs numeric n"
};

/// A random matrix with entries in [lo, hi], reproducible from `seed`.
inline Matrix<double> random_matrix(ad::Index rows, ad::Index cols, unsigned seed, double lo = -1, double hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uni(lo, hi);
  Matrix<double> m(rows, cols);
  for (auto& v : m.reshaped()) v = uni(rng);
  return m;
}

/// Accumulates analytic-vs-numeric comparisons under |a − n| ≤ atol + rtol·max(|a|, |n|).
struct GradComparison {
  const GradCheckOptions& opt;
  GradCheckResult result;
  bool agrees(double analytic, double numeric) const {
    return std::abs(analytic - numeric) <= opt.absolute_tolerance + opt.relative_tolerance * std::max(std::abs(analytic), std::abs(numeric));
  }
  void add(double analytic, double numeric, const std::string& where) {
    const double err = std::abs(analytic - numeric), scale = std::max(std::abs(analytic), std::abs(numeric));
    result.max_abs_error = std::max(result.max_abs_error, err);
    if (scale > 0) result.max_rel_error = std::max(result.max_rel_error, err / scale);
    if (err > opt.absolute_tolerance + opt.relative_tolerance * scale && result.ok) {
      result.ok = false;
      result.first_failure = where + ": analytic " + std::to_string(analytic) + " vs numeric " + std::to_string(numeric);
    }
  }
};

/// d g/dx at x by the 4-point central stencil (8[g(x+h/2) − g(x−h/2)] − [g(x+h) − g(x−h)]) / 6h,
/// exact to O(h⁴); `x` is restored afterwards.
template <class G>
double central_difference(double& x, double step, G&& g) {
  const double x0 = x, h = step * std::max(1.0, std::abs(x0));
  auto at = [&](double d) {
    x = x0 + d;
    return g();
  };
  const double d = (8 * (at(h / 2) - at(-h / 2)) - (at(h) - at(-h))) / (6 * h);
  x = x0;
  return d;
}

/// The central difference at `step`, retried at step/10 and step/100 while it disagrees with
/// `analytic`: a function of high frequency (Fourier features, a large ω0) needs a smaller step
/// before the stencil's truncation error falls below the tolerance, and a smaller step is less
/// likely to straddle a ReLU kink. A wrong gradient disagrees at every step.
template <class G>
double numeric_derivative(double& x, double step, double analytic, const GradComparison& cmp, G&& g) {
  double numeric = central_difference(x, step, g);
  for (int refine = 0; refine < 2 && !cmp.agrees(analytic, numeric); ++refine) {
    step /= 10;
    const double finer = central_difference(x, step, g);
    if (std::abs(finer - analytic) < std::abs(numeric - analytic)) numeric = finer;
  }
  return numeric;
}

/// Checks d⟨f(x), R⟩/dx for a random projection R of f's output, element by element, with the
/// 4-point central stencil (8[f(x+h/2) − f(x−h/2)] − [f(x+h) − f(x−h)]) / 6h, which is exact to
/// O(h⁴), under |a − n| ≤ atol + rtol·max(|a|, |n|).
inline GradCheckResult gradcheck(const TapeFunction& f, std::vector<Matrix<double>> inputs, GradCheckOptions opt = {}) {
  const std::size_t k = inputs.size();
  auto differentiable = [&](std::size_t i) { return opt.differentiable.empty() || opt.differentiable[i]; };
  Tape<double> tape;
  auto build = [&](bool grad) {
    tape.clear();
    tape.set_grad_enabled(grad);
    std::vector<Var<double>> leaves;
    for (std::size_t i = 0; i < k; ++i)
      leaves.push_back(differentiable(i) ? tape.variable(inputs[i]) : tape.constant(inputs[i]));
    Var<double> out = f(tape, leaves);
    return std::pair{leaves, out};
  };

  // Analytic: one reverse sweep seeded with R.
  auto [leaves, out] = build(true);
  const Matrix<double> R = random_matrix(out.rows(), out.cols(), opt.seed);
  std::vector<Matrix<double>> analytic;
  if (out.requires_grad()) {
    out.grad() = R;
    tape.backward_seeded(out);
  }
  for (std::size_t i = 0; i < k; ++i)
    analytic.push_back(differentiable(i) && leaves[i].requires_grad() ? Matrix<double>(leaves[i].grad())
                                                                        : Matrix<double>::Zero(inputs[i].rows(), inputs[i].cols()));

  auto projected = [&] {
    auto [l, o] = build(false);
    return (o.value().array() * R.array()).sum();
  };

  GradComparison cmp{opt, {}};
  for (std::size_t i = 0; i < k; ++i) {
    if (!differentiable(i)) continue;
    for (ad::Index r = 0; r < inputs[i].rows(); ++r)
      for (ad::Index c = 0; c < inputs[i].cols(); ++c)
        cmp.add(analytic[i](r, c), numeric_derivative(inputs[i](r, c), opt.step, analytic[i](r, c), cmp, projected),
                "input " + std::to_string(i) + ", element (" + std::to_string(r) + "," + std::to_string(c) + ")");
  }
  tape.set_grad_enabled(true);
  return cmp.result;
}

/// Checks d⟨f, R⟩/dθ for every entry θ of a flat parameter buffer (layers and whole models):
/// `f` builds the output on the tape from the buffer's current values.
inline GradCheckResult gradcheck_parameters(const std::function<Var<double>(Tape<double>&)>& f,
                                            ad::ParameterBuffer<double>& params, GradCheckOptions opt = {}) {
  Tape<double> tape;
  params.zero_grad();
  Var<double> out = f(tape);
  const Matrix<double> R = random_matrix(out.rows(), out.cols(), opt.seed);
  out.grad() = R;
  tape.backward_seeded(out);
  const ad::Vector<double> analytic = params.grads();
  auto projected = [&] {
    tape.clear();
    ad::NoGradGuard<double> guard(tape);
    return (f(tape).value().array() * R.array()).sum();
  };
  GradComparison cmp{opt, {}};
  for (ad::Index i = 0; i < params.size(); ++i)
    cmp.add(analytic(i), numeric_derivative(params.values()(i), opt.step, analytic(i), cmp, projected), "parameter " + std::to_string(i));
  return cmp.result;
}

}  // namespace testing

/// Reports a gradient-check result inside a doctest case, with the first failing element.
#define CHECK_GRADIENT_RESULT(result_expr)                                                        \
  do {                                                                                            \
    const auto gc_result_ = (result_expr);                                                        \
    INFO("max abs error ", gc_result_.max_abs_error, ", max rel error ", gc_result_.max_rel_error, \
         "; ", gc_result_.first_failure);                                                         \
    CHECK(gc_result_.ok);                                                                         \
  } while (0)

/// Runs testing::gradcheck(function, inputs[, options]) and reports it.
#define CHECK_GRADIENTS(...) CHECK_GRADIENT_RESULT(::testing::gradcheck(__VA_ARGS__))
