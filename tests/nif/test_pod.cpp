#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "nif/error_metrics.hpp"
#include "nif/holdout.hpp"
#include "nif/pod.hpp"

using ad::Index;
using nif::Interpolation;

namespace {

constexpr Index kPoints = 12;

/// Coefficient k < 3 of a synthetic snapshot: t^(k+1) − 0.2·k·t (independent cubics in t), times
/// a line in Re.
double coefficient(Index k, double t, double re) {
  return (std::pow(t, double(k + 1)) - 0.2 * double(k) * t) * (1 + (re - 100) * 0.01 * double(k + 1));
}

/// Snapshots at (t, Re) for every t in `ts` and Re in `res`, each on the same 12 non-uniform
/// points x with weights 1 + x, fields u, v = mean + the first `rank` of 3 modes times
/// coefficient(k, t, Re). Columns (t, Re, x, u, v, w).
ad::Matrix<float> snapshots(const std::vector<double>& ts, const std::vector<double>& res, Index rank = 3) {
  ad::Matrix<float> m(Index(ts.size() * res.size()) * kPoints, 6);
  Index r = 0;
  for (const double re : res)
    for (const double t : ts)
      for (Index i = 0; i < kPoints; ++i, ++r) {
        const double x = double(i * i) / double(kPoints * kPoints);
        double u = std::cos(x), v = 0.5 - x;
        for (Index k = 0; k < rank; ++k) {
          const double a = coefficient(k, t, re);
          u += a * std::sin(double(k + 1) * 3 * x);
          v += a * std::cos(double(k + 1) * 2 * x + double(k));
        }
        m.row(r) << float(t), float(re), float(x), float(u), float(v), float(1 + x);
      }
  return m;
}

const nif::Columns kColumns{.params = {0, 1}, .coords = {2}, .targets = {3, 4}, .weight = 5};

nif::PointDataset data(const std::vector<double>& ts, const std::vector<double>& res, Index rank = 3) {
  return nif::from_table(snapshots(ts, res, rank), kColumns);
}

double test_error(const nif::Pod& pod, const nif::PointDataset& test, Index rank, Interpolation interpolation) {
  return nif::relative_l2(test.targets.cast<double>(), pod.predict(test, rank, interpolation), test.weights).overall;
}

template <class F>
std::string error_of(F&& action) {
  try {
    action();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the not-a-knot cubic spline reproduces a cubic, also outside the knots; linear interpolates lines") {
  const std::vector<double> x{-1, -0.2, 0.5, 1.7, 2, 3.5};
  const auto cubic = [](double t) { return 2 * t * t * t - t * t + 3 * t - 4; };
  Eigen::MatrixXd y(6, 2);
  for (Index i = 0; i < 6; ++i) y.row(i) << cubic(x[std::size_t(i)]), 1 - 2 * x[std::size_t(i)];
  for (const double q : {-1.5, -1.0, 0.1, 1.0, 1.9, 3.5, 4.0}) {
    CAPTURE(q);
    const Eigen::RowVectorXd s = nif::interpolate(x, y, q, Interpolation::cubic);
    CHECK(s(0) == doctest::Approx(cubic(q)).epsilon(1e-12));
    CHECK(s(1) == doctest::Approx(1 - 2 * q).epsilon(1e-12));
    CHECK(nif::interpolate(x, y, q, Interpolation::linear)(1) == doctest::Approx(1 - 2 * q).epsilon(1e-12));
  }
  // Between two knots the linear interpolant is their weighted mean, not the cubic.
  CHECK(nif::interpolate(x, y, 1.85, Interpolation::linear)(0) == doctest::Approx((cubic(1.7) + cubic(2)) / 2));
  // Three knots: the parabola through them.
  const std::vector<double> x3{0, 1, 3};
  Eigen::MatrixXd y3(3, 1);
  y3 << 1, 2, 16;  // 2t² − t + 1
  CHECK(nif::interpolate(x3, y3, 2, Interpolation::cubic)(0) == doctest::Approx(2 * 4 - 2 + 1));
  CHECK_THROWS_AS(nif::interpolate({0}, Eigen::MatrixXd::Ones(1, 1), 0, Interpolation::cubic), std::invalid_argument);
}

TEST_CASE("POD at the field's rank reproduces the training snapshots to rounding, a lower rank does not") {
  const nif::PointDataset train = data({0, 0.5, 1, 1.5, 2, 2.5}, {100});
  const nif::Pod pod(train, 4);
  CHECK(pod.snapshots() == 6);
  CHECK(pod.points() == kPoints);
  for (const Interpolation i : {Interpolation::linear, Interpolation::cubic}) {
    CHECK(test_error(pod, train, 3, i) < 1e-6);
    CHECK(test_error(pod, train, 2, i) > 1e-4);
  }
  // The mean-subtracted snapshots have rank 3: the fourth singular value is rounding noise.
  CHECK(pod.singular_values()(3) < 1e-5 * pod.singular_values()(0));
  CHECK(pod.axes().inner == 0);
  CHECK(pod.axes().outer == -1);
  CHECK(pod.axes().describe({"t", "Re"}) == "in t");
  // 3 modes of 12 points x 2 fields, the mean, 3 coefficients of each of 6 snapshots.
  CHECK(pod.stored_values(3) == 3 * 24 + 24 + 18);
}

TEST_CASE("POD with cubic-spline coefficients predicts held-out times of a cubic-in-t field exactly") {
  const nif::PointDataset all = data({0, 0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.1, 2.4}, {100});
  const auto split = nif::split_holdout(all, nif::parse_holdout("every:3"), kColumns, {});
  const nif::Pod pod(split.train, 3);
  CHECK(test_error(pod, split.test, 3, Interpolation::cubic) < 1e-5);
  CHECK(test_error(pod, split.test, 3, Interpolation::linear) > 1e-4);
}

TEST_CASE("with t and Re varying, POD interpolates in t within each Re, then in Re") {
  // Other times at each Re, as in the cylinder data; the field is linear in Re.
  const nif::PointDataset train = data({0, 0.4, 0.8, 1.2, 1.6}, {80});
  const nif::PointDataset high = data({0, 0.3, 0.6, 0.9, 1.2, 1.5}, {120});
  nif::PointDataset both;
  both.params = ad::Matrix<float>(train.size() + high.size(), 2);
  both.params << train.params, high.params;
  both.coords = ad::Matrix<float>(both.params.rows(), 1);
  both.coords << train.coords, high.coords;
  both.targets = ad::Matrix<float>(both.params.rows(), 2);
  both.targets << train.targets, high.targets;
  both.weights = ad::Matrix<float>(both.params.rows(), 1);
  both.weights << train.weights, high.weights;
  const nif::Pod pod(both, 3);
  CHECK(pod.axes().describe({"t", "Re"}) == "in t within each Re, then in Re");
  const nif::PointDataset test = data({0.1, 0.7, 1.1}, {100});
  CHECK(test_error(pod, test, 3, Interpolation::cubic) < 1e-5);
}

TEST_CASE("POD refuses data off a fixed set of points, bad ranks, bad weights and parameters it cannot interpolate in") {
  const nif::PointDataset train = data({0, 1, 2}, {100});
  CHECK(error_of([&] { nif::Pod(train, 4); }).find("rank 4 is not between 1 and the number of training snapshots (3)") !=
        std::string::npos);
  CHECK(error_of([&] { nif::Pod(train, 0); }).find("rank 0") != std::string::npos);

  nif::PointDataset moved = train;
  moved.coords(2 * kPoints + 5, 0) += 0.5f;
  CHECK(error_of([&] { nif::Pod(moved, 2); }).find("POD needs the same points") != std::string::npos);
  const nif::PointDataset fewer = nif::select_rows(train, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13});
  CHECK(error_of([&] { nif::Pod(fewer, 1); }).find("snapshot 1 has 2 points") != std::string::npos);

  nif::PointDataset weightless = train;
  weightless.weights(3, 0) = 0;
  CHECK(error_of([&] { nif::Pod(weightless, 2); }).find("weights must be positive") != std::string::npos);
  nif::PointDataset reweighted = train;
  reweighted.weights(kPoints + 3, 0) = 7;
  CHECK(error_of([&] { nif::Pod(reweighted, 2); }).find("another weight") != std::string::npos);

  nif::PointDataset three = train;
  three.params = ad::Matrix<float>(train.size(), 3);
  three.params << train.params, train.params.col(0) * 2;
  three.params.col(1) = train.params.col(0) * 3;
  CHECK(error_of([&] { nif::Pod(three, 2); }).find("3 ParameterNet inputs vary") != std::string::npos);

  const nif::Pod pod(train, 2);
  const nif::PointDataset off_points = nif::select_rows(train, {0, 1, 2});
  CHECK(error_of([&] { pod.predict(off_points, 2, Interpolation::linear); }).find("test snapshot 0 has 3 points") !=
        std::string::npos);
  CHECK_THROWS_AS(pod.predict(train, 3, Interpolation::linear), std::invalid_argument);
  CHECK(nif::parse_interpolation("cubic") == Interpolation::cubic);
  CHECK_THROWS_AS(nif::parse_interpolation("spline"), std::invalid_argument);
}

TEST_CASE("two parameters varying with a single snapshot at one value are refused") {
  nif::PointDataset train = data({0, 1, 2}, {100});
  for (Index r = 0; r < kPoints; ++r) train.params(r, 1) = 90;  // (0, 90) alone
  CHECK(error_of([&] {
          const nif::Pod pod(train, 2);
          pod.predict(train, 2, Interpolation::linear);
        }).find("only one training snapshot at parameter value 90") != std::string::npos);
}
