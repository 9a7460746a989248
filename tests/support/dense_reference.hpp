#pragma once
// A dense stack written out with loops for one sample, the reference the baselines' formulas are
// checked against.

#include <functional>
#include <string>
#include <vector>

#include "autodiff/parameters.hpp"

namespace testing {

/// h through the layers of `params` taken in pairs (weight [in, out] row-major, bias [1, out]):
/// h ← act(ω0·(h·W) + b) on every pair but the last, which is linear h·W + b.
inline std::vector<double> reference_dense_stack(const ad::ParameterBuffer<double>& params, std::vector<double> h,
                                                 const std::function<double(double)>& act, double omega0 = 1) {
  const auto& e = params.entries();
  for (std::size_t k = 0; k + 1 < e.size(); k += 2) {
    const double* W = params.values().data() + e[k].offset;
    const double* b = params.values().data() + e[k + 1].offset;
    const bool last = k + 2 == e.size();
    std::vector<double> next(std::size_t(e[k].cols));
    for (ad::Index j = 0; j < e[k].cols; ++j) {
      double z = 0;
      for (ad::Index i = 0; i < e[k].rows; ++i) z += h[std::size_t(i)] * W[i * e[k].cols + j];
      next[std::size_t(j)] = last ? z + b[j] : act(omega0 * z + b[j]);
    }
    h = next;
  }
  return h;
}

}  // namespace testing
