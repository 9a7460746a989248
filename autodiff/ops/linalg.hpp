#pragma once
// Matrix products and the fused affine map of a dense layer.

#include "autodiff/tape.hpp"

namespace ad {

/// matmul(a, b): Y = A·B.  Shapes: A m x k, B k x n, Y m x n.
/// VJP: dA += dY·Bᵀ, dB += Aᵀ·dY.
template <class T>
Var<T> matmul(Var<T> a, Var<T> b) {
  check_same_tape("matmul", a, b);
  if (a.cols() != b.rows()) shape_error("matmul", a.rows(), a.cols(), b.rows(), b.cols());
  Var<T> y = a.tape().make(a.rows(), b.cols(), a.requires_grad() || b.requires_grad());
  y.value().noalias() = a.value() * b.value();
  return a.tape().record(y, [a, b, y] {
    if (a.requires_grad()) a.grad().noalias() += y.grad() * b.value().transpose();
    if (b.requires_grad()) b.grad().noalias() += a.value().transpose() * y.grad();
  });
}

/// matmul_nt(a, b): Y = A·Bᵀ.  Shapes: A m x k, B n x k, Y m x n.
/// VJP: dA += dY·B, dB += dYᵀ·A.
template <class T>
Var<T> matmul_nt(Var<T> a, Var<T> b) {
  check_same_tape("matmul_nt", a, b);
  if (a.cols() != b.cols()) shape_error("matmul_nt", a.rows(), a.cols(), b.rows(), b.cols());
  Var<T> y = a.tape().make(a.rows(), b.rows(), a.requires_grad() || b.requires_grad());
  y.value().noalias() = a.value() * b.value().transpose();
  return a.tape().record(y, [a, b, y] {
    if (a.requires_grad()) a.grad().noalias() += y.grad() * b.value();
    if (b.requires_grad()) b.grad().noalias() += y.grad().transpose() * a.value();
  });
}

/// matmul_tn(a, b): Y = Aᵀ·B.  Shapes: A k x m, B k x n, Y m x n.
/// VJP: dA += B·dYᵀ, dB += A·dY.
template <class T>
Var<T> matmul_tn(Var<T> a, Var<T> b) {
  check_same_tape("matmul_tn", a, b);
  if (a.rows() != b.rows()) shape_error("matmul_tn", a.rows(), a.cols(), b.rows(), b.cols());
  Var<T> y = a.tape().make(a.cols(), b.cols(), a.requires_grad() || b.requires_grad());
  y.value().noalias() = a.value().transpose() * b.value();
  return a.tape().record(y, [a, b, y] {
    if (a.requires_grad()) a.grad().noalias() += b.value() * y.grad().transpose();
    if (b.requires_grad()) b.grad().noalias() += a.value() * y.grad();
  });
}

/// affine(x, w, b): Y = X·W + 1·b, the dense layer in one node.
/// Shapes: X B x in, W in x out, b 1 x out, Y B x out.
/// VJP: dX += dY·Wᵀ, dW += Xᵀ·dY, db += colsum(dY).
template <class T>
Var<T> affine(Var<T> x, Var<T> w, Var<T> b) {
  check_same_tape("affine", x, w);
  check_same_tape("affine", x, b);
  if (x.cols() != w.rows()) shape_error("affine", x.rows(), x.cols(), w.rows(), w.cols());
  if (b.rows() != 1 || b.cols() != w.cols()) shape_error("affine(bias)", w.rows(), w.cols(), b.rows(), b.cols());
  Var<T> y = x.tape().make(x.rows(), w.cols(), x.requires_grad() || w.requires_grad() || b.requires_grad());
  auto Y = y.value();
  Y.noalias() = x.value() * w.value();
  Y.rowwise() += b.value().row(0);
  return x.tape().record(y, [x, w, b, y] {
    if (x.requires_grad()) x.grad().noalias() += y.grad() * w.value().transpose();
    if (w.requires_grad()) w.grad().noalias() += x.value().transpose() * y.grad();
    if (b.requires_grad()) b.grad() += y.grad().colwise().sum();
  });
}

}  // namespace ad
