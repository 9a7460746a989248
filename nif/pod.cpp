#include "nif/pod.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "nif/holdout.hpp"

namespace nif {

namespace {

/// Where every row of a dataset on a fixed set of points sits: snapshot and point index.
struct FixedPoints {
  std::vector<Index> first_rows;  ///< per snapshot
  std::vector<Index> snapshot;    ///< per row
  std::vector<Index> point;       ///< per row: its rank inside its snapshot
};

std::string describe_row(const Eigen::RowVectorXf& v) {
  std::string s;
  for (Index i = 0; i < v.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", v(i));
  return "(" + s + ")";
}

/// The layout of `data`, checked to hold every point of `reference` (M x D) in that order in
/// each snapshot. `what` names the data in errors ("training", "test").
FixedPoints fixed_points(const PointDataset& data, const ad::Matrix<float>& reference, std::string_view what) {
  FixedPoints f;
  f.snapshot = snapshot_of_rows(data.params, &f.first_rows);
  std::vector<Index> count(f.first_rows.size(), 0);
  constexpr std::string_view rule = "POD needs the same points, in the same order, in every snapshot";
  for (Index r = 0; r < data.size(); ++r) {
    const auto s = std::size_t(f.snapshot[std::size_t(r)]);
    const Index k = count[s]++;
    if (k >= reference.rows() || data.coords.row(r) != reference.row(k))
      throw std::invalid_argument(fmt::format(
          "{}: {} snapshot {} (params {}) has point {} at {}, {}", rule, what, s,
          describe_row(data.params.row(r)), k, describe_row(data.coords.row(r)),
          k >= reference.rows() ? fmt::format("beyond the {} points of the first", reference.rows())
                                : fmt::format("where the first has {}", describe_row(reference.row(k)))));
    f.point.push_back(k);
  }
  for (std::size_t s = 0; s < count.size(); ++s)
    if (count[s] != reference.rows())
      throw std::invalid_argument(fmt::format("{}: {} snapshot {} has {} points, the first training snapshot {}", rule,
                                              what, s, count[s], reference.rows()));
  return f;
}

/// The first snapshot's coordinates (M x D), taken in row order.
ad::Matrix<float> first_snapshot_coords(const PointDataset& data) {
  const std::vector<Index> snapshot = snapshot_of_rows(data.params);
  std::vector<Index> rows;
  for (std::size_t r = 0; r < snapshot.size(); ++r)
    if (snapshot[r] == 0) rows.push_back(Index(r));
  return select_rows(data, rows).coords;
}

/// Second derivatives of the interpolating cubic spline at the knots (n x R), see interpolate.
Eigen::MatrixXd spline_curvatures(const std::vector<double>& x, const Eigen::MatrixXd& y) {
  const Index n = Index(x.size());
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(n, n), b = Eigen::MatrixXd::Zero(n, y.cols());
  const auto h = [&](Index i) { return x[std::size_t(i + 1)] - x[std::size_t(i)]; };
  for (Index i = 1; i + 1 < n; ++i) {
    a(i, i - 1) = h(i - 1);
    a(i, i) = 2 * (h(i - 1) + h(i));
    a(i, i + 1) = h(i);
    b.row(i) = 6 * ((y.row(i + 1) - y.row(i)) / h(i) - (y.row(i) - y.row(i - 1)) / h(i - 1));
  }
  if (n == 3) {  // one parabola: equal curvatures
    a.row(0) << 1, -1, 0;
    a.row(2) << 0, 1, -1;
  } else {  // not-a-knot: the third derivative is continuous at the second and the last-but-one knot
    a(0, 0) = h(1), a(0, 1) = -(h(0) + h(1)), a(0, 2) = h(0);
    a(n - 1, n - 3) = h(n - 2), a(n - 1, n - 2) = -(h(n - 3) + h(n - 2)), a(n - 1, n - 1) = h(n - 3);
  }
  return a.partialPivLu().solve(b);
}

/// The distinct values of column c of `params`, sorted.
std::vector<double> distinct_values(const Eigen::MatrixXd& params, Index c) {
  std::vector<double> v(params.col(c).begin(), params.col(c).end());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

/// The interpolation axes of training snapshots with parameters `params` (S x P).
InterpolationAxes choose_axes(const Eigen::MatrixXd& params) {
  std::vector<std::pair<Index, Index>> varying;  // (distinct values, column)
  for (Index c = 0; c < params.cols(); ++c)
    if (const auto n = Index(distinct_values(params, c).size()); n > 1) varying.emplace_back(n, c);
  std::sort(varying.rbegin(), varying.rend());
  if (varying.empty())
    throw std::invalid_argument("POD: the training snapshots do not differ in any ParameterNet input to interpolate in");
  if (varying.size() > 2)
    throw std::invalid_argument(fmt::format(
        "POD: {} ParameterNet inputs vary between the training snapshots; coefficients are interpolated along one "
        "input, or along one within groups of another, not more",
        varying.size()));
  return {varying[0].second, varying.size() == 2 ? varying[1].second : -1};
}

}  // namespace

Interpolation parse_interpolation(std::string_view name) {
  if (name == "linear") return Interpolation::linear;
  if (name == "cubic") return Interpolation::cubic;
  throw std::invalid_argument(fmt::format("unknown interpolation '{}' (expected linear or cubic)", name));
}

std::string_view name(Interpolation interpolation) {
  return interpolation == Interpolation::linear ? "linear" : "cubic";
}

Eigen::RowVectorXd interpolate(const std::vector<double>& x, const Eigen::MatrixXd& y, double xq,
                               Interpolation interpolation) {
  const Index n = Index(x.size());
  if (n < 2 || y.rows() != n) throw std::invalid_argument("nif::interpolate: needs n >= 2 knots and n rows of values");
  // The piece [x_i, x_{i+1}] holding xq, the end pieces extended outwards.
  const Index i = std::clamp<Index>(Index(std::upper_bound(x.begin(), x.end(), xq) - x.begin()) - 1, 0, n - 2);
  const double h = x[std::size_t(i + 1)] - x[std::size_t(i)];
  const double left = x[std::size_t(i + 1)] - xq, right = xq - x[std::size_t(i)];
  Eigen::RowVectorXd value = (left * y.row(i) + right * y.row(i + 1)) / h;
  if (interpolation == Interpolation::linear || n == 2) return value;
  const Eigen::MatrixXd m = spline_curvatures(x, y);
  // S(xq) = the line through the knots plus the cubic correction that vanishes at both of them.
  value += (m.row(i) * (left * left * left / h - h * left) + m.row(i + 1) * (right * right * right / h - h * right)) / 6;
  return value;
}

std::string InterpolationAxes::describe(const std::vector<std::string>& param_labels) const {
  const std::string in = param_labels.at(std::size_t(inner));
  if (outer < 0) return "in " + in;
  return fmt::format("in {} within each {}, then in {}", in, param_labels.at(std::size_t(outer)),
                     param_labels.at(std::size_t(outer)));
}

Pod::Pod(const PointDataset& train, Index max_rank) : coords_(first_snapshot_coords(train)), fields_(train.targets.cols()) {
  const FixedPoints layout = fixed_points(train, coords_, "training");
  const Index m = points(), s = Index(layout.first_rows.size()), mo = m * fields_;
  if (max_rank < 1 || max_rank > s)
    throw std::invalid_argument(
        fmt::format("POD rank {} is not between 1 and the number of training snapshots ({})", max_rank, s));
  sqrt_weights_ = Eigen::VectorXd::Ones(m);
  Eigen::MatrixXd x(mo, s);
  for (Index r = 0; r < train.size(); ++r) {
    const Index k = layout.point[std::size_t(r)], col = layout.snapshot[std::size_t(r)];
    for (Index f = 0; f < fields_; ++f) x(f * m + k, col) = train.targets(r, f);
    if (!train.weighted()) continue;
    const double w = train.weights(r, 0);
    if (!(w > 0)) throw std::invalid_argument(fmt::format("POD: row {} has weight {}; weights must be positive", r, w));
    if (col == 0) sqrt_weights_(k) = std::sqrt(w);
    else if (std::sqrt(w) != sqrt_weights_(k))
      throw std::invalid_argument(fmt::format("POD: point {} has another weight in snapshot {} than in the first", k, col));
  }
  snapshot_params_.resize(s, train.params.cols());
  for (Index j = 0; j < s; ++j) snapshot_params_.row(j) = train.params.row(layout.first_rows[std::size_t(j)]).cast<double>();
  axes_ = choose_axes(snapshot_params_);
  mean_ = x.rowwise().mean();
  x.colwise() -= mean_;
  const Eigen::VectorXd stacked_sqrt_weights = sqrt_weights_.replicate(fields_, 1);
  x = stacked_sqrt_weights.asDiagonal() * x;
  const Eigen::BDCSVD<Eigen::MatrixXd> svd(x, Eigen::ComputeThinU | Eigen::ComputeThinV);
  singular_values_ = svd.singularValues();
  modes_ = stacked_sqrt_weights.cwiseInverse().asDiagonal() * svd.matrixU().leftCols(max_rank);
  coefficients_ = svd.matrixV().leftCols(max_rank) * singular_values_.head(max_rank).asDiagonal();
}

Eigen::RowVectorXd Pod::coefficients_at(const Eigen::RowVectorXd& params, Index rank, Interpolation interpolation) const {
  // Training snapshots grouped by their outer value (a single group without an outer axis),
  // each sorted by its inner value.
  std::map<double, std::vector<std::pair<double, Index>>> groups;
  for (Index j = 0; j < snapshots(); ++j)
    groups[axes_.outer < 0 ? 0.0 : snapshot_params_(j, axes_.outer)].emplace_back(snapshot_params_(j, axes_.inner), j);
  std::vector<double> outer_values;
  Eigen::MatrixXd per_group(Index(groups.size()), rank);
  for (auto& [outer, members] : groups) {
    std::sort(members.begin(), members.end());
    if (members.size() < 2)
      throw std::invalid_argument(fmt::format("POD: only one training snapshot at parameter value {}; at least two are "
                                              "needed to interpolate between them",
                                              outer));
    std::vector<double> knots;
    Eigen::MatrixXd values(Index(members.size()), rank);
    for (std::size_t i = 0; i < members.size(); ++i) {
      knots.push_back(members[i].first);
      values.row(Index(i)) = coefficients_.row(members[i].second).head(rank);
    }
    per_group.row(Index(outer_values.size())) = interpolate(knots, values, params(axes_.inner), interpolation);
    outer_values.push_back(outer);
  }
  if (axes_.outer < 0) return per_group.row(0);
  return interpolate(outer_values, per_group, params(axes_.outer), interpolation);
}

ad::Matrix<double> Pod::predict(const PointDataset& test, Index rank, Interpolation interpolation) const {
  if (rank < 1 || rank > modes_.cols())
    throw std::invalid_argument(fmt::format("POD rank {} is not between 1 and {}", rank, modes_.cols()));
  if (test.params.cols() != snapshot_params_.cols() || test.targets.cols() != fields_)
    throw std::invalid_argument("POD: the test data has other columns than the training data");
  const FixedPoints layout = fixed_points(test, coords_, "test");
  std::vector<Eigen::VectorXd> fields;
  for (const Index r : layout.first_rows)
    fields.push_back(mean_ + modes_.leftCols(rank) *
                                 coefficients_at(test.params.row(r).cast<double>(), rank, interpolation).transpose());
  ad::Matrix<double> out(test.size(), fields_);
  for (Index r = 0; r < test.size(); ++r)
    for (Index f = 0; f < fields_; ++f)
      out(r, f) = fields[std::size_t(layout.snapshot[std::size_t(r)])](f * points() + layout.point[std::size_t(r)]);
  return out;
}

Index Pod::stored_values(Index rank) const { return rank * points() * fields_ + points() * fields_ + rank * snapshots(); }

}  // namespace nif
