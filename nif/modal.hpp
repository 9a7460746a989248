#pragma once
// Models of modal form, found through dynamic_cast (by `nif modes`) so that no shared interface
// grows for them.

#include "autodiff/autodiff.hpp"

namespace nif {

/// A model u_o = Σ_k a_{o,k}(p)·φ_{o,k}(x) + b_o(p) whose spatial modes φ do not depend on p.
template <class T>
class ModalModel {
 public:
  virtual ~ModalModel() = default;
  /// φ on the points x (B x D): B x (O·r), field o's r modes adjacent.
  virtual ad::Var<T> spatial_modes(ad::Var<T> x) = 0;
};

}  // namespace nif
