#pragma once
// Matrix products and the fused affine map of a dense layer. Defined in linalg.cpp for float and
// double: each instantiates Eigen's GEMM kernels, which would otherwise be compiled again in every
// file that uses a layer.

#include "autodiff/tape.hpp"

namespace ad {

/// matmul(a, b): Y = A·B.  Shapes: A m x k, B k x n, Y m x n.
/// VJP: dA += dY·Bᵀ, dB += Aᵀ·dY.
template <class T>
Var<T> matmul(Var<T> a, Var<T> b);

/// matmul_nt(a, b): Y = A·Bᵀ.  Shapes: A m x k, B n x k, Y m x n.
/// VJP: dA += dY·B, dB += dYᵀ·A.
template <class T>
Var<T> matmul_nt(Var<T> a, Var<T> b);

/// matmul_tn(a, b): Y = Aᵀ·B.  Shapes: A k x m, B k x n, Y m x n.
/// VJP: dA += B·dYᵀ, dB += A·dY.
template <class T>
Var<T> matmul_tn(Var<T> a, Var<T> b);

/// affine(x, w, b): Y = X·W + 1·b, the dense layer in one node.
/// Shapes: X B x in, W in x out, b 1 x out, Y B x out.
/// VJP: dX += dY·Wᵀ, dW += Xᵀ·dY, db += colsum(dY).
template <class T>
Var<T> affine(Var<T> x, Var<T> w, Var<T> b);

}  // namespace ad
