#pragma once
// Upstream NIF's ShapeNet over a generated row, shared by the `upstream` port and the corrected
// `nif` architecture (semantics: docs/upstream-nif.md §2, §3).

#include "autodiff/autodiff.hpp"
#include "nif/layout.hpp"

namespace nif {

/// u = ShapeNet_w(x) with w laid out as ShapeNetLayout(shape): smooth hidden layers are residual,
/// s ← s + act(s·W + b) (the first is plain); SIREN layers are sin(ω0·(s·W) + b), in res-blocks
/// s ← ½(s + sin(ω0·(sin(ω0·(s·W₁) + b₁)·W₂) + b₂)) with shape.use_resblock (NIFMultiScale); the
/// last layer is linear. Shapes: x B x D, w B x N_w (or one row per run of `groups`), u B x O.
template <class T>
Var<T> upstream_shape_net(const ShapeNetConfig& shape, const ShapeNetLayout& map, Var<T> x, Var<T> w,
                          ad::RowGroups groups) {
  const Index last = map.layers() - 1;
  if (!shape.siren()) {
    Var<T> s = ad::activate(ad::hyper_affine(x, w, map.slice(0), groups), shape.activation);
    for (Index k = 1; k < last; ++k) s = ad::add(s, ad::activate(ad::hyper_affine(s, w, map.slice(k), groups), shape.activation));
    return ad::hyper_affine(s, w, map.slice(last), groups);
  }
  const double w0 = shape.omega0;
  Var<T> s = ad::sin(ad::hyper_affine(x, w, map.slice(0, w0), groups));
  if (shape.use_resblock) {
    for (Index k = 1; k < last; k += 2) {
      Var<T> h = ad::sin(ad::hyper_affine(s, w, map.slice(k, w0), groups));
      s = ad::scale(ad::add(s, ad::sin(ad::hyper_affine(h, w, map.slice(k + 1, w0), groups))), T(0.5));
    }
  } else {
    for (Index k = 1; k < last; ++k) s = ad::sin(ad::hyper_affine(s, w, map.slice(k, w0), groups));
  }
  return ad::hyper_affine(s, w, map.slice(last), groups);
}

}  // namespace nif
