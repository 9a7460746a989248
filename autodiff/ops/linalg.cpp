#include "autodiff/ops/linalg.hpp"

namespace ad {

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

template Var<float> matmul(Var<float> a, Var<float> b);
template Var<double> matmul(Var<double> a, Var<double> b);
template Var<float> matmul_nt(Var<float> a, Var<float> b);
template Var<double> matmul_nt(Var<double> a, Var<double> b);
template Var<float> matmul_tn(Var<float> a, Var<float> b);
template Var<double> matmul_tn(Var<double> a, Var<double> b);
template Var<float> affine(Var<float> x, Var<float> w, Var<float> b);
template Var<double> affine(Var<double> x, Var<double> w, Var<double> b);

}  // namespace ad
