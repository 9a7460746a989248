#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

#include "nn/init.hpp"

namespace {

struct Moments {
  double mean = 0;
  double stddev = 0;
  double min = 0;
  double max = 0;
};

template <class T>
Moments moments(const ad::Matrix<T>& m) {
  const Eigen::ArrayXd v = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(m.data(), m.size()).template cast<double>();
  const double mean = v.mean();
  return {mean, std::sqrt((v - mean).square().mean()), v.minCoeff(), v.maxCoeff()};
}

template <class T>
ad::MatrixMap<T> map(ad::Matrix<T>& m) {
  return ad::MatrixMap<T>(m.data(), m.rows(), m.cols());
}

double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi); }
double cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

/// Mean and standard deviation of N(mean, sigma^2) restricted to [a, b] (textbook formulas).
Moments truncated_normal(double mean, double sigma, double a, double b) {
  const double alpha = (a - mean) / sigma, beta = (b - mean) / sigma;
  // Mass of [α, β], taken from the mirror image when it lies in the upper tail (Φ ≈ 1 there).
  const double z = alpha + beta > 0 ? cdf(-alpha) - cdf(-beta) : cdf(beta) - cdf(alpha);
  const double shift = (phi(alpha) - phi(beta)) / z;
  const double var = 1 + (alpha * phi(alpha) - beta * phi(beta)) / z - shift * shift;
  return {mean + sigma * shift, sigma * std::sqrt(var), a, b};
}

/// Five standard errors of the sample standard deviation of n draws with kurtosis at most
/// `kurtosis`: sd(s) ≈ σ·sqrt((κ − 1)/(4n)).
double std_tolerance(double sigma, ad::Index n, double kurtosis = 3) {
  return 5 * sigma * std::sqrt((kurtosis - 1) / (4.0 * static_cast<double>(n)));
}

/// Checks that every element lies in [-bound, bound], that the bound is nearly reached and that
/// the variance is (2·bound)²/12 within five standard errors (sd of the variance of U(−b, b)
/// draws is b²·sqrt(4/45/n)).
template <class T>
void check_symmetric_uniform(const ad::Matrix<T>& m, double bound) {
  const Moments s = moments(m);
  const auto n = static_cast<double>(m.size());
  CHECK(s.min >= static_cast<double>(static_cast<T>(-bound)));
  CHECK(s.max <= static_cast<double>(static_cast<T>(bound)));
  CHECK(s.max > 0.99 * bound);
  CHECK(s.min < -0.99 * bound);
  CHECK(std::abs(s.mean) < 5 * bound / std::sqrt(3 * n));
  CHECK(std::abs(s.stddev * s.stddev - bound * bound / 3) < 5 * bound * bound * std::sqrt(4.0 / 45 / n));
}

}  // namespace

TEST_CASE("normal_quantile inverts the normal CDF to near double precision") {
  for (double x = -30; x <= 0; x += 0.37) {
    CHECK(nn::init::normal_quantile(cdf(x)) == doctest::Approx(x).epsilon(1e-13));
  }
  CHECK(nn::init::normal_quantile(0.975) == doctest::Approx(1.959963984540054).epsilon(1e-14));
  CHECK(nn::init::normal_quantile(0.5) == 0.0);
  // For p ≥ ½, 1 − p is exact, so the quantile must be exactly antisymmetric.
  for (double p : {1 - 1e-15, 1 - 1e-10, 0.99, 0.7}) CHECK(nn::init::normal_quantile(p) == -nn::init::normal_quantile(1 - p));
  CHECK(nn::init::normal_quantile(0.0) == -std::numeric_limits<double>::infinity());
  CHECK(nn::init::normal_quantile(1.0) == std::numeric_limits<double>::infinity());
}

TEST_CASE_TEMPLATE("initialisers are reproducible from the seed", T, float, double) {
  const auto draw = [](std::uint64_t seed) {
    ad::Matrix<T> w(20, 30);
    nn::Rng rng(seed);
    nn::init::keras_truncated_normal(map(w), 0.1, rng);
    nn::init::torch_trunc_normal(map(w), 0.1, rng);
    return w;
  };
  CHECK(draw(11) == draw(11));
  CHECK((draw(11).array() != draw(12).array()).all());
}

TEST_CASE_TEMPLATE("keras_truncated_normal redraws beyond 2 sigma without rescaling", T, float, double) {
  // Brief's figure for the std of N(0, 1) cut at ±2, checked against the exact formula.
  CHECK(truncated_normal(0, 1, -2, 2).stddev == doctest::Approx(0.87962566).epsilon(1e-7));

  ad::Matrix<T> w(400, 500);
  nn::Rng rng(21);
  nn::init::keras_truncated_normal(map(w), 0.1, rng);
  const Moments s = moments(w);
  CHECK(s.min >= static_cast<double>(T(-0.2)));
  CHECK(s.max <= static_cast<double>(T(0.2)));
  CHECK(s.max > 0.199);  // the cut is at 2σ, not tighter
  CHECK(std::abs(s.mean) < 5 * 0.1 / std::sqrt(static_cast<double>(w.size())));
  CHECK(std::abs(s.stddev - 0.1 * 0.87962566) < std_tolerance(0.1, w.size()));

  nn::init::keras_truncated_normal(map(w), 0.1, rng, 1.0);
  const Moments shifted = moments(w);
  CHECK(shifted.min >= static_cast<double>(T(0.8)));
  CHECK(shifted.max <= static_cast<double>(T(1.2)));
  CHECK(std::abs(shifted.mean - 1.0) < 5 * 0.1 / std::sqrt(static_cast<double>(w.size())));
}

