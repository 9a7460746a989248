#pragma once
// The POD baseline NIF is compared with: proper orthogonal decomposition of the training
// snapshots (area-weighted SVD) with its coefficients interpolated to the test parameters.

#include <string>
#include <string_view>
#include <vector>

#include "nif/data.hpp"

namespace nif {

enum class Interpolation { linear, cubic };

/// "linear" or "cubic"; anything else → std::invalid_argument.
Interpolation parse_interpolation(std::string_view name);
std::string_view name(Interpolation interpolation);

/// The value at `xq` of the interpolant through (x_i, y_i) for every column of `y` (n x R), `x`
/// strictly increasing, n ≥ 2. Linear: piecewise linear. Cubic: the not-a-knot cubic spline
/// (scipy's CubicSpline default), which reproduces any cubic exactly; with n = 3 the parabola,
/// with n = 2 the line. Outside [x_0, x_{n−1}] the end piece is extended.
Eigen::RowVectorXd interpolate(const std::vector<double>& x, const Eigen::MatrixXd& y, double xq,
                               Interpolation interpolation);

/// How the coefficients are interpolated across the ParameterNet inputs: along `inner` (the
/// column with the most distinct training values) and, when a second column varies, first along
/// `inner` within each group of equal `outer` value, then along `outer`.
struct InterpolationAxes {
  Index inner = -1;
  Index outer = -1;  ///< -1 when only one parameter varies
  std::string describe(const std::vector<std::string>& param_labels) const;
};

/// POD of snapshots on one fixed set of M points with O fields: the snapshot vectors u_s
/// (M·O, fields stacked) of the S training snapshots, their mean ū is subtracted, and the SVD
/// of W^½ (u_s − ū) (W the point weights, identity when unweighted) gives the modes. A
/// snapshot is approximated as ū + W^−½ U_R a, a = Σ_R V_Rᵀ its R coefficients; the
/// coefficients of new parameters are interpolated from those of the training snapshots.
class Pod {
 public:
  /// SVD of `train` (a snapshot = a distinct row of params, every snapshot on the same points
  /// in the same order, with the same weights) keeping `max_rank` modes. Throws
  /// std::invalid_argument (one line) when the points differ between snapshots, a weight is not
  /// positive, max_rank < 1 or max_rank > S, or the parameters allow no interpolation (no
  /// parameter varies, more than two vary, fewer than two values along an axis).
  Pod(const PointDataset& train, Index max_rank);

  /// The fields (physical units, N x O, rows of `test`) predicted at rank `rank` ≤ max_rank.
  /// `test` must lie on the training points (every snapshot, same order). Throws
  /// std::invalid_argument otherwise.
  ad::Matrix<double> predict(const PointDataset& test, Index rank, Interpolation interpolation) const;

  /// Values a rank-`rank` model stores: R modes × M points × O fields, the mean (M·O) and R
  /// coefficients per training snapshot.
  Index stored_values(Index rank) const;

  Index snapshots() const { return Index(snapshot_params_.rows()); }
  Index points() const { return coords_.rows(); }
  const InterpolationAxes& axes() const { return axes_; }
  /// Singular values of the weighted, mean-subtracted snapshot matrix (all min(M·O, S) of them).
  const Eigen::VectorXd& singular_values() const { return singular_values_; }

 private:
  Eigen::RowVectorXd coefficients_at(const Eigen::RowVectorXd& params, Index rank, Interpolation interpolation) const;

  ad::Matrix<float> coords_;            ///< M x D, the fixed points
  Eigen::VectorXd sqrt_weights_;        ///< M, W^½ (ones when unweighted)
  Eigen::VectorXd mean_;                ///< M·O
  Eigen::MatrixXd modes_;               ///< M·O x max_rank, W^−½ U (physical units)
  Eigen::MatrixXd coefficients_;        ///< S x max_rank
  Eigen::MatrixXd snapshot_params_;     ///< S x P
  Eigen::VectorXd singular_values_;
  Index fields_ = 0;
  InterpolationAxes axes_;
};

}  // namespace nif
