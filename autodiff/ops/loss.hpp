#pragma once
// Regression losses.

#include "autodiff/tape.hpp"

namespace ad {

/// mse(p, t): y = Σ_ij (P_ij − T_ij)² / (m·n).  Shapes: P, T m x n; y 1 x 1.
/// VJP: dP += 2·dy·(P − T)/(m·n), dT −= the same.
template <class T>
Var<T> mse(Var<T> pred, Var<T> target) {
  check_same_tape("mse", pred, target);
  if (pred.rows() != target.rows() || pred.cols() != target.cols())
    shape_error("mse", pred.rows(), pred.cols(), target.rows(), target.cols());
  if (pred.size() == 0) throw std::invalid_argument("ad::mse: empty input");
  Var<T> y = pred.tape().make(1, 1, pred.requires_grad() || target.requires_grad());
  y.value()(0, 0) = (pred.value() - target.value()).squaredNorm() / T(pred.size());
  return pred.tape().record(y, [pred, target, y] {
    const T c = 2 * y.grad()(0, 0) / T(pred.size());
    if (pred.requires_grad()) pred.grad() += c * (pred.value() - target.value());
    if (target.requires_grad()) target.grad() -= c * (pred.value() - target.value());
  });
}

/// weighted_mse(p, t, w): y = Σ_ij w_i (P_ij − T_ij)² / (m·n), one weight per sample (row);
/// with w ≡ 1 it equals mse (Keras' sample_weight with sum-over-batch-size reduction).
/// Shapes: P, T m x n; w m x 1; y 1 x 1.
/// VJP: dP_ij += 2·dy·w_i(P_ij − T_ij)/(m·n), dT_ij −= the same, dw_i += dy·Σ_j (P_ij − T_ij)²/(m·n).
template <class T>
Var<T> weighted_mse(Var<T> pred, Var<T> target, Var<T> weight) {
  check_same_tape("weighted_mse", pred, target);
  check_same_tape("weighted_mse", pred, weight);
  if (pred.rows() != target.rows() || pred.cols() != target.cols())
    shape_error("weighted_mse", pred.rows(), pred.cols(), target.rows(), target.cols());
  if (weight.rows() != pred.rows() || weight.cols() != 1)
    shape_error("weighted_mse(weight)", pred.rows(), pred.cols(), weight.rows(), weight.cols());
  if (pred.size() == 0) throw std::invalid_argument("ad::weighted_mse: empty input");
  Var<T> y = pred.tape().make(1, 1, pred.requires_grad() || target.requires_grad() || weight.requires_grad());
  const T n = T(pred.size());
  y.value()(0, 0) =
      ((pred.value() - target.value()).array().square().rowwise().sum() * weight.value().array()).sum() / n;
  return pred.tape().record(y, [pred, target, weight, y, n] {
    const T c = y.grad()(0, 0) / n;
    auto diff = (pred.value() - target.value()).array();
    auto weighted = (diff.colwise() * weight.value().col(0).array()) * (2 * c);
    if (pred.requires_grad()) pred.grad().array() += weighted;
    if (target.requires_grad()) target.grad().array() -= weighted;
    if (weight.requires_grad()) weight.grad().array() += c * diff.square().rowwise().sum();
  });
}

}  // namespace ad