TEST_CASE_TEMPLATE("torch_trunc_normal uses absolute cut-offs: std 0.1 is effectively untruncated", T, float, double) {
  ad::Matrix<T> w(400, 500);
  nn::Rng rng(31);
  nn::init::torch_trunc_normal(map(w), 0.1, rng);
  const Moments s = moments(w);
  const auto n = static_cast<double>(w.size());
  CHECK(s.min >= -2.0);
  CHECK(s.max <= 2.0);
  CHECK(std::abs(s.mean) < 5 * 0.1 / std::sqrt(n));
  CHECK(std::abs(s.stddev - 0.1) < std_tolerance(0.1, w.size()));
  // Unlike Keras, 4.55% of the draws lie beyond 2σ.
  const double beyond = (w.array().abs() > T(0.2)).template cast<double>().sum() / n;
  const double p2 = std::erfc(std::numbers::sqrt2);
  CHECK(std::abs(beyond - p2) < 5 * std::sqrt(p2 * (1 - p2) / n));
}

TEST_CASE_TEMPLATE("torch_trunc_normal with a tight or one-sided cut matches the truncated-normal moments", T, float,
                   double) {
  ad::Matrix<T> w(400, 500);
  nn::Rng rng(41);
  struct Case {
    double mean, stddev, a, b;
  };
  // Symmetric ±1.5σ, one-sided upper interval, and an interval 10σ out in the upper tail
  // (where Φ(α) and Φ(β) both round to 1 unless the mirror image is sampled).
  for (const Case c : {Case{0, 0.1, -0.15, 0.15}, Case{0, 0.1, 0.05, 0.3}, Case{0, 0.1, 1.0, 1.1}, Case{0.5, 0.2, -1, 0.4}}) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    nn::init::torch_trunc_normal(map(w), c.stddev, rng, c.mean, c.a, c.b);
    const Moments s = moments(w);
    const Moments expected = truncated_normal(c.mean, c.stddev, c.a, c.b);
    CHECK(s.min >= static_cast<double>(T(c.a)));
    CHECK(s.max <= static_cast<double>(T(c.b)));
    CHECK(std::abs(s.mean - expected.mean) < 5 * expected.stddev / std::sqrt(static_cast<double>(w.size())));
    // A cut far in the tail is nearly exponential (kurtosis 9), the worst case here.
    CHECK(std::abs(s.stddev - expected.stddev) < std_tolerance(expected.stddev, w.size(), 9));
  }
}

TEST_CASE("torch_trunc_normal rejects empty or massless intervals") {
  ad::Matrix<double> w(2, 2);
  nn::Rng rng(1);
  CHECK_THROWS_AS(nn::init::torch_trunc_normal(map(w), 0.1, rng, 0, 0.5, -0.5), std::invalid_argument);
  CHECK_THROWS_AS(nn::init::torch_trunc_normal(map(w), 0.1, rng, 0, 50, 51), std::invalid_argument);
  CHECK_THROWS_AS(nn::init::torch_trunc_normal(map(w), 0.0, rng), std::invalid_argument);
}

TEST_CASE_TEMPLATE("uniform-type initialisers stay in their bounds with variance (2·bound)²/12", T, float, double) {
  ad::Matrix<T> w(300, 400), b(1, 100000);
  nn::Rng rng(51);

  nn::init::glorot_uniform(map(w), 30, 20, rng);
  check_symmetric_uniform(w, std::sqrt(6.0 / 50));

  nn::init::siren_first_layer(map(w), 2, rng);
  check_symmetric_uniform(w, 0.5);

  nn::init::siren_hidden_layer(map(w), 30, 30.0, rng);
  check_symmetric_uniform(w, std::sqrt(6.0 / 30) / 30);

  nn::init::torch_linear_default(map(w), map(b), 30, rng);
  check_symmetric_uniform(w, 1 / std::sqrt(30.0));
  check_symmetric_uniform(b, 1 / std::sqrt(30.0));

  nn::init::uniform(map(w), -0.3, 0.7, rng);
  const Moments s = moments(w);
  CHECK(s.min >= static_cast<double>(T(-0.3)));
  CHECK(s.max <= static_cast<double>(T(0.7)));
  CHECK(std::abs(s.mean - 0.2) < 5 * std::sqrt(1.0 / 12 / static_cast<double>(w.size())));

  nn::init::normal(map(w), 2.0, rng, -1.0);
  const Moments g = moments(w);
  CHECK(std::abs(g.mean + 1) < 5 * 2.0 / std::sqrt(static_cast<double>(w.size())));
  CHECK(std::abs(g.stddev - 2.0) < std_tolerance(2.0, w.size()));
}

