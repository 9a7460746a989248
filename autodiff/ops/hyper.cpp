#include "autodiff/ops/hyper.hpp"

#include <stdexcept>
#include <string>

namespace ad {

namespace {

/// One run of rows sharing W, c: Y = s·X·W + 1·c. A single row is an axpy loop over W's rows,
/// which beats a GEMM call at that size.
template <class T, class XB, class YB>
void hyper_forward_run(const XB& X, const T* w, const T* c, Index in, Index out, T s, YB&& Y) {
  using RowMap = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>;
  if (X.rows() == 1) {
    auto y = Y.row(0);
    if (c != nullptr)
      y = RowMap(c, out);
    else
      y.setZero();
    for (Index i = 0; i < in; ++i) y += (s * X(0, i)) * RowMap(w + i * out, out);
    return;
  }
  Y.noalias() = s * (X * Eigen::Map<const Matrix<T>>(w, in, out));
  if (c != nullptr) Y.rowwise() += RowMap(c, out);
}

/// The VJP of hyper_forward_run: dX += s·dY·Wᵀ (if dX), dW += s·Xᵀ·dY and dc += colsum(dY) (if dw).
/// `scratch` holds X.rows() values (in the tape's arena) for the one-input case below.
template <class T, class XB, class DYB, class DXB>
void hyper_backward_run(const XB& X, const DYB& dY, const T* w, T* dw, T* dc, Index in, Index out, T s, DXB* dX, T* scratch) {
  using RowMap = Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>;
  using ConstRowMap = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>;
  if (X.rows() == 1) {
    const auto dy = dY.row(0);
    if (dX != nullptr)
      for (Index i = 0; i < in; ++i) (*dX)(0, i) += s * ConstRowMap(w + i * out, out).dot(dy);
    if (dw != nullptr) {
      for (Index i = 0; i < in; ++i) RowMap(dw + i * out, out) += (s * X(0, i)) * dy;
      if (dc != nullptr) RowMap(dc, out) += dy;
    }
    return;
  }
  if (dX != nullptr) dX->noalias() += s * (dY * Eigen::Map<const Matrix<T>>(w, in, out).transpose());
  if (dw != nullptr) {
    auto dW = Eigen::Map<Matrix<T>>(dw, in, out);
    // With one input (a SIREN's first layer on 1-d coordinates) Eigen computes s·Xᵀ·dY as a matrix-
    // vector product whose vector, the scaled row s·Xᵀ, it evaluates into a heap temporary. The same
    // row is formed in `scratch` instead: same values, same kernel, no allocation. Below Eigen's
    // threshold for coefficient-wise products and for a single output it allocates nothing and
    // sums differently, so those keep the plain expression.
    if (in == 1 && out > 1 && X.rows() + 1 + out >= EIGEN_GEMM_TO_COEFFBASED_THRESHOLD) {
      Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>> sx(scratch, X.rows());
      sx = s * X.col(0).transpose();
      dW.noalias() += sx * dY;
    } else {
      dW.noalias() += s * (X.transpose() * dY);
    }
    if (dc != nullptr) RowMap(dc, out) += dY.colwise().sum();
  }
}

}  // namespace

template <class T>
Var<T> hyper_affine(Var<T> x, Var<T> p, HyperSlice slice, RowGroups groups) {
  check_same_tape("hyper_affine", x, p);
  const Index in = slice.in, out = slice.out, wo = slice.weight_offset, bo = slice.bias_offset;
  const Index runs = groups.empty() ? x.rows() : groups.count;
  if (x.cols() != in || p.rows() != runs) shape_error("hyper_affine", x.rows(), x.cols(), p.rows(), p.cols());
  if (!groups.empty() && (groups.offsets[0] != 0 || groups.offsets[runs] != x.rows()))
    throw std::invalid_argument("ad::hyper_affine: row groups do not cover the " + std::to_string(x.rows()) + " rows");
  if (in <= 0 || out <= 0 || wo < 0 || wo + in * out > p.cols() || (bo >= 0 && bo + out > p.cols()))
    throw std::invalid_argument("ad::hyper_affine: slice outside the " + std::to_string(p.cols()) +
                                " columns of the parameter matrix");
  const T s = T(slice.weight_scale);
  auto run = [groups](Index g) {
    return groups.empty() ? std::pair{g, Index{1}} : std::pair{groups.offsets[g], groups.offsets[g + 1] - groups.offsets[g]};
  };
  Var<T> y = x.tape().make(x.rows(), out, x.requires_grad() || p.requires_grad());
  T* scratch = in == 1 && !groups.empty() && y.requires_grad() ? x.tape().arena().template allocate_array<T>(std::size_t(x.rows())) : nullptr;
  auto X = x.value(), P = p.value(), Y = y.value();
  for (Index g = 0; g < runs; ++g) {
    const auto [first, rows] = run(g);
    const T* pg = P.row(g).data();
    hyper_forward_run(X.middleRows(first, rows), pg + wo, bo >= 0 ? pg + bo : nullptr, in, out, s,
                              Y.middleRows(first, rows));
  }
  return x.tape().record(y, [x, p, y, in, out, wo, bo, s, runs, run, scratch] {
    auto X = x.value(), P = p.value(), dY = y.grad();
    for (Index g = 0; g < runs; ++g) {
      const auto [first, rows] = run(g);
      T* dpg = p.requires_grad() ? p.grad().row(g).data() : nullptr;
      auto dX = x.requires_grad() ? x.grad().middleRows(first, rows) : X.middleRows(first, rows);
      hyper_backward_run(X.middleRows(first, rows), dY.middleRows(first, rows), P.row(g).data() + wo,
                                 dpg != nullptr ? dpg + wo : nullptr, dpg != nullptr && bo >= 0 ? dpg + bo : nullptr, in,
                                 out, s, x.requires_grad() ? &dX : nullptr, scratch);
    }
  });
}

template Var<float> hyper_affine(Var<float> x, Var<float> p, HyperSlice slice, RowGroups groups);
template Var<double> hyper_affine(Var<double> x, Var<double> p, HyperSlice slice, RowGroups groups);

}  // namespace ad
