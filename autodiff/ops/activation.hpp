#pragma once
// Activations and their derivatives, each a differentiable op.
//
// The derivative ops (swish_prime, ...) exist so that a model can build ∂u/∂x by the chain rule
// in the forward pass and put a loss on it; their own backward is the second derivative.

#include <string>
#include <string_view>

#include "autodiff/ops/elementwise.hpp"

namespace ad {


/// sigmoid(a): Y = 1/(1+e^−A).  VJP: dA += dY ⊙ Y(1−Y).  Shapes: Y has A's shape.
template <class T>
Var<T> sigmoid(Var<T> a) {
  return detail::unary(
      a, [](const auto& x) { return x.logistic(); }, [](const auto&, const auto& y) { return y * (1 - y); });
}

/// swish(a) = silu(a): Y = A ⊙ sigmoid(A).  VJP: dA += dY ⊙ s(1 + A(1−s)), s = sigmoid(A).
template <class T>
Var<T> swish(Var<T> a) {
  return detail::unary(
      a, [](const auto& x) { return x * x.logistic(); },
      [](const auto& x, const auto&) { return x.logistic() * (1 + x * (1 - x.logistic())); });
}

/// tanh(a): Y = tanh(A).  VJP: dA += dY ⊙ (1 − Y²).
template <class T>
Var<T> tanh(Var<T> a) {
  return detail::unary(
      a, [](const auto& x) { return x.tanh(); }, [](const auto&, const auto& y) { return 1 - y.square(); });
}

/// sin(a): Y = sin(A).  VJP: dA += dY ⊙ cos(A).
template <class T>
Var<T> sin(Var<T> a) {
  return detail::unary(
      a, [](const auto& x) { return x.sin(); }, [](const auto& x, const auto&) { return x.cos(); });
}

/// cos(a): Y = cos(A).  VJP: dA += −dY ⊙ sin(A).
template <class T>
Var<T> cos(Var<T> a) {
  return detail::unary(
      a, [](const auto& x) { return x.cos(); }, [](const auto& x, const auto&) { return -x.sin(); });
}

/// relu(a): Y = max(A, 0).  VJP: dA += dY ⊙ [A > 0].
template <class T>
Var<T> relu(Var<T> a) {
  return detail::unary(
      a, [](const auto& x) { return x.max(0); },
      [](const auto& x, const auto&) { return (x > 0).template cast<typename std::decay_t<decltype(x)>::Scalar>(); });
}

/// identity(a): Y = A, no node is recorded.
template <class T>
Var<T> identity(Var<T> a) { return a; }

/// sigmoid_prime(a): Y = s(1−s), s = sigmoid(A).  VJP: dA += dY ⊙ s(1−s)(1−2s).
template <class T>
Var<T> sigmoid_prime(Var<T> a) {
  return detail::unary(
      a, [](const auto& x) { return x.logistic() * (1 - x.logistic()); },
      [](const auto& x, const auto& y) { return y * (1 - 2 * x.logistic()); });
}

/// swish_prime(a): Y = s(1 + A(1−s)).  VJP: dA += dY ⊙ s(1−s)(2 + A(1−2s)).
template <class T>
Var<T> swish_prime(Var<T> a) {
  return detail::unary(
      a, [](const auto& x) { return x.logistic() * (1 + x * (1 - x.logistic())); },
      [](const auto& x, const auto&) {
        return x.logistic() * (1 - x.logistic()) * (2 + x * (1 - 2 * x.logistic()));
      });
}

/// tanh_prime(a): Y = 1 − tanh²(A).  VJP: dA += dY ⊙ (−2·tanh(A)·Y).
template <class T>
Var<T> tanh_prime(Var<T> a) {
  return detail::unary(
      a, [](const auto& x) { return 1 - x.tanh().square(); }, [](const auto& x, const auto& y) { return -2 * x.tanh() * y; });
}

/// sin_prime(a): Y = cos(A) (VJP as cos).
template <class T>
Var<T> sin_prime(Var<T> a) { return cos(a); }

/// relu_prime(a): Y = [A > 0]. Its derivative is zero almost everywhere, so Y is a constant.
template <class T>
Var<T> relu_prime(Var<T> a) {
  Var<T> y = a.tape().make(a.rows(), a.cols(), false);
  y.value() = (a.value().array() > 0).template cast<T>().matrix();
  return y;  // 0 and 1 in every precision: nothing to round, nothing to record
}

/// identity_prime(a): Y = 1 (a constant of A's shape).
template <class T>
Var<T> identity_prime(Var<T> a) {
  Var<T> y = a.tape().make(a.rows(), a.cols(), false);
  y.value().setOnes();
  return y;
}

/// The activations a layer can be configured with.
enum class Activation { identity, relu, sigmoid, tanh, swish, sin };

/// act(a) for a configured activation.
template <class T>
Var<T> activate(Var<T> a, Activation act) {
  switch (act) {
    case Activation::identity: return identity(a);
    case Activation::relu: return relu(a);
    case Activation::sigmoid: return sigmoid(a);
    case Activation::tanh: return tanh(a);
    case Activation::swish: return swish(a);
    case Activation::sin: return sin(a);
  }
  throw std::logic_error("ad::activate: bad activation");
}

/// act'(a) for a configured activation, itself differentiable.
template <class T>
Var<T> activate_prime(Var<T> a, Activation act) {
  switch (act) {
    case Activation::identity: return identity_prime(a);
    case Activation::relu: return relu_prime(a);
    case Activation::sigmoid: return sigmoid_prime(a);
    case Activation::tanh: return tanh_prime(a);
    case Activation::swish: return swish_prime(a);
    case Activation::sin: return sin_prime(a);
  }
  throw std::logic_error("ad::activate_prime: bad activation");
}

/// Parses an activation name: identity/linear, relu, sigmoid, tanh, swish/silu, sin/sine.
/// Throws std::invalid_argument listing the accepted names for anything else.
Activation activation_from_name(std::string_view name);
std::string_view activation_name(Activation act);
/// The names activation_from_name accepts, for help texts ("identity, relu, ...").
std::string activation_names();

}  // namespace ad
