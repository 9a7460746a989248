#pragma once
// Derivatives of a model's output with respect to its inputs, as tape values: ∂u/∂x_k, ∂²u/∂x_k²
// and ∂u/∂p_j by forward-mode jets (autodiff/jet.hpp) carried through the model's one forward,
// so a loss on them backpropagates to every parameter. They are taken with respect to the
// model's normalised inputs and outputs; to_physical maps them to the data's units.

#include <vector>

#include "nif/data.hpp"
#include "nif/model.hpp"

namespace nif {

/// Which derivatives to carry beyond ∂u/∂x (each costs about one more forward per column).
struct DerivativeRequest {
  bool second_x = true;    ///< ∂²u/∂x_k²
  bool parameters = true;  ///< ∂u/∂p_j
};

/// u and its input derivatives, each B x O: the jet of u with directions x_0 … x_{D−1} (second
/// derivatives tracked) then p_0 … p_{P−1}.
template <class T>
struct InputDerivatives {
  Jet<T> u;
  Index coords = 0;  ///< D
  Index params = 0;  ///< P when requested, else 0

  Var<T> value() const { return u.value; }
  Var<T> du_dx(Index k) const { return u.first_or_zero(int(k)); }
  /// Zero when the request left second derivatives out.
  Var<T> d2u_dx2(Index k) const { return u.second_or_zero(int(k)); }
  /// Zero when the request left parameter derivatives out.
  Var<T> du_dp(Index j) const { return u.first_or_zero(int(coords + j)); }
};

/// The model's u at (p, x) with its input derivatives; p one row per sample or per run of
/// `groups`, as Model::forward.
template <class T>
InputDerivatives<T> input_derivatives(Model<T>& model, Var<T> p, Var<T> x, ad::RowGroups groups = {},
                                      DerivativeRequest request = {}) {
  const int D = int(x.cols()), P = request.parameters ? int(p.cols()) : 0;
  const int n = D + P, m = request.second_x ? D : 0;
  const Jet<T> xs = Jet<T>::seed(x, 0, n, m);
  const Jet<T> ps = request.parameters ? Jet<T>::seed(p, D, n, m) : Jet<T>::zero_derivatives(p, n, m);
  return {model.forward(ps, xs, groups), D, P};
}

/// The latent z(p) with its Jacobian: first derivative j is ∂z/∂p_j (B x r).
template <class T>
Jet<T> latent_jacobian(HyperModel<T>& model, Var<T> p) {
  return model.latent(Jet<T>::seed(p, 0, int(p.cols()), 0));
}

/// Column c's scale of a scaling, 1 where the scaling has no columns (no normalisation).
float column_scale(const ColumnScaling& s, Index c);

/// Input derivatives evaluated as matrices (N x O each) and, after to_physical, in physical units.
struct DerivativeValues {
  std::vector<ad::Matrix<float>> du_dx, d2u_dx2, du_dp;

  /// From normalised to physical units with the affine maps v̂ = (v − mean)/scale of `n`:
  /// ∂u/∂x_k·s_u/s_k, ∂²u/∂x_k²·s_u/s_k², ∂u/∂p_j·s_u/s_j (per output column u).
  void to_physical(const Normalizer& n);
};

}  // namespace nif
