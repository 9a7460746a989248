#pragma once
// The hypernetwork layer: an affine map whose weights differ per sample.

#include "autodiff/tape.hpp"

namespace ad {

/// Where one ShapeNet layer's weights and bias sit inside a row of the ParameterNet output P.
struct HyperSlice {
  Index in = 0;             ///< input width of the layer
  Index out = 0;            ///< output width of the layer
  Index weight_offset = 0;  ///< W_b[i][j] = P[b, weight_offset + i·out + j] (row-major [in, out])
  Index bias_offset = -1;   ///< c_b[j] = P[b, bias_offset + j]; negative: the layer has no bias
  double weight_scale = 1;  ///< s below; SIREN's ω0 multiplies only the product, never the bias
};

/// hyper_affine(x, P, slice): y_b = s·x_b·W_b + c_b for every sample (row) b, i.e. NIF's
/// einsum('ai,aij->aj') plus the per-sample bias, as one node.
/// Shapes: X B x in, P B x N (N ≥ the slice's extent), Y B x out.
/// VJP: dx_b += s·dy_b·W_bᵀ;  dW_b += s·x_bᵀ·dy_b;  dc_b += dy_b  (W_b, c_b as slices of dP_b).
template <class T>
Var<T> hyper_affine(Var<T> x, Var<T> p, HyperSlice slice) {
  const Index in = slice.in, out = slice.out, wo = slice.weight_offset, bo = slice.bias_offset;
  if (x.cols() != in || x.rows() != p.rows()) shape_error("hyper_affine", x.rows(), x.cols(), p.rows(), p.cols());
  if (in <= 0 || out <= 0 || wo < 0 || wo + in * out > p.cols() || (bo >= 0 && bo + out > p.cols()))
    throw std::invalid_argument("ad::hyper_affine: slice outside the " + std::to_string(p.cols()) +
                                " columns of the parameter matrix");
  const T s = T(slice.weight_scale);
  using RowMap = Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>;
  Var<T> y = x.tape().make(x.rows(), out, x.requires_grad() || p.requires_grad());
  auto X = x.value(), P = p.value(), Y = y.value();
  for (Index b = 0; b < X.rows(); ++b) {
    T* pb = P.row(b).data();
    auto yb = Y.row(b);
    if (bo >= 0)
      yb = RowMap(pb + bo, out);
    else
      yb.setZero();
    for (Index i = 0; i < in; ++i) yb += (s * X(b, i)) * RowMap(pb + wo + i * out, out);
  }
  return x.tape().record(y, [x, p, y, in, out, wo, bo, s] {
    auto X = x.value(), P = p.value(), dY = y.grad();
    for (Index b = 0; b < X.rows(); ++b) {
      const auto dyb = dY.row(b);
      if (x.requires_grad()) {
        T* pb = P.row(b).data();
        auto dX = x.grad();
        for (Index i = 0; i < in; ++i) dX(b, i) += s * RowMap(pb + wo + i * out, out).dot(dyb);
      }
      if (p.requires_grad()) {
        T* gb = p.grad().row(b).data();
        for (Index i = 0; i < in; ++i) RowMap(gb + wo + i * out, out) += (s * X(b, i)) * dyb;
        if (bo >= 0) RowMap(gb + bo, out) += dyb;
      }
    }
  });
}

}  // namespace ad
