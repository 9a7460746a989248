#pragma once
// Forward-mode derivatives as tape values: jets.
//
// A Jet is a value together with its first derivatives along n input directions and its second
// derivatives along the first m ≤ n of them (the diagonal of the Hessian), every one an ordinary
// Var of the value's shape. The overloads below propagate them through the building blocks the
// models use (Taylor arithmetic: ẏ = f'(a)ȧ, ÿ = f''(a)ȧ² + f'(a)ä, products by Leibniz' rule),
// recording only ordinary ops, so a derivative of a network's output is a tape value like any
// other: a loss on it backpropagates to the parameters by the usual reverse sweep.
//
// An absent Var (!valid()) is an exact zero and costs nothing: a ShapeNet weight, a function of p
// only, carries no x-direction tangents, and a parameter (a plain Var mixed into a jet op) has no
// tangent at all. The derivative arrays live in the tape's arena (no heap allocation per step).
// Jets combined by one op come from seeds with the same n and m (Jet::seed), or are constants.

#include <initializer_list>

#include "autodiff/ops/activation.hpp"
#include "autodiff/ops/elementwise.hpp"
#include "autodiff/ops/hyper.hpp"
#include "autodiff/ops/linalg.hpp"
#include "autodiff/ops/shape.hpp"

namespace ad {

template <class T>
struct Jet {
  using Scalar = T;

  Var<T> value;
  Var<T>* first = nullptr;   ///< `directions` first derivatives ∂y/∂e_k (absent = 0)
  Var<T>* second = nullptr;  ///< `second_directions` second derivatives ∂²y/∂e_k² (absent = 0)
  int directions = 0;
  int second_directions = 0;

  Tape<T>& tape() const { return value.tape(); }
  Index rows() const { return value.rows(); }
  Index cols() const { return value.cols(); }

  /// A jet of `value` with room for n first and m second derivatives, all zero.
  static Jet zero_derivatives(Var<T> value, int n, int m) {
    Jet j{value, nullptr, nullptr, n, m};
    j.first = value.tape().arena().template allocate_array<Var<T>>(std::size_t(n));
    j.second = value.tape().arena().template allocate_array<Var<T>>(std::size_t(m));
    std::fill_n(j.first, n, Var<T>());
    std::fill_n(j.second, m, Var<T>());
    return j;
  }

  /// The input jet of `x` (B x k): its column c is direction `offset + c`, with ∂x/∂e = a constant
  /// one-hot column; second derivatives (zero) are tracked for the first m of the n directions.
  static Jet seed(Var<T> x, int offset, int n, int m) {
    Jet j = zero_derivatives(x, n, m);
    for (Index c = 0; c < x.cols(); ++c) {
      Var<T> e = x.tape().make(x.rows(), x.cols(), false);
      e.value().setZero();
      e.value().col(c).setOnes();
      j.first[offset + c] = e;
    }
    return j;
  }

  /// The derivative along k, or an explicit zero matrix when it vanishes identically.
  Var<T> first_or_zero(int k) const { return or_zero(k < directions ? first[k] : Var<T>()); }
  Var<T> second_or_zero(int k) const { return or_zero(k < second_directions ? second[k] : Var<T>()); }

