#include "nn/init.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

namespace nn {
namespace init {
namespace {

template <class T, class Draw>
void fill(ad::MatrixMap<T> m, Draw&& draw) {
  T* p = m.data();
  for (ad::Index k = 0; k < m.size(); ++k) p[k] = static_cast<T>(draw());
}

void require_positive(double value, const char* what, const char* where) {
  if (!(value > 0) || !std::isfinite(value)) {
    throw std::invalid_argument(fmt::format("nn::init::{}: {} must be positive and finite, got {}", where, what, value));
  }
}

void require_positive_fan(ad::Index fan, const char* what, const char* where) {
  if (fan <= 0) throw std::invalid_argument(fmt::format("nn::init::{}: {} must be positive, got {}", where, what, fan));
}

void require_interval(double lo, double hi, const char* where) {
  if (!(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi)) {
    throw std::invalid_argument(fmt::format("nn::init::{}: invalid interval [{}, {}]", where, lo, hi));
  }
}

template <class T>
void symmetric_uniform(ad::MatrixMap<T> m, double bound, Rng& rng) {
  fill(m, [&] { return rng.uniform(-bound, bound); });
}

/// U(±1/√fan_in): PyTorch's kaiming_uniform(a = √5) for nn.Linear weights, and its bias rule.
template <class T>
void torch_default_uniform(ad::MatrixMap<T> m, ad::Index fan_in, Rng& rng) {
  require_positive_fan(fan_in, "fan_in", "torch_linear_default");
  symmetric_uniform(m, 1 / std::sqrt(static_cast<double>(fan_in)), rng);
}

/// Φ(x) through erfc, which keeps full relative precision in the lower tail.
double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

/// Φ⁻¹(p) for 0 < p ≤ ½ (the lower half, where p carries full relative precision).
double lower_normal_quantile(double p) {
  // Acklam's rational approximations (relative error < 1.15e-9): central region and tail.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01,  -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  constexpr double p_tail = 0.02425;
  double x = 0;
  if (p < p_tail) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  // One Halley step on Φ(x) − p. Far out in the tail φ(x) approaches underflow; there the
  // approximation's 1e-9 relative accuracy is kept as is.
  const double density = std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi);
  if (density > 1e-280) {
    const double u = (normal_cdf(x) - p) / density;
    x -= u / (1 + 0.5 * x * u);
  }
  return x;
}

}  // namespace

double normal_quantile(double p) {
  if (std::isnan(p)) return p;
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  // 1 − p is exact for p ≥ ½ (Sterbenz), so the upper half reuses the lower half by symmetry.
  return p <= 0.5 ? lower_normal_quantile(p) : -lower_normal_quantile(1 - p);
}

template <class T>
void zeros(ad::MatrixMap<T> m) {
  m.setZero();
}

template <class T>
void constant(ad::MatrixMap<T> m, double value) {
  m.setConstant(static_cast<T>(value));
}

template <class T>
void uniform(ad::MatrixMap<T> m, double lo, double hi, Rng& rng) {
  require_interval(lo, hi, "uniform");
  fill(m, [&] { return rng.uniform(lo, hi); });
}

template <class T>
void normal(ad::MatrixMap<T> m, double stddev, Rng& rng, double mean) {
  require_positive(stddev, "stddev", "normal");
  fill(m, [&] { return mean + stddev * rng.normal(); });
}

template <class T>
void keras_truncated_normal(ad::MatrixMap<T> m, double stddev, Rng& rng, double mean) {
  require_positive(stddev, "stddev", "keras_truncated_normal");
  fill(m, [&] {
    double z = rng.normal();
    while (std::abs(z) > 2) z = rng.normal();
    return mean + stddev * z;
  });
}

template <class T>
void torch_trunc_normal(ad::MatrixMap<T> m, double stddev, Rng& rng, double mean, double a, double b) {
  require_positive(stddev, "stddev", "torch_trunc_normal");
  require_interval(a, b, "torch_trunc_normal");
  const double alpha = (a - mean) / stddev;
  const double beta = (b - mean) / stddev;
  // Mirror an interval lying mostly in the upper half: Φ near 1 has no precision left.
  const bool mirror = alpha + beta > 0;
  const double cdf_lo = normal_cdf(mirror ? -beta : alpha);
  const double cdf_hi = normal_cdf(mirror ? -alpha : beta);
  if (!(cdf_hi > cdf_lo)) {
    throw std::invalid_argument(
        fmt::format("nn::init::torch_trunc_normal: [{}, {}] holds no probability mass of N({}, {}^2)", a, b, mean, stddev));
  }
  fill(m, [&] {
    const double z = normal_quantile(cdf_lo + (cdf_hi - cdf_lo) * rng.uniform());
    return std::clamp(mean + stddev * (mirror ? -z : z), a, b);
  });
}

template <class T>
void torch_linear_default(ad::MatrixMap<T> weight, ad::MatrixMap<T> bias, ad::Index fan_in, Rng& rng) {
  torch_default_uniform(weight, fan_in, rng);
  torch_default_uniform(bias, fan_in, rng);
}

template <class T>
void glorot_uniform(ad::MatrixMap<T> m, ad::Index fan_in, ad::Index fan_out, Rng& rng) {
  require_positive_fan(fan_in, "fan_in", "glorot_uniform");
  require_positive_fan(fan_out, "fan_out", "glorot_uniform");
  symmetric_uniform(m, std::sqrt(6.0 / static_cast<double>(fan_in + fan_out)), rng);
}

template <class T>
void siren_first_layer(ad::MatrixMap<T> m, ad::Index fan_in, Rng& rng) {
  require_positive_fan(fan_in, "fan_in", "siren_first_layer");
  symmetric_uniform(m, 1.0 / static_cast<double>(fan_in), rng);
}

template <class T>
void siren_hidden_layer(ad::MatrixMap<T> m, ad::Index fan_in, double omega0, Rng& rng) {
  require_positive_fan(fan_in, "fan_in", "siren_hidden_layer");
  require_positive(omega0, "omega0", "siren_hidden_layer");
  symmetric_uniform(m, std::sqrt(6.0 / static_cast<double>(fan_in)) / omega0, rng);
}

}  // namespace init

