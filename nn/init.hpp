#pragma once
// Weight initialisers of the seed study's three implementations (Keras, PyTorch, SIREN), drawn
// from nn::Rng so that every weight of a model is reproducible from one seed.
//
// All samplers fill the matrix in storage (row-major) order, one element after the other,
// compute in double and round once to T. Parameters are validated: a non-positive stddev,
// fan or ω0, or an empty interval, throws std::invalid_argument.

#include <string>
#include <variant>

#include "autodiff/tape.hpp"
#include "nn/random.hpp"

namespace nn {

namespace init {

/// Φ⁻¹(p), the standard normal quantile: Acklam's rational approximation refined by one
/// Halley step on Φ(x) = ½·erfc(−x/√2) (relative error near double precision). Returns −∞
/// for p ≤ 0 and +∞ for p ≥ 1.
double normal_quantile(double p);

/// Every element = 0.
template <class T>
void zeros(ad::MatrixMap<T> m);

/// Every element = value.
template <class T>
void constant(ad::MatrixMap<T> m, double value);

/// Every element ~ U(lo, hi), lo ≤ hi.
template <class T>
void uniform(ad::MatrixMap<T> m, double lo, double hi, Rng& rng);

/// Every element ~ N(mean, stddev²), untruncated.
template <class T>
void normal(ad::MatrixMap<T> m, double stddev, Rng& rng, double mean = 0);

/// Keras TruncatedNormal: N(mean, stddev²) with draws beyond mean ± 2·stddev redrawn and NOT
/// rescaled, so the actual standard deviation is ≈ 0.8796·stddev.
template <class T>
void keras_truncated_normal(ad::MatrixMap<T> m, double stddev, Rng& rng, double mean = 0);

/// PyTorch nn.init.trunc_normal_: N(mean, stddev²) restricted to the ABSOLUTE interval [a, b]
/// (the defaults ±2 are ±20σ for stddev 0.1, i.e. effectively untruncated). Sampled by the
/// inverse-CDF method as PyTorch does: p ~ U(Φ(α), Φ(β)), x = mean + stddev·Φ⁻¹(p) with
/// α = (a − mean)/stddev, β = (b − mean)/stddev, finally clamped to [a, b]. Intervals in the
/// upper tail are sampled through the mirror image so the tail keeps full precision.
template <class T>
void torch_trunc_normal(ad::MatrixMap<T> m, double stddev, Rng& rng, double mean = 0, double a = -2, double b = 2);

/// PyTorch nn.Linear default (kaiming_uniform with a = √5, and its bias rule): weight and then
/// bias ~ U(±1/√fan_in).
template <class T>
void torch_linear_default(ad::MatrixMap<T> weight, ad::MatrixMap<T> bias, ad::Index fan_in, Rng& rng);

/// Glorot/Xavier uniform (the Keras Dense default): U(±√(6/(fan_in + fan_out))).
template <class T>
void glorot_uniform(ad::MatrixMap<T> m, ad::Index fan_in, ad::Index fan_out, Rng& rng);

/// SIREN first layer (Sitzmann et al. 2020): U(±1/fan_in); the layer multiplies by ω0 later.
template <class T>
void siren_first_layer(ad::MatrixMap<T> m, ad::Index fan_in, Rng& rng);

/// SIREN hidden layer: U(±√(6/fan_in)/ω0), so that ω0·(x·W) has unit-scale arguments.
template <class T>
void siren_hidden_layer(ad::MatrixMap<T> m, ad::Index fan_in, double omega0, Rng& rng);

}  // namespace init

/// An initialiser as a value (kind + parameters), so layer options can carry it, e.g.
/// `DenseOptions{.weight_init = Initializer::keras_truncated_normal(0.1)}`. Default: zeros.
struct Initializer {
  struct Zeros {};
  struct Constant {
    double value = 0;
  };
  struct Uniform {
    double lo = 0;
    double hi = 0;
  };
  struct Normal {
    double stddev = 1;
    double mean = 0;
  };
  struct KerasTruncatedNormal {
    double stddev = 1;
    double mean = 0;
  };
  struct TorchTruncNormal {
    double stddev = 1;
    double mean = 0;
    double a = -2;
    double b = 2;
  };
  struct TorchLinearDefault {};
  struct GlorotUniform {};
  struct SirenFirstLayer {};
  struct SirenHiddenLayer {
    double omega0 = 30;
  };
  using Kind = std::variant<Zeros, Constant, Uniform, Normal, KerasTruncatedNormal, TorchTruncNormal,
                            TorchLinearDefault, GlorotUniform, SirenFirstLayer, SirenHiddenLayer>;

  Kind kind;

  static Initializer zeros() { return {Zeros{}}; }
  static Initializer constant(double value) { return {Constant{value}}; }
  static Initializer uniform(double lo, double hi) { return {Uniform{lo, hi}}; }
  static Initializer normal(double stddev, double mean = 0) { return {Normal{stddev, mean}}; }
  static Initializer keras_truncated_normal(double stddev, double mean = 0) { return {KerasTruncatedNormal{stddev, mean}}; }
  static Initializer torch_trunc_normal(double stddev, double mean = 0, double a = -2, double b = 2) {
    return {TorchTruncNormal{stddev, mean, a, b}};
  }
  /// U(±1/√fan_in); apply it to the bias too, with the layer's fan_in, for PyTorch's bias rule.
  static Initializer torch_linear_default() { return {TorchLinearDefault{}}; }
  static Initializer glorot_uniform() { return {GlorotUniform{}}; }
  static Initializer siren_first_layer() { return {SirenFirstLayer{}}; }
  static Initializer siren_hidden_layer(double omega0) { return {SirenHiddenLayer{omega0}}; }

  /// Fills `m` with the matching nn::init function; fan_in and fan_out are those of the layer
  /// the matrix belongs to (ignored by kinds that do not use them).
  template <class T>
  void apply(ad::MatrixMap<T> m, Rng& rng, ad::Index fan_in, ad::Index fan_out) const;

  /// One line naming the kind and its parameters, e.g. "keras_truncated_normal(mean=0, stddev=0.1)".
  std::string describe() const;
};

}  // namespace nn
