#pragma once
// Column slicing and concatenation.

#include <initializer_list>

#include "autodiff/tape.hpp"

namespace ad {

/// slice_cols(a, start, count): Y = A[:, start : start+count].  Shapes: A m x n, Y m x count.
/// VJP: dA[:, start : start+count] += dY.
template <class T>
Var<T> slice_cols(Var<T> a, Index start, Index count) {
  if (start < 0 || count < 0 || start + count > a.cols())
    throw std::invalid_argument("ad::slice_cols: columns [" + std::to_string(start) + ", " +
                                std::to_string(start + count) + ") outside 0.." + std::to_string(a.cols()));
  Var<T> y = a.tape().make(a.rows(), count, a.requires_grad());
  y.value() = a.value().middleCols(start, count);
  return a.tape().record(y, [a, y, start, count] { a.grad().middleCols(start, count) += y.grad(); });
}

/// concat_cols({a1, ..., ak}): Y = [A1 A2 ... Ak].  Shapes: each Ai m x ni, Y m x Σni.
/// VJP: dAi += the matching column block of dY.
template <class T>
Var<T> concat_cols(std::initializer_list<Var<T>> parts) {
  if (parts.size() == 0) throw std::invalid_argument("ad::concat_cols: nothing to concatenate");
  const Var<T> first = *parts.begin();
  Tape<T>& tape = first.tape();
  Index cols = 0;
  bool rg = false;
  for (Var<T> p : parts) {
    check_same_tape("concat_cols", first, p);
    if (p.rows() != first.rows()) shape_error("concat_cols", first.rows(), first.cols(), p.rows(), p.cols());
    cols += p.cols();
    rg = rg || p.requires_grad();
  }
  // The closure refers to its inputs through a copy of the list kept in the arena.
  const auto count = parts.size();
  Var<T>* saved = tape.arena().template allocate_array<Var<T>>(count);
  std::copy(parts.begin(), parts.end(), saved);
  Var<T> y = tape.make(first.rows(), cols, rg);
  Index at = 0;
  for (Var<T> p : parts) {
    y.value().middleCols(at, p.cols()) = p.value();
    at += p.cols();
  }
  return tape.record(y, [saved, count, y] {
    Index at = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (saved[i].requires_grad()) saved[i].grad() += y.grad().middleCols(at, saved[i].cols());
      at += saved[i].cols();
    }
  });
}

}  // namespace ad