template <class T>
void Initializer::apply(ad::MatrixMap<T> m, Rng& rng, ad::Index fan_in, ad::Index fan_out) const {
  std::visit(
      [&](const auto& k) {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, Zeros>) {
          init::zeros(m);
        } else if constexpr (std::is_same_v<K, Constant>) {
          init::constant(m, k.value);
        } else if constexpr (std::is_same_v<K, Uniform>) {
          init::uniform(m, k.lo, k.hi, rng);
        } else if constexpr (std::is_same_v<K, Normal>) {
          init::normal(m, k.stddev, rng, k.mean);
        } else if constexpr (std::is_same_v<K, KerasTruncatedNormal>) {
          init::keras_truncated_normal(m, k.stddev, rng, k.mean);
        } else if constexpr (std::is_same_v<K, TorchTruncNormal>) {
          init::torch_trunc_normal(m, k.stddev, rng, k.mean, k.a, k.b);
        } else if constexpr (std::is_same_v<K, TorchLinearDefault>) {
          init::torch_default_uniform(m, fan_in, rng);
        } else if constexpr (std::is_same_v<K, GlorotUniform>) {
          init::glorot_uniform(m, fan_in, fan_out, rng);
        } else if constexpr (std::is_same_v<K, SirenFirstLayer>) {
          init::siren_first_layer(m, fan_in, rng);
        } else {
          static_assert(std::is_same_v<K, SirenHiddenLayer>);
          init::siren_hidden_layer(m, fan_in, k.omega0, rng);
        }
      },
      kind);
}

std::string Initializer::describe() const {
  return std::visit(
      [](const auto& k) -> std::string {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, Zeros>) {
          return "zeros";
        } else if constexpr (std::is_same_v<K, Constant>) {
          return fmt::format("constant({:g})", k.value);
        } else if constexpr (std::is_same_v<K, Uniform>) {
          return fmt::format("uniform({:g}, {:g})", k.lo, k.hi);
        } else if constexpr (std::is_same_v<K, Normal>) {
          return fmt::format("normal(mean={:g}, stddev={:g})", k.mean, k.stddev);
        } else if constexpr (std::is_same_v<K, KerasTruncatedNormal>) {
          return fmt::format("keras_truncated_normal(mean={:g}, stddev={:g})", k.mean, k.stddev);
        } else if constexpr (std::is_same_v<K, TorchTruncNormal>) {
          return fmt::format("torch_trunc_normal(mean={:g}, std={:g}, a={:g}, b={:g})", k.mean, k.stddev, k.a, k.b);
        } else if constexpr (std::is_same_v<K, TorchLinearDefault>) {
          return "torch_linear_default(U(+-1/sqrt(fan_in)))";
        } else if constexpr (std::is_same_v<K, GlorotUniform>) {
          return "glorot_uniform";
        } else if constexpr (std::is_same_v<K, SirenFirstLayer>) {
          return "siren_first_layer(U(+-1/fan_in))";
        } else {
          static_assert(std::is_same_v<K, SirenHiddenLayer>);
          return fmt::format("siren_hidden_layer(omega0={:g})", k.omega0);
        }
      },
      kind);
}

#define NN_INIT_INSTANTIATE(T)                                                                                  \
  template void init::zeros<T>(ad::MatrixMap<T>);                                                               \
  template void init::constant<T>(ad::MatrixMap<T>, double);                                                    \
  template void init::uniform<T>(ad::MatrixMap<T>, double, double, Rng&);                                       \
  template void init::normal<T>(ad::MatrixMap<T>, double, Rng&, double);                                        \
  template void init::keras_truncated_normal<T>(ad::MatrixMap<T>, double, Rng&, double);                        \
  template void init::torch_trunc_normal<T>(ad::MatrixMap<T>, double, Rng&, double, double, double);            \
  template void init::torch_linear_default<T>(ad::MatrixMap<T>, ad::MatrixMap<T>, ad::Index, Rng&);             \
  template void init::glorot_uniform<T>(ad::MatrixMap<T>, ad::Index, ad::Index, Rng&);                          \
  template void init::siren_first_layer<T>(ad::MatrixMap<T>, ad::Index, Rng&);                                  \
  template void init::siren_hidden_layer<T>(ad::MatrixMap<T>, ad::Index, double, Rng&);                         \
  template void Initializer::apply<T>(ad::MatrixMap<T>, Rng&, ad::Index, ad::Index) const;

NN_INIT_INSTANTIATE(float)
NN_INIT_INSTANTIATE(double)
#undef NN_INIT_INSTANTIATE

}  // namespace nn
