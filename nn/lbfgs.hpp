#pragma once
// Limited-memory BFGS on a flat vector: two-loop recursion for the direction and a strong-Wolfe
// line search (Nocedal & Wright, Numerical Optimization, Alg. 3.5 and 3.6 with cubic
// interpolation), plus a convenience that trains a ParameterBuffer in place.

#include <functional>
#include <string_view>
#include <type_traits>

#include "autodiff/parameters.hpp"

namespace nn {

/// f(x): returns the objective and writes ∇f(x) into `grad` (pre-sized to x.size()).
template <class T>
using Objective = std::function<T(const ad::Vector<T>& x, ad::Vector<T>& grad)>;

struct LbfgsOptions {
  int history = 10;                    ///< number of (s, y) pairs kept
  int max_iterations = 100;            ///< accepted steps at most
  double gradient_tolerance = 1e-8;    ///< converged when ‖∇f‖∞ ≤ this
  /// converged when a step decreases f by at most this·max(|f_prev|, |f|) (a relative decrease
  /// at the rounding level of double; use about 1e-7 for float objectives)
  double function_tolerance = 1e-15;
  int max_line_search = 25;            ///< objective evaluations per line search
  double c1 = 1e-4;                    ///< sufficient decrease: φ(α) ≤ φ(0) + c1·α·φ'(0)
  double c2 = 0.9;                     ///< curvature: |φ'(α)| ≤ c2·|φ'(0)|
};

enum class LbfgsStop {
  gradient_tolerance,  ///< converged: gradient small
  function_tolerance,  ///< converged: decrease small
  max_iterations,      ///< not converged: iteration budget spent
  line_search_failed,  ///< not converged: no acceptable step along steepest descent either
  stopped,             ///< the progress callback asked to stop
};

/// The enumerator's name, e.g. "gradient_tolerance".
std::string_view to_string(LbfgsStop stop);

struct LbfgsResult {
  double f = 0.0;              ///< objective at the returned point
  double gradient_norm = 0.0;  ///< ‖∇f‖∞ there
  int iterations = 0;          ///< accepted steps
  int evaluations = 0;         ///< objective calls, including the initial one
  bool converged = false;      ///< stopped on a tolerance
  LbfgsStop reason = LbfgsStop::max_iterations;
};

/// One accepted step, as the progress callback sees it.
struct LbfgsStep {
  int iteration = 0;    ///< accepted steps so far (1-based)
  double f = 0;         ///< objective at the new point
  double alpha = 0;     ///< the line search's step length along the direction
  int evaluations = 0;  ///< objective calls this step took
};

/// Called after every accepted step with the new point; returning false stops the run there
/// (reason LbfgsStop::stopped).
template <class T>
using LbfgsProgress = std::function<bool(const ad::Vector<T>& x, const LbfgsStep& step)>;

/// Minimises `objective` from `x`, leaving the best point found in `x`. Throws
/// std::invalid_argument on invalid options, a non-finite objective or gradient at the start,
/// or a gradient of the wrong size.
template <class T>
LbfgsResult lbfgs_minimize(const std::type_identity_t<Objective<T>>& objective, ad::Vector<T>& x,
                           const LbfgsOptions& options = {}, const std::type_identity_t<LbfgsProgress<T>>& progress = {});

/// Minimises the loss of `buffer` in place by L-BFGS over its flat values. Before every call,
/// `loss_and_gradients` sees the trial values in the buffer and zeroed gradients; it must fill
/// buffer.grads() (e.g. by a tape backward) and return the loss. Non-trainable entries keep their
/// values (their gradient components are ignored). Afterwards the buffer holds the final values
/// and the gradients of the last evaluation; `progress` sees each accepted point in the buffer.
template <class T>
LbfgsResult lbfgs_train(ad::ParameterBuffer<T>& buffer, const std::function<T()>& loss_and_gradients,
                        const LbfgsOptions& options = {}, const std::function<bool(const LbfgsStep&)>& progress = {});

extern template LbfgsResult lbfgs_minimize<float>(const Objective<float>&, ad::Vector<float>&, const LbfgsOptions&,
                                                  const LbfgsProgress<float>&);
extern template LbfgsResult lbfgs_minimize<double>(const Objective<double>&, ad::Vector<double>&, const LbfgsOptions&,
                                                   const LbfgsProgress<double>&);
extern template LbfgsResult lbfgs_train<float>(ad::ParameterBuffer<float>&, const std::function<float()>&,
                                               const LbfgsOptions&, const std::function<bool(const LbfgsStep&)>&);
extern template LbfgsResult lbfgs_train<double>(ad::ParameterBuffer<double>&, const std::function<double()>&,
                                                const LbfgsOptions&, const std::function<bool(const LbfgsStep&)>&);

}  // namespace nn
