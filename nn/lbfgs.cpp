#include "nn/lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace nn {

std::string_view to_string(LbfgsStop stop) {
  switch (stop) {
    case LbfgsStop::gradient_tolerance: return "gradient_tolerance";
    case LbfgsStop::function_tolerance: return "function_tolerance";
    case LbfgsStop::max_iterations: return "max_iterations";
    case LbfgsStop::line_search_failed: return "line_search_failed";
    case LbfgsStop::stopped: return "stopped";
  }
  return "unknown";
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

template <class T>
double max_abs(const ad::Vector<T>& v) {
  return v.size() == 0 ? 0.0 : static_cast<double>(v.cwiseAbs().maxCoeff());
}

/// Minimiser of the cubic matching φ and φ' at a and b (Nocedal & Wright eq. 3.59); NaN when
/// the cubic has no local minimiser.
double cubic_minimizer(double a, double fa, double ga, double b, double fb, double gb) {
  const double d1 = ga + gb - 3.0 * (fa - fb) / (a - b);
  const double discriminant = d1 * d1 - ga * gb;
  if (!(discriminant >= 0.0)) return kNaN;
  const double d2 = std::copysign(std::sqrt(discriminant), b - a);
  return b - (b - a) * (gb + d2 - d1) / (gb - ga + 2.0 * d2);
}

void validate(const LbfgsOptions& o) {
  const auto require = [](bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("nn::lbfgs: ") + what);
  };
  require(o.history >= 1, "history must be >= 1");
  require(o.max_iterations >= 0, "max_iterations must be >= 0");
  require(o.max_line_search >= 1, "max_line_search must be >= 1");
  require(o.gradient_tolerance >= 0.0 && o.function_tolerance >= 0.0, "tolerances must be >= 0");
  require(0.0 < o.c1 && o.c1 < o.c2 && o.c2 < 1.0, "line-search constants must satisfy 0 < c1 < c2 < 1");
}

/// One L-BFGS run. Vectors are in T; line-search scalars are in double.
template <class T>
class Lbfgs {
 public:
  Lbfgs(const Objective<T>& objective, const LbfgsOptions& options, const LbfgsProgress<T>& progress, ad::Index n)
      : objective_(objective), options_(options), progress_(progress), x_(n), g_(n), d_(n), trial_x_(n), trial_g_(n),
        coefficients_(static_cast<std::size_t>(options.history)) {}

  LbfgsResult run(ad::Vector<T>& x) {
    x_ = x;
    f_ = evaluate_at(x_, g_);
    if (!std::isfinite(f_) || !g_.allFinite())
      throw std::invalid_argument("nn::lbfgs: objective or gradient is not finite at the starting point");
    LbfgsResult result;
    result.reason = LbfgsStop::max_iterations;
    bool stopped = max_abs(g_) <= options_.gradient_tolerance;
    if (stopped) result.reason = LbfgsStop::gradient_tolerance;
    while (!stopped && result.iterations < options_.max_iterations) {
      const int evaluations_before = evaluations_;
      const std::optional<double> alpha = search_direction_and_step();
      if (!alpha) {
        if (pairs_ == 0) {
          result.reason = LbfgsStop::line_search_failed;
          break;
        }
        pairs_ = 0;  // the curvature model misled the search: retry along steepest descent
        continue;
      }
      const double f_previous = f_;
      remember();
      x_.swap(trial_x_);
      g_.swap(trial_g_);
      f_ = last_.f;
      ++result.iterations;
      if (progress_ && !progress_(x_, {result.iterations, f_, *alpha, evaluations_ - evaluations_before})) {
        result.reason = LbfgsStop::stopped;
        stopped = true;
      } else if (max_abs(g_) <= options_.gradient_tolerance) {
        result.reason = LbfgsStop::gradient_tolerance;
        stopped = true;
      } else if (f_previous - f_ <= options_.function_tolerance * std::max(std::abs(f_previous), std::abs(f_))) {
        result.reason = LbfgsStop::function_tolerance;
        stopped = true;
      }
    }
    x = x_;
    result.f = f_;
    result.gradient_norm = max_abs(g_);
    result.evaluations = evaluations_;
    result.converged = result.reason == LbfgsStop::gradient_tolerance || result.reason == LbfgsStop::function_tolerance;
    return result;
  }

 private:
  /// φ(α) = f(x + α·d) and φ'(α) = ∇f(x + α·d)·d.
  struct Sample {
    double alpha, f, slope;
  };

