#pragma once
// Upstream NIF's ShapeNet (semantics: docs/upstream-nif.md §2, §3): its layer structure over any
// affine map, over a fully generated row (the `upstream` port and `nif`), and with shared weights
// trained directly (for variants that generate only part of each layer).

#include <string>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "nif/layout.hpp"
#include "nn/module.hpp"

namespace nif {

/// The layer structure of upstream NIF's ShapeNet over any affine map: `pre(k, s)` is layer k's
/// pre-activation on s (for SIREN layers with ω0 already applied to the product, never to the
/// bias). Smooth hidden layers are residual, s ← s + act(pre(k, s)) (the first is plain); SIREN
/// layers are sin(pre(k, s)), in res-blocks s ← ½(s + sin(pre(k+1, sin(pre(k, s))))) with
/// shape.use_resblock (NIFMultiScale); the last layer is linear. `layers` counts every affine
/// map (ShapeNetLayout::layers()). Shapes: x B x D, result B x O. V is Var<T> or Jet<T>.
template <class V, class PreActivation>
V shape_net_stack(const ShapeNetConfig& shape, Index layers, V x, PreActivation&& pre) {
  const Index last = layers - 1;
  V s = ad::activate(pre(Index{0}, x), shape.activation);
  if (!shape.siren()) {
    for (Index k = 1; k < last; ++k) s = ad::add(s, ad::activate(pre(k, s), shape.activation));
  } else if (shape.use_resblock) {
    for (Index k = 1; k < last; k += 2) {
      V h = ad::sin(pre(k, s));
      s = ad::scale(ad::add(s, ad::sin(pre(k + 1, h))), typename V::Scalar(0.5));
    }
  } else {
    for (Index k = 1; k < last; ++k) s = ad::sin(pre(k, s));
  }
  return pre(last, s);
}

/// The ω0 that multiplies layer k's product x·W in a ShapeNet of `layers` affine maps: ω0 for
/// every SIREN layer but the last, 1 otherwise.
inline double shape_weight_scale(const ShapeNetConfig& shape, Index k, Index layers) {
  return shape.siren() && k < layers - 1 ? shape.omega0 : 1.0;
}

/// u = ShapeNet_w(x) (shape_net_stack) with every layer generated: w laid out as
/// ShapeNetLayout(shape). Shapes: x B x D, w B x N_w (or one row per run of `groups`), u B x O.
template <class V>
V upstream_shape_net(const ShapeNetConfig& shape, const ShapeNetLayout& map, const V& x, const V& w, ad::RowGroups groups) {
  return shape_net_stack(shape, map.layers(), x, [&](Index k, const V& s) {
    return ad::hyper_affine(s, w, map.slice(k, shape_weight_scale(shape, k, map.layers())), groups);
  });
}

/// A ShapeNet's weights trained directly rather than generated: W_k [in_k, out_k] for the layers of
/// ShapeNetLayout(shape) (the last one `last_width` wide), and biases b_k if `biases`. A sine
/// ShapeNet gets SIREN's init (first layer U(±1/in), hidden U(±√(6/in)/ω0), biases U(±1/√in)),
/// a smooth one Glorot's with zero biases; the last layer is Glorot in both.
template <class T>
class SharedShapeNet : public nn::Module<T> {
 public:
  SharedShapeNet(const ShapeNetConfig& shape, bool biases, Index last_width) : shape_(shape) {
    const ShapeNetLayout dims(shape);
    const Index last = dims.layers() - 1;
    for (Index k = 0; k <= last; ++k) {
      const Index in = dims.in(k), out = k == last ? last_width : dims.out(k);
      const bool sine = shape.siren() && k < last;
      const std::string name = "layer" + std::to_string(k);
      const nn::Initializer init = !sine  ? nn::Initializer::glorot_uniform()
                                   : k == 0 ? nn::Initializer::siren_first_layer()
                                            : nn::Initializer::siren_hidden_layer(shape.omega0);
      weights_.push_back(this->register_weight(name + ".weight", in, out, init));
      if (biases)
        biases_.push_back(this->register_bias(name + ".bias", out, in, sine ? nn::Initializer::torch_linear_default()
                                                                          : nn::Initializer::zeros()));
    }
  }
  std::string type_name() const override { return "SharedShapeNet"; }

  Index layers() const { return Index(weights_.size()); }
  /// Layer k's shared pre-activation: s_k·(s·W_k) (+ b_k), s_k from shape_weight_scale.
  template <class V>
  V linear(Index k, const V& s) const {
    V y = ad::matmul(s, this->param(s.tape(), weights_[std::size_t(k)]));
    const double scale = shape_weight_scale(shape_, k, layers());
    if (scale != 1) y = ad::scale(y, T(scale));
    return biases_.empty() ? y : ad::add(y, this->param(s.tape(), biases_[std::size_t(k)]));
  }
  /// The whole shared network (shape_net_stack over `linear`).
  template <class V>
  V operator()(const V& x) const {
    return shape_net_stack(shape_, layers(), x, [this](Index k, const V& s) { return linear(k, s); });
  }

 private:
  ShapeNetConfig shape_;
  std::vector<Index> weights_, biases_;
};

}  // namespace nif
