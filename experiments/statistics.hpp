#pragma once
// Summary statistics of measurements (speeds, losses, spacings).

#include <algorithm>
#include <cstddef>
#include <vector>

namespace experiments {

/// The median of `v`: the middle value, or the mean of the two middle values for an even count;
/// 0 for no values.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const std::size_t m = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m), v.end());
  if (v.size() % 2 == 1) return v[m];
  return (*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m)) + v[m]) / 2;
}

}  // namespace experiments
