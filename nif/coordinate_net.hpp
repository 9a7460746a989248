#pragma once
// What the baselines without a hypernetwork share: one network on the joint input v = (p, x),
// sized by the ShapeNet settings (for a baseline the "shape" flags size its one network).

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "nif/model.hpp"
#include "nn/layers.hpp"

namespace nif {

/// A field model u = net(v) of v = [p, x]: no hypernetwork, nothing generated per sample.
template <class T>
class CoordinateModel : public Model<T> {
 public:
  explicit CoordinateModel(const ExperimentConfig& cfg) : Model<T>(cfg) {
    if (cfg.shape_net.use_resblock)
      throw std::invalid_argument("--resblock does not apply to architecture " + cfg.architecture);
  }

  /// u for the joint inputs v, B x (P + D) → B x O.
  virtual Var<T> forward_joint(Var<T> v) = 0;
  virtual Jet<T> forward_joint(const Jet<T>& v) = 0;

  /// p is expanded to one row per sample (ad::expand_rows), so grouped evaluation is the
  /// per-sample one; the network then sees [p, x].
  Var<T> forward(Var<T> p, Var<T> x, ad::RowGroups groups = {}) final {
    return forward_joint(ad::concat_cols({ad::expand_rows(p, groups), x}));
  }
  Jet<T> forward(const Jet<T>& p, const Jet<T>& x, ad::RowGroups groups = {}) final {
    return forward_joint(ad::concat_cols({ad::expand_rows(p, groups), x}));
  }
  const GeneratedLayout& generated() const final {
    static const GeneratedLayout none;
    return none;
  }

  /// Width of v.
  Index joint_width() const { return this->config().parameter_net.input_dim + this->config().shape_net.input_dim; }
};

/// The weight init a dense layer with `act` wants: He uniform U(±√(6/fan_in)) for the
/// ReLU-like activations (relu, swish), whose outputs keep about half the input's variance;
/// Glorot uniform otherwise (tanh, sigmoid, identity, sin).
inline nn::Initializer dense_init(Activation act, Index fan_in) {
  if (act == Activation::relu || act == Activation::swish) {
    const double bound = std::sqrt(6.0 / double(fan_in));
    return nn::Initializer::uniform(-bound, bound);
  }
  return nn::Initializer::glorot_uniform();
}

/// The dense stack in → n → (L × n → n) → O of `shape`'s width n, depth L (hidden layers) and
/// activation (on every layer but the linear last), initialised by dense_init, biases zero.
/// Layers "first", "hidden<k>", "last". Trainable count: (in+1)·n + L·(n+1)·n + (n+1)·O.
template <class T>
std::shared_ptr<nn::Sequential<T>> dense_stack(Index in, const ShapeNetConfig& shape) {
  auto net = std::make_shared<nn::Sequential<T>>();
  auto dense = [&](Index from, Index to, Activation act) {
    return std::make_shared<nn::Dense<T>>(
        nn::DenseOptions{.in = from, .out = to, .activation = act, .weight_init = dense_init(act, from)});
  };
  net->add("first", dense(in, shape.units, shape.activation));
  for (Index k = 0; k < shape.nlayers; ++k)
    net->add("hidden" + std::to_string(k), dense(shape.units, shape.units, shape.activation));
  net->add("last", dense(shape.units, shape.output_dim, Activation::identity));
  return net;
}

/// A baseline's configuration for a case: the seed's width and depth (30 units, 2 hidden layers)
/// on the seed cases, so its row compares with the NIF rows at a similar parameter count, with
/// `activation`, torch's Adam and the seed's schedule; on a user's data ("custom") a schedule
/// that follows --epochs and --lr (warm-up + cosine from 1e-3).
inline ExperimentConfig coordinate_defaults(std::string_view case_name, std::string architecture, Activation activation) {
  ExperimentConfig c = seed_case_config(case_name);
  c.architecture = std::move(architecture);
  c.shape_net.activation = activation;
  c.optimizer.adam_flavour = AdamFlavour::pytorch;
  if (case_name == "custom") {
    c.train.schedule = "warmup-cosine";
    c.train.base_lr = 1e-3;
  }
  return c;
}

}  // namespace nif
