#include "nif/derivatives.hpp"

#include <cmath>

namespace nif {

float column_scale(const ColumnScaling& s, Index c) { return s.size() == 0 ? 1.0f : s.scale[std::size_t(c)]; }

namespace {
/// Multiplies output column o of `m` by s_u[o]/s^power.
void rescale(ad::Matrix<float>& m, const ColumnScaling& targets, float input_scale, int power) {
  for (Index o = 0; o < m.cols(); ++o) m.col(o) *= column_scale(targets, o) / std::pow(input_scale, float(power));
}
}  // namespace

void DerivativeValues::to_physical(const Normalizer& n) {
  for (std::size_t k = 0; k < du_dx.size(); ++k) rescale(du_dx[k], n.targets, column_scale(n.coords, Index(k)), 1);
  for (std::size_t k = 0; k < d2u_dx2.size(); ++k) rescale(d2u_dx2[k], n.targets, column_scale(n.coords, Index(k)), 2);
  for (std::size_t j = 0; j < du_dp.size(); ++j) rescale(du_dp[j], n.targets, column_scale(n.params, Index(j)), 1);
}

}  // namespace nif
