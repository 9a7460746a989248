#pragma once
// Elementwise arithmetic with broadcasting.
//
// Broadcasting: each operand is either the output's full m x n shape, a row vector 1 x n
// (repeated down the rows, e.g. a bias), a column vector m x 1 (repeated across the columns,
// e.g. a per-sample weight) or a 1 x 1 scalar. The adjoint of a broadcast operand is the
// output adjoint summed over the repeated dimension(s).

#include "autodiff/tape.hpp"

namespace ad {

namespace detail {

/// Output shape of a broadcasting binary op, or a shape error naming `op`.
template <class T>
std::pair<Index, Index> broadcast_shape(const char* op, Var<T> a, Var<T> b) {
  check_same_tape(op, a, b);
  auto dim = [&](Index x, Index y) -> Index {
    if (x == y || y == 1) return x;
    if (x == 1) return y;
    shape_error(op, a.rows(), a.cols(), b.rows(), b.cols());
  };
  return {dim(a.rows(), b.rows()), dim(a.cols(), b.cols())};
}

/// Calls f with `v`'s value as an array expression of shape rows x cols: the value itself when
/// it already has that shape (the common case, kept free of the replicate indexing), otherwise
/// repeated along the broadcast dimension(s) (no copy either way).
template <class T, class F>
void with_expanded(Var<T> v, Index rows, Index cols, F&& f) {
  if (v.rows() == rows && v.cols() == cols)
    f(v.value().array());
  else
    f(v.value().replicate(rows / v.rows(), cols / v.cols()).array());
}

/// Calls f with both operands expanded to rows x cols.
template <class T, class F>
void with_expanded(Var<T> a, Var<T> b, Index rows, Index cols, F&& f) {
  with_expanded(a, rows, cols, [&](const auto& ea) { with_expanded(b, rows, cols, [&](const auto& eb) { f(ea, eb); }); });
}

/// Adds `g` (an array expression of the output's shape) into `target`'s adjoint, summing over
/// the dimensions along which `target` was broadcast.
template <class T, class Expr>
void add_reduced(Var<T> target, const Expr& g) {
  auto G = target.grad().array();
  const bool same_rows = target.rows() == g.rows(), same_cols = target.cols() == g.cols();
  if (same_rows && same_cols)
    G += g;
  else if (same_cols)
    G += g.colwise().sum();
  else if (same_rows)
    G += g.rowwise().sum();
  else
    G += g.sum();
}

/// One elementwise op: Y = f(A); VJP dA += dY ⊙ df(A, Y). `f` and `df` are captureless
/// lambdas on Eigen arrays, so a new elementwise function is one call of this function.
template <class T, class F, class DF>
Var<T> unary(Var<T> a, F f, DF df) {
  Var<T> y = a.tape().make(a.rows(), a.cols(), a.requires_grad());
  y.value().array() = f(a.value().array());
  return a.tape().record(y, [a, y, df] { a.grad().array() += y.grad().array() * df(a.value().array(), y.value().array()); });
}

}  // namespace detail

/// add(a, b): Y = A + B (broadcasting).  VJP: dA += reduce(dY), dB += reduce(dY).
template <class T>
Var<T> add(Var<T> a, Var<T> b) {
  auto [m, n] = detail::broadcast_shape("add", a, b);
  Var<T> y = a.tape().make(m, n, a.requires_grad() || b.requires_grad());
  detail::with_expanded(a, b, m, n, [&](const auto& ea, const auto& eb) { y.value().array() = ea + eb; });
  return a.tape().record(y, [a, b, y] {
    if (a.requires_grad()) detail::add_reduced(a, y.grad().array());
    if (b.requires_grad()) detail::add_reduced(b, y.grad().array());
  });
}

/// sub(a, b): Y = A - B (broadcasting).  VJP: dA += reduce(dY), dB -= reduce(dY).
template <class T>
Var<T> sub(Var<T> a, Var<T> b) {
  auto [m, n] = detail::broadcast_shape("sub", a, b);
  Var<T> y = a.tape().make(m, n, a.requires_grad() || b.requires_grad());
  detail::with_expanded(a, b, m, n, [&](const auto& ea, const auto& eb) { y.value().array() = ea - eb; });
  return a.tape().record(y, [a, b, y] {
    if (a.requires_grad()) detail::add_reduced(a, y.grad().array());
    if (b.requires_grad()) detail::add_reduced(b, -y.grad().array());
  });
}

/// mul(a, b): Y = A ⊙ B (broadcasting).  VJP: dA += reduce(dY ⊙ B), dB += reduce(dY ⊙ A).
template <class T>
Var<T> mul(Var<T> a, Var<T> b) {
  auto [m, n] = detail::broadcast_shape("mul", a, b);
  Var<T> y = a.tape().make(m, n, a.requires_grad() || b.requires_grad());
  detail::with_expanded(a, b, m, n, [&](const auto& ea, const auto& eb) { y.value().array() = ea * eb; });
  return a.tape().record(y, [a, b, y, m, n] {
    detail::with_expanded(a, b, m, n, [&](const auto& ea, const auto& eb) {
      if (a.requires_grad()) detail::add_reduced(a, y.grad().array() * eb);
      if (b.requires_grad()) detail::add_reduced(b, y.grad().array() * ea);
    });
  });
}

/// div(a, b): Y = A ⊘ B (broadcasting).  VJP: dA += reduce(dY ⊘ B), dB -= reduce(dY ⊙ A ⊘ B²).
template <class T>
Var<T> div(Var<T> a, Var<T> b) {
  auto [m, n] = detail::broadcast_shape("div", a, b);
  Var<T> y = a.tape().make(m, n, a.requires_grad() || b.requires_grad());
  detail::with_expanded(a, b, m, n, [&](const auto& ea, const auto& eb) { y.value().array() = ea / eb; });
  return a.tape().record(y, [a, b, y, m, n] {
    detail::with_expanded(a, b, m, n, [&](const auto& ea, const auto& eb) {
      if (a.requires_grad()) detail::add_reduced(a, y.grad().array() / eb);
      if (b.requires_grad()) detail::add_reduced(b, -y.grad().array() * ea / eb.square());
    });
  });
}

/// scale(a, c): Y = c·A for a constant c.  VJP: dA += c·dY.  Shapes: Y has A's shape.
template <class T>
Var<T> scale(Var<T> a, T c) {
  Var<T> y = a.tape().make(a.rows(), a.cols(), a.requires_grad());
  y.value() = c * a.value();
  return a.tape().record(y, [a, y, c] { a.grad() += c * y.grad(); });
}

/// to_compute_precision(a): Y = A rounded to the tape's compute precision (A itself under fp32),
/// the explicit entry of data into an emulated fp16/bf16 computation, as Keras casts a layer's
/// inputs (autodiff/precision.hpp).  VJP: dA += dY.  Shapes: Y has A's shape.
template <class T>
Var<T> to_compute_precision(Var<T> a) {
  if (a.tape().precision() == Precision::fp32) return a;
  Var<T> y = a.tape().make(a.rows(), a.cols(), a.requires_grad());
  y.value() = a.value();
  return a.tape().record(y, [a, y] { a.grad() += y.grad(); });
}

/// add_constant(a, c): Y = A + c for a constant c.  VJP: dA += dY.
template <class T>
Var<T> add_constant(Var<T> a, T c) {
  Var<T> y = a.tape().make(a.rows(), a.cols(), a.requires_grad());
  y.value().array() = a.value().array() + c;
  return a.tape().record(y, [a, y] { a.grad() += y.grad(); });
}

/// square(a): Y = A ⊙ A.  VJP: dA += 2·dY ⊙ A.
template <class T>
Var<T> square(Var<T> a) {
  return detail::unary(
      a, [](const auto& x) { return x.square(); }, [](const auto& x, const auto&) { return 2 * x; });
}

/// abs(a): Y = |A|.  VJP: dA += dY ⊙ sign(A) (0 at A = 0).
template <class T>
Var<T> abs(Var<T> a) {
  return detail::unary(
      a, [](const auto& x) { return x.abs(); }, [](const auto& x, const auto&) { return x.sign(); });
}

template <class T>
Var<T> operator+(Var<T> a, Var<T> b) { return add(a, b); }
template <class T>
Var<T> operator-(Var<T> a, Var<T> b) { return sub(a, b); }
template <class T>
Var<T> operator*(Var<T> a, Var<T> b) { return mul(a, b); }
template <class T>
Var<T> operator/(Var<T> a, Var<T> b) { return div(a, b); }
template <class T>
Var<T> operator*(T c, Var<T> a) { return scale(a, c); }

}  // namespace ad
