#pragma once
// Sums and means: over everything, per row, per column.

#include "autodiff/tape.hpp"

namespace ad {

/// sum(a): y = Σ_ij A_ij.  Shapes: A m x n, y 1 x 1.  VJP: dA += dy (every element).
template <class T>
Var<T> sum(Var<T> a) {
  Var<T> y = a.tape().make(1, 1, a.requires_grad());
  y.value()(0, 0) = a.value().sum();
  return a.tape().record(y, [a, y] { a.grad().array() += y.grad()(0, 0); });
}

/// mean(a): y = Σ_ij A_ij / (m·n).  Shapes: A m x n, y 1 x 1.  VJP: dA += dy / (m·n).
template <class T>
Var<T> mean(Var<T> a) {
  if (a.size() == 0) throw std::invalid_argument("ad::mean: empty input");
  Var<T> y = a.tape().make(1, 1, a.requires_grad());
  y.value()(0, 0) = a.value().mean();
  return a.tape().record(y, [a, y] { a.grad().array() += y.grad()(0, 0) / T(a.size()); });
}

/// sum_rows(a): y_i = Σ_j A_ij (one sum per row).  Shapes: A m x n, y m x 1.
/// VJP: dA_ij += dy_i.
template <class T>
Var<T> sum_rows(Var<T> a) {
  Var<T> y = a.tape().make(a.rows(), 1, a.requires_grad());
  y.value() = a.value().rowwise().sum();
  return a.tape().record(y, [a, y] { a.grad().colwise() += y.grad().col(0); });
}

/// mean_rows(a): y_i = Σ_j A_ij / n.  Shapes: A m x n, y m x 1.  VJP: dA_ij += dy_i / n.
template <class T>
Var<T> mean_rows(Var<T> a) {
  if (a.cols() == 0) throw std::invalid_argument("ad::mean_rows: no columns");
  Var<T> y = a.tape().make(a.rows(), 1, a.requires_grad());
  y.value() = a.value().rowwise().mean();
  return a.tape().record(y, [a, y] { a.grad().colwise() += y.grad().col(0) / T(a.cols()); });
}

/// sum_cols(a): y_j = Σ_i A_ij (one sum per column).  Shapes: A m x n, y 1 x n.
/// VJP: dA_ij += dy_j.
template <class T>
Var<T> sum_cols(Var<T> a) {
  Var<T> y = a.tape().make(1, a.cols(), a.requires_grad());
  y.value() = a.value().colwise().sum();
  return a.tape().record(y, [a, y] { a.grad().rowwise() += y.grad().row(0); });
}

/// mean_cols(a): y_j = Σ_i A_ij / m.  Shapes: A m x n, y 1 x n.  VJP: dA_ij += dy_j / m.
template <class T>
Var<T> mean_cols(Var<T> a) {
  if (a.rows() == 0) throw std::invalid_argument("ad::mean_cols: no rows");
  Var<T> y = a.tape().make(1, a.cols(), a.requires_grad());
  y.value() = a.value().colwise().mean();
  return a.tape().record(y, [a, y] { a.grad().rowwise() += y.grad().row(0) / T(a.rows()); });
}

}  // namespace ad
