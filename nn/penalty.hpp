#pragma once
// Regularisation terms: parameter penalties and activity penalties, each a scalar Var to add to
// the loss (upstream NIF's l1_reg/l2_reg and act_l1_reg/act_l2_reg).

#include "nn/module.hpp"

namespace nn {

namespace detail {
/// λ·Σ_θ Σ f(θ) over every parameter of `module`'s tree, f an elementwise op.
template <class T, class F>
Var<T> parameter_penalty(const Module<T>& module, ad::Tape<T>& tape, T lambda, F f) {
  Var<T> total = tape.constant(ad::Matrix<T>::Zero(1, 1));
  for (const auto& [name, slot] : module.named_parameters()) total = ad::add(total, ad::sum(f(module.buffer().on(tape, slot))));
  return ad::scale(total, lambda);
}
}  // namespace detail

/// λ·Σ θ² over every parameter (weights and biases, as upstream's l2_reg) of `module`'s tree.
/// Shapes: a 1 x 1 Var; its gradient 2λθ lands in the module's gradient buffer.
template <class T>
Var<T> l2_penalty(const Module<T>& module, ad::Tape<T>& tape, T lambda) {
  return detail::parameter_penalty(module, tape, lambda, [](Var<T> v) { return ad::square(v); });
}

/// λ·Σ |θ| over every parameter of `module`'s tree (subgradient 0 at θ = 0).
template <class T>
Var<T> l1_penalty(const Module<T>& module, ad::Tape<T>& tape, T lambda) {
  return detail::parameter_penalty(module, tape, lambda, [](Var<T> v) { return ad::abs(v); });
}

/// λ·Σ a² / B for a batch of activations A (B x n): Keras' activity regulariser, which divides by
/// the batch size.
template <class T>
Var<T> activity_l2(Var<T> a, T lambda) {
  return ad::scale(ad::sum(ad::square(a)), lambda / T(std::max<ad::Index>(a.rows(), 1)));
}

/// λ·Σ |a| / B for a batch of activations A (B x n).
template <class T>
Var<T> activity_l1(Var<T> a, T lambda) {
  return ad::scale(ad::sum(ad::abs(a)), lambda / T(std::max<ad::Index>(a.rows(), 1)));
}

}  // namespace nn