 private:
  Var<T> or_zero(Var<T> v) const { return v.valid() ? v : zero_like(value); }
};

namespace detail {

/// a + b where either may be absent (zero).
template <class T>
Var<T> plus(Var<T> a, Var<T> b) {
  if (!a.valid()) return b;
  if (!b.valid()) return a;
  return add(a, b);
}

template <class T>
Var<T> derivative(const Jet<T>& j, int k, bool second) {
  if (second) return k < j.second_directions ? j.second[k] : Var<T>();
  return k < j.directions ? j.first[k] : Var<T>();
}

/// y with every derivative of `x` mapped by `f` (absent ones stay absent): a map linear in x.
template <class T, class F>
Jet<T> linear_map(const Jet<T>& x, Var<T> y, F&& f) {
  Jet<T> j = Jet<T>::zero_derivatives(y, x.directions, x.second_directions);
  for (int k = 0; k < x.directions; ++k)
    if (x.first[k].valid()) j.first[k] = f(x.first[k]);
  for (int k = 0; k < x.second_directions; ++k)
    if (x.second[k].valid()) j.second[k] = f(x.second[k]);
  return j;
}

/// y = f(a) elementwise from f' and f'' evaluated at a (each built only when some derivative
/// needs it): ẏ = f'⊙ȧ, ÿ = f''⊙ȧ² + f'⊙ä.
template <class T, class D1, class D2>
Jet<T> chain(const Jet<T>& a, Var<T> y, D1&& d1, D2&& d2) {
  Jet<T> j = Jet<T>::zero_derivatives(y, a.directions, a.second_directions);
  Var<T> f1, f2;
  auto times_f1 = [&](Var<T> d) {
    if (!f1.valid()) f1 = d1();
    return mul(f1, d);
  };
  for (int k = 0; k < a.directions; ++k) {
    const Var<T> da = a.first[k], dda = k < a.second_directions ? a.second[k] : Var<T>();
    if (da.valid()) j.first[k] = times_f1(da);
    if (k >= a.second_directions) continue;
    if (da.valid() && !f2.valid()) f2 = d2();
    j.second[k] = plus(da.valid() ? mul(f2, square(da)) : Var<T>(), dda.valid() ? times_f1(dda) : Var<T>());
  }
  return j;
}

/// A jet with the directions of both operands, value y, derivatives from `rule(k, second)`.
template <class T, class Rule>
Jet<T> combine(const Jet<T>& a, const Jet<T>& b, Var<T> y, Rule&& rule) {
  Jet<T> j = Jet<T>::zero_derivatives(y, std::max(a.directions, b.directions),
                                      std::max(a.second_directions, b.second_directions));
  for (int k = 0; k < j.directions; ++k) j.first[k] = rule(k, false);
  for (int k = 0; k < j.second_directions; ++k) j.second[k] = rule(k, true);
  return j;
}

}  // namespace detail

/// A jet with no derivatives (a value independent of every direction).
template <class T>
Jet<T> constant_jet(Var<T> v) { return Jet<T>{v}; }

/// add(a, b) of jets: derivatives add (broadcasting as add).
template <class T>
Jet<T> add(const Jet<T>& a, const Jet<T>& b) {
  return detail::combine(a, b, add(a.value, b.value), [&](int k, bool second) {
    return detail::plus(detail::derivative(a, k, second), detail::derivative(b, k, second));
  });
}

/// add(a, c) with c independent of the directions (a bias): derivatives are a's.
template <class T>
Jet<T> add(const Jet<T>& a, Var<T> c) {
  return detail::linear_map(a, add(a.value, c), [](Var<T> d) { return d; });
}

/// mul(a, b) of jets (broadcasting as mul): ẏ = ȧb + aḃ, ÿ = äb + 2ȧḃ + ab̈.
template <class T>
Jet<T> mul(const Jet<T>& a, const Jet<T>& b) {
  return detail::combine(a, b, mul(a.value, b.value), [&](int k, bool second) {
    const Var<T> da = detail::derivative(a, k, false), db = detail::derivative(b, k, false);
    const Var<T> ea = detail::derivative(a, k, second), eb = detail::derivative(b, k, second);
    Var<T> d = detail::plus(ea.valid() ? mul(ea, b.value) : Var<T>(), eb.valid() ? mul(a.value, eb) : Var<T>());
    if (second && da.valid() && db.valid()) d = detail::plus(d, scale(mul(da, db), T(2)));
    return d;
  });
}

/// scale(a, c) of a jet.
template <class T>
Jet<T> scale(const Jet<T>& a, T c) {
  return detail::linear_map(a, scale(a.value, c), [c](Var<T> d) { return scale(d, c); });
}

/// matmul(a, w) with w independent of the directions (a weight): every derivative times w.
template <class T>
Jet<T> matmul(const Jet<T>& a, Var<T> w) {
  return detail::linear_map(a, matmul(a.value, w), [w](Var<T> d) { return matmul(d, w); });
}

/// affine(a, w, b) with w, b independent of the directions: derivatives are matmul(ȧ, w).
template <class T>
Jet<T> affine(const Jet<T>& a, Var<T> w, Var<T> b) {
  return detail::linear_map(a, affine(a.value, w, b), [w](Var<T> d) { return matmul(d, w); });
}

template <class T>
Jet<T> slice_cols(const Jet<T>& a, Index start, Index count) {
  return detail::linear_map(a, slice_cols(a.value, start, count),
                            [start, count](Var<T> d) { return slice_cols(d, start, count); });
}

template <class T>
Jet<T> expand_rows(const Jet<T>& a, RowGroups groups) {
  return detail::linear_map(a, expand_rows(a.value, groups), [groups](Var<T> d) { return expand_rows(d, groups); });
}

/// concat_cols of jets: each derivative is the concatenation of the parts' (zero blocks where a
/// part's vanishes; absent where all do).
template <class T>
Jet<T> concat_cols(std::initializer_list<Jet<T>> parts) {
  const Jet<T>& first = *parts.begin();
  int n = 0, m = 0;
  for (const Jet<T>& p : parts) {
    n = std::max(n, p.directions);
    m = std::max(m, p.second_directions);
  }
  auto concat = [&](auto&& part_of) {
    bool any = false;
    for (const Jet<T>& p : parts) any = any || part_of(p).valid();
    if (!any) return Var<T>();
    Var<T>* blocks = first.tape().arena().template allocate_array<Var<T>>(parts.size());
    std::size_t i = 0;
    for (const Jet<T>& p : parts) blocks[i++] = part_of(p).valid() ? part_of(p) : zero_like(p.value);
    return concat_cols(std::span<const Var<T>>(blocks, parts.size()));
  };
  Jet<T> j = Jet<T>::zero_derivatives(concat([](const Jet<T>& p) { return p.value; }), n, m);
  for (int k = 0; k < n; ++k) j.first[k] = concat([k](const Jet<T>& p) { return detail::derivative(p, k, false); });
  for (int k = 0; k < m; ++k) j.second[k] = concat([k](const Jet<T>& p) { return detail::derivative(p, k, true); });
  return j;
}

template <class T>
Jet<T> sin(const Jet<T>& a) {
  return detail::chain(a, sin(a.value), [&] { return cos(a.value); }, [&] { return sin_second(a.value); });
}

template <class T>
Jet<T> cos(const Jet<T>& a) {
  return detail::chain(a, cos(a.value), [&] { return scale(sin(a.value), T(-1)); }, [&] { return scale(cos(a.value), T(-1)); });
}

/// act(a) of a jet, through activate_prime and activate_second; identity records nothing.
template <class T>
Jet<T> activate(const Jet<T>& a, Activation act) {
  if (act == Activation::identity) return a;
  return detail::chain(a, activate(a.value, act), [&] { return activate_prime(a.value, act); },
                       [&] { return activate_second(a.value, act); });
}

/// hyper_affine of a jet x through generated weights P that are a jet too (P depends on p):
/// y = s·x·W + c,  ẏ = s·ẋ·W + (s·x·Ẇ + ċ),  ÿ = s·ẍ·W + 2s·ẋ·Ẇ + (s·x·Ẅ + c̈), each term one
/// hyper_affine (the ẋ terms through the slice without its bias).
template <class T>
Jet<T> hyper_affine(const Jet<T>& x, const Jet<T>& p, HyperSlice slice, RowGroups groups = {}) {
  HyperSlice unbiased = slice;
  unbiased.bias_offset = -1;
  return detail::combine(x, p, hyper_affine(x.value, p.value, slice, groups), [&](int k, bool second) {
    const Var<T> dx = detail::derivative(x, k, second), dp = detail::derivative(p, k, second);
    Var<T> d = detail::plus(dx.valid() ? hyper_affine(dx, p.value, unbiased, groups) : Var<T>(),
                            dp.valid() ? hyper_affine(x.value, dp, slice, groups) : Var<T>());
    const Var<T> dx1 = detail::derivative(x, k, false), dp1 = detail::derivative(p, k, false);
    if (second && dx1.valid() && dp1.valid()) d = detail::plus(d, scale(hyper_affine(dx1, dp1, unbiased, groups), T(2)));
    return d;
  });
}

}  // namespace ad