TEST_CASE("zeros and constant set every element") {
  ad::Matrix<float> w = ad::Matrix<float>::Ones(3, 4);
  nn::init::zeros(map(w));
  CHECK(w.isZero());
  nn::init::constant(map(w), 0.25);
  CHECK((w.array() == 0.25f).all());
}

TEST_CASE("initialisers reject invalid parameters") {
  ad::Matrix<double> w(2, 2);
  nn::Rng rng(1);
  CHECK_THROWS_AS(nn::init::uniform(map(w), 1.0, -1.0, rng), std::invalid_argument);
  CHECK_THROWS_AS(nn::init::normal(map(w), -1.0, rng), std::invalid_argument);
  CHECK_THROWS_AS(nn::init::keras_truncated_normal(map(w), std::nan(""), rng), std::invalid_argument);
  CHECK_THROWS_AS(nn::init::glorot_uniform(map(w), 0, 3, rng), std::invalid_argument);
  CHECK_THROWS_AS(nn::init::siren_first_layer(map(w), -1, rng), std::invalid_argument);
  CHECK_THROWS_AS(nn::init::siren_hidden_layer(map(w), 3, 0.0, rng), std::invalid_argument);
  CHECK_THROWS_AS(nn::Initializer::torch_linear_default().apply(map(w), rng, 0, 2), std::invalid_argument);
}

TEST_CASE_TEMPLATE("Initializer::apply draws exactly what the matching function draws", T, float, double) {
  using nn::Initializer;
  const ad::Index fan_in = 30, fan_out = 20;
  struct Case {
    Initializer init;
    void (*direct)(ad::MatrixMap<T>, nn::Rng&);
  };
  const Case cases[] = {
      {Initializer::zeros(), [](ad::MatrixMap<T> m, nn::Rng&) { nn::init::zeros(m); }},
      {Initializer::constant(0.5), [](ad::MatrixMap<T> m, nn::Rng&) { nn::init::constant(m, 0.5); }},
      {Initializer::uniform(-1, 2), [](ad::MatrixMap<T> m, nn::Rng& r) { nn::init::uniform(m, -1, 2, r); }},
      {Initializer::normal(0.3, 1), [](ad::MatrixMap<T> m, nn::Rng& r) { nn::init::normal(m, 0.3, r, 1); }},
      {Initializer::keras_truncated_normal(0.1),
       [](ad::MatrixMap<T> m, nn::Rng& r) { nn::init::keras_truncated_normal(m, 0.1, r); }},
      {Initializer::torch_trunc_normal(0.1, 0, -0.15, 0.15),
       [](ad::MatrixMap<T> m, nn::Rng& r) { nn::init::torch_trunc_normal(m, 0.1, r, 0, -0.15, 0.15); }},
      {Initializer::torch_linear_default(),
       [](ad::MatrixMap<T> m, nn::Rng& r) { nn::init::uniform(m, -1 / std::sqrt(30.0), 1 / std::sqrt(30.0), r); }},
      {Initializer::glorot_uniform(), [](ad::MatrixMap<T> m, nn::Rng& r) { nn::init::glorot_uniform(m, 30, 20, r); }},
      {Initializer::siren_first_layer(), [](ad::MatrixMap<T> m, nn::Rng& r) { nn::init::siren_first_layer(m, 30, r); }},
      {Initializer::siren_hidden_layer(30), [](ad::MatrixMap<T> m, nn::Rng& r) { nn::init::siren_hidden_layer(m, 30, 30, r); }},
  };
  for (const Case& c : cases) {
    CAPTURE(c.init.describe());
    ad::Matrix<T> via_apply(fan_in, fan_out), direct(fan_in, fan_out);
    nn::Rng r1(61), r2(61);
    c.init.apply(map(via_apply), r1, fan_in, fan_out);
    c.direct(map(direct), r2);
    CHECK(via_apply == direct);
    CHECK(r1 == r2);
  }
}

TEST_CASE("Initializer defaults to zeros and describes its kind and parameters") {
  CHECK(nn::Initializer{}.describe() == "zeros");
  CHECK(nn::Initializer::keras_truncated_normal(0.1).describe() == "keras_truncated_normal(mean=0, stddev=0.1)");
  CHECK(nn::Initializer::torch_trunc_normal(0.1).describe() == "torch_trunc_normal(mean=0, std=0.1, a=-2, b=2)");
  CHECK(nn::Initializer::uniform(-1, 1).describe() == "uniform(-1, 1)");
  CHECK(nn::Initializer::siren_hidden_layer(30).describe() == "siren_hidden_layer(omega0=30)");
  CHECK(nn::Initializer::glorot_uniform().describe() == "glorot_uniform");
}
