#pragma once
// The hypernetwork layer: an affine map whose weights differ per sample. hyper_affine is defined in
// hyper.cpp for float and double (its GEMM kernels are compiled once there).

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

/// Runs of consecutive rows of X that share one row of P: run g is rows [offsets[g],
/// offsets[g+1]) and uses row g of P (count + 1 offsets, increasing, offsets[0] = 0). The
/// default (no runs) means row b uses row b. The offsets must stay valid until the tape is
/// cleared (keep them in the tape's arena).
struct RowGroups {
  const Index* offsets = nullptr;
  Index count = 0;
  bool empty() const { return count == 0; }
};

/// hyper_affine(x, P, slice[, groups]): y_b = s·x_b·W_{g(b)} + c_{g(b)} for every sample (row) b,
/// where W_g, c_g are slices of row g of P and g(b) = b (default) or the run containing b.
/// Without groups this is NIF's einsum('ai,aij->aj') plus the per-sample bias, as one node; with
/// groups (samples sharing the ParameterNet input, e.g. one time snapshot) each run is one GEMM.
/// Shapes: X B x in; P B x N, or G x N with G runs; N ≥ the slice's extent; Y B x out.
/// VJP: dx_b += s·dy_b·W_gᵀ;  dW_g += s·Σ_{b∈g} x_bᵀ·dy_b;  dc_g += Σ_{b∈g} dy_b.
template <class T>
Var<T> hyper_affine(Var<T> x, Var<T> p, HyperSlice slice, RowGroups groups = {});

/// expand_rows(p, groups): Y_b = P_{g(b)}, one row per sample from one row per run of `groups`
/// (for models that consume the ParameterNet input per sample); without groups Y = P, as P.
/// Shapes: P G x N with G = groups.count, Y B x N with B = groups.offsets[G].
/// VJP: dP_g += Σ_{b∈g} dY_b.
template <class T>
Var<T> expand_rows(Var<T> p, RowGroups groups) {
  if (groups.empty()) return p;
  if (p.rows() != groups.count) shape_error("expand_rows", p.rows(), p.cols(), groups.count, p.cols());
  const Index rows = groups.offsets[groups.count];
  Var<T> y = p.tape().make(rows, p.cols(), p.requires_grad());
  for (Index g = 0; g < groups.count; ++g)
    y.value().middleRows(groups.offsets[g], groups.offsets[g + 1] - groups.offsets[g]).rowwise() = p.value().row(g);
  return p.tape().record(y, [p, y, groups] {
    for (Index g = 0; g < groups.count; ++g)
      p.grad().row(g) += y.grad().middleRows(groups.offsets[g], groups.offsets[g + 1] - groups.offsets[g]).colwise().sum();
  });
}

}  // namespace ad