  double evaluate_at(const ad::Vector<T>& x, ad::Vector<T>& grad) {
    grad.setZero();
    const double f = static_cast<double>(objective_(x, grad));
    ++evaluations_;
    if (grad.size() != x.size())
      throw std::invalid_argument("nn::lbfgs: objective returned a gradient of size " + std::to_string(grad.size()) +
                                  " for x of size " + std::to_string(x.size()));
    return f;
  }

  /// Evaluates the trial point x + α·d into trial_x_/trial_g_ and remembers it as `last_`.
  Sample evaluate(double alpha) {
    trial_x_ = x_ + static_cast<T>(alpha) * d_;
    const double f = evaluate_at(trial_x_, trial_g_);
    const double slope = static_cast<double>(trial_g_.dot(d_));
    last_ = {alpha, f, slope};
    return last_;
  }

  /// d = −H·g by the two-loop recursion, with H0 = (s·y / y·y)·I from the newest pair.
  void two_loop() {
    d_ = -g_;
    const int m = options_.history;
    for (int k = 0; k < pairs_; ++k) {
      const auto i = static_cast<std::size_t>((newest_ - k + m) % m);
      coefficients_[i] = rho_[i] * static_cast<double>(s_[i].dot(d_));
      d_ -= static_cast<T>(coefficients_[i]) * y_[i];
    }
    if (pairs_ > 0) {
      const auto i = static_cast<std::size_t>(newest_);
      d_ *= static_cast<T>(1.0 / (rho_[i] * static_cast<double>(y_[i].squaredNorm())));
    }
    for (int k = pairs_ - 1; k >= 0; --k) {
      const auto i = static_cast<std::size_t>((newest_ - k + m) % m);
      const double beta = rho_[i] * static_cast<double>(y_[i].dot(d_));
      d_ += static_cast<T>(coefficients_[i] - beta) * s_[i];
    }
  }

  /// Stores s = trial_x − x, y = trial_g − g unless y·s is too small for a positive-definite
  /// update; the oldest pair is overwritten once the history is full.
  void remember() {
    const auto s = trial_x_ - x_;
    const auto y = trial_g_ - g_;
    const double ys = static_cast<double>(y.dot(s));
    if (!(ys > std::numeric_limits<T>::epsilon() * static_cast<double>(y.squaredNorm()))) return;
    const int m = options_.history;
    newest_ = (newest_ + 1) % m;
    const auto i = static_cast<std::size_t>(newest_);
    if (s_.size() <= i) {
      s_.emplace_back(s);
      y_.emplace_back(y);
      rho_.push_back(1.0 / ys);
    } else {
      s_[i] = s;
      y_[i] = y;
      rho_[i] = 1.0 / ys;
    }
    pairs_ = std::min(pairs_ + 1, m);
  }

  /// Chooses d, then a step α satisfying the strong Wolfe conditions; on success trial_x_,
  /// trial_g_ and last_ hold the accepted point.
  std::optional<double> search_direction_and_step() {
    two_loop();
    double slope0 = static_cast<double>(g_.dot(d_));
    if (!(slope0 < 0.0)) {
      pairs_ = 0;
      d_ = -g_;
      slope0 = -static_cast<double>(g_.squaredNorm());
    }
    // Without curvature information, the first trial step has unit length.
    const double alpha1 = pairs_ > 0 ? 1.0 : std::min(1.0, 1.0 / static_cast<double>(d_.norm()));
    return line_search({0.0, f_, slope0}, alpha1);
  }

  bool sufficient_decrease(const Sample& zero, const Sample& s) const {
    return std::isfinite(s.f) && std::isfinite(s.slope) && s.f <= zero.f + options_.c1 * s.alpha * zero.slope;
  }
  bool curvature(const Sample& zero, const Sample& s) const { return std::abs(s.slope) <= -options_.c2 * zero.slope; }

  /// Nocedal & Wright Alg. 3.5: expand until the bracket contains a strong-Wolfe point.
  std::optional<double> line_search(const Sample& zero, double alpha) {
    Sample previous = zero;
    for (int evals = 1; evals <= options_.max_line_search; ++evals) {
      const Sample current = evaluate(alpha);
      if (!sufficient_decrease(zero, current) || (evals > 1 && current.f >= previous.f))
        return zoom(zero, previous, current, evals);
      if (curvature(zero, current)) return alpha;
      if (current.slope >= 0.0) return zoom(zero, current, previous, evals);
      // Still descending: extrapolate with the cubic, growing the step by 1.1x to 10x.
      const double guess = cubic_minimizer(previous.alpha, previous.f, previous.slope, alpha, current.f, current.slope);
      const double lower = 1.1 * alpha, upper = 10.0 * alpha;
      previous = current;
      alpha = std::isfinite(guess) ? std::clamp(guess, lower, upper) : 2.0 * alpha;
    }
    // Budget spent while still descending: the last point decreased f sufficiently.
    return last_.alpha;
  }

  /// Nocedal & Wright Alg. 3.6: `lo` satisfies sufficient decrease with the lowest f so far and
  /// the interval [lo, hi] contains a strong-Wolfe point.
  std::optional<double> zoom(const Sample& zero, Sample lo, Sample hi, int evals) {
    while (evals < options_.max_line_search) {
      const double left = std::min(lo.alpha, hi.alpha), width = std::abs(hi.alpha - lo.alpha);
      if (width <= std::numeric_limits<double>::epsilon() * std::max(lo.alpha, hi.alpha)) break;
      double alpha = cubic_minimizer(lo.alpha, lo.f, lo.slope, hi.alpha, hi.f, hi.slope);
      // Safeguard: stay inside the middle 80% of the bracket, else bisect.
      if (!(alpha >= left + 0.1 * width && alpha <= left + 0.9 * width)) alpha = 0.5 * (lo.alpha + hi.alpha);
      const Sample current = evaluate(alpha);
      ++evals;
      if (!sufficient_decrease(zero, current) || current.f >= lo.f) {
        hi = current;
      } else {
        if (curvature(zero, current)) return alpha;
        if (current.slope * (hi.alpha - lo.alpha) >= 0.0) hi = lo;
        lo = current;
      }
    }
    // Out of budget: settle for the best point with sufficient decrease, if any.
    if (lo.alpha == 0.0) return std::nullopt;
    if (last_.alpha != lo.alpha) evaluate(lo.alpha);
    return lo.alpha;
  }

  const Objective<T>& objective_;
  const LbfgsOptions& options_;
  const LbfgsProgress<T>& progress_;
  ad::Vector<T> x_, g_, d_, trial_x_, trial_g_;
  double f_ = 0.0;
  Sample last_{kNaN, kNaN, kNaN};
  int evaluations_ = 0;
  // Circular history of (s, y, ρ = 1/y·s); pairs_ valid ones ending at slot newest_.
  std::vector<ad::Vector<T>> s_, y_;
  std::vector<double> rho_;
  std::vector<double> coefficients_;
  int newest_ = -1;
  int pairs_ = 0;
};

}  // namespace

template <class T>
LbfgsResult lbfgs_minimize(const std::type_identity_t<Objective<T>>& objective, ad::Vector<T>& x,
                           const LbfgsOptions& options, const std::type_identity_t<LbfgsProgress<T>>& progress) {
  validate(options);
  if (!objective) throw std::invalid_argument("nn::lbfgs_minimize: empty objective");
  return Lbfgs<T>(objective, options, progress, x.size()).run(x);
}

template <class T>
LbfgsResult lbfgs_train(ad::ParameterBuffer<T>& buffer, const std::function<T()>& loss_and_gradients,
                        const LbfgsOptions& options, const std::function<bool(const LbfgsStep&)>& progress) {
  if (!loss_and_gradients) throw std::invalid_argument("nn::lbfgs_train: empty loss closure");
  const Objective<T> objective = [&](const ad::Vector<T>& trial, ad::Vector<T>& grad) {
    buffer.values() = trial;
    buffer.zero_grad();
    const T loss = loss_and_gradients();
    grad = buffer.grads();
    // A zero gradient component keeps the coordinate fixed: the two-loop recursion never mixes it in.
    for (const auto& e : buffer.entries())
      if (!e.trainable) grad.segment(e.offset, e.size()).setZero();
    return loss;
  };
  LbfgsProgress<T> on_step;
  if (progress)
    on_step = [&](const ad::Vector<T>& accepted, const LbfgsStep& step) {
      buffer.values() = accepted;
      return progress(step);
    };
  ad::Vector<T> x = buffer.values();
  const LbfgsResult result = lbfgs_minimize<T>(objective, x, options, on_step);
  buffer.values() = x;
  return result;
}

template LbfgsResult lbfgs_minimize<float>(const Objective<float>&, ad::Vector<float>&, const LbfgsOptions&,
                                           const LbfgsProgress<float>&);
template LbfgsResult lbfgs_minimize<double>(const Objective<double>&, ad::Vector<double>&, const LbfgsOptions&,
                                            const LbfgsProgress<double>&);
template LbfgsResult lbfgs_train<float>(ad::ParameterBuffer<float>&, const std::function<float()>&, const LbfgsOptions&,
                                        const std::function<bool(const LbfgsStep&)>&);
template LbfgsResult lbfgs_train<double>(ad::ParameterBuffer<double>&, const std::function<double()>&, const LbfgsOptions&,
                                         const std::function<bool(const LbfgsStep&)>&);

}  // namespace nn
