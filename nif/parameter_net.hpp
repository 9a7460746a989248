#pragma once
// The ParameterNet machinery shared by every hypernetwork: its layer stack, the initialiser
// families of the seed implementations, the layout-aware (SIREN-aware) output layer, and the
// HyperModel base of the variants whose p → z → w is that stack.

#include <array>
#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "nif/layout.hpp"
#include "nif/model.hpp"
#include "nn/layers.hpp"

namespace nif {

/// Initialisers of each ParameterNet layer (kernel, bias).
struct ParameterNetInit {
  nn::Initializer first_weight, first_bias;
  nn::Initializer hidden_weight, hidden_bias;
  nn::Initializer bottleneck_weight, bottleneck_bias;
  nn::Initializer output_weight, output_bias;

  /// Keras TruncatedNormal(0.1) everywhere (upstream and functional).
  static ParameterNetInit keras() {
    const auto tn = nn::Initializer::keras_truncated_normal(0.1);
    return {tn, tn, tn, tn, tn, tn, tn, tn};
  }
  /// The PyTorch port: trunc_normal_(0.1) (absolute cut ±2) except the Shortcut blocks, which keep
  /// nn.Linear's default U(±1/√fan_in).
  static ParameterNetInit torch() {
    const auto tn = nn::Initializer::torch_trunc_normal(0.1);
    const auto linear = nn::Initializer::torch_linear_default();
    return {tn, tn, linear, linear, tn, tn, tn, tn};
  }
};

/// The last ParameterNet layer z → w, initialised from the variant's generated layout
/// (upstream's HyperLinearForSIREN, generalised to any layout): the weight W ~ U(±f·√(6/r))
/// (f = weight_init_factor) times each tensor's latent_scale is a small z-dependent perturbation,
/// and the bias b, which the ShapeNet sees at z ≈ 0, is drawn per tensor from U(±init_bound). With
/// a SIREN ShapeNet's layout the generated network starts as a standard SIREN.
template <class T>
class HyperOutput : public nn::Dense<T> {
 public:
  HyperOutput(Index latent, GeneratedLayout layout, double weight_init_factor)
      : nn::Dense<T>({.in = latent, .out = layout.size()}), layout_(std::move(layout)), factor_(weight_init_factor) {}
  std::string type_name() const override { return "HyperOutput"; }

 protected:
  void reset_parameters(nn::Rng& rng) override {
    nn::init::uniform(this->weight(), -1.0, 1.0, rng);
    for (const GeneratedTensor& t : layout_.tensors())
      if (t.latent_scale != 1) this->weight().middleCols(t.offset, t.size()) *= T(t.latent_scale);
    this->weight() *= T(factor_ * std::sqrt(6.0 / double(this->options().in)));
    for (const GeneratedTensor& t : layout_.tensors())
      nn::init::uniform(ad::MatrixMap<T>(this->bias().data() + t.offset, 1, t.size()), -t.init_bound, t.init_bound, rng);
  }

 private:
  GeneratedLayout layout_;
  double factor_;
};

/// The ParameterNet stack p → z → w as separately callable pieces (names differ by architecture).
template <class T>
struct ParameterNetLayers {
  std::shared_ptr<nn::Dense<T>> first;
  std::vector<std::shared_ptr<nn::UnaryModule<T>>> hidden;
  std::shared_ptr<nn::Dense<T>> bottleneck;
  std::shared_ptr<nn::Dense<T>> output;

  template <class V>
  V latent(const V& p) const {
    V h = (*first)(p);
    for (const auto& block : hidden) h = (*block)(h);
    return (*bottleneck)(h);
  }
};

/// Names of the ParameterNet layers (`hidden` maps a block index to its name).
struct ParameterNetNames {
  std::string first;
  std::function<std::string(Index)> hidden;
  std::string bottleneck, output;

  /// parameter_net.first, parameter_net.hidden<k>, parameter_net.bottleneck, parameter_net.output
  /// (the corrected architectures' names).
  static ParameterNetNames standard() {
    return {"parameter_net.first", [](Index k) { return "parameter_net.hidden" + std::to_string(k); },
            "parameter_net.bottleneck", "parameter_net.output"};
  }
};

/// Builds Dense(P → m, act) → L × Shortcut (or ResNet) → Dense(m → r, bottleneck_activation) →
/// output (r → the layout's width, linear; initialised from the layout (HyperOutput) when
/// `layout_aware_output`, else by `init`); `add(name, layer)` registers each layer with the owning
/// model.
template <class T>
ParameterNetLayers<T> build_parameter_net(const ExperimentConfig& cfg,
                                          const GeneratedLayout& layout, const ParameterNetInit& init,
                                          Activation bottleneck_activation, bool layout_aware_output,
                                          const ParameterNetNames& names,
                                          const std::function<void(std::string, std::shared_ptr<nn::Module<T>>)>& add) {
  const ParameterNetConfig& p = cfg.parameter_net;
  ParameterNetLayers<T> net;
  net.first = std::make_shared<nn::Dense<T>>(nn::DenseOptions{.in = p.input_dim, .out = p.units, .activation = p.activation,
                                                              .weight_init = init.first_weight, .bias_init = init.first_bias});
  add(names.first, net.first);
  const nn::ShortcutOptions block{.width = p.units, .activation = p.activation, .weight_init = init.hidden_weight,
                                  .bias_init = init.hidden_bias};
  for (Index k = 0; k < p.nlayers; ++k) {
    std::shared_ptr<nn::UnaryModule<T>> b;
    if (p.use_resblock)
      b = std::make_shared<nn::ResNetBlock<T>>(block);
    else
      b = std::make_shared<nn::Shortcut<T>>(block);
    add(names.hidden(k), b);
    net.hidden.push_back(b);
  }
  net.bottleneck = std::make_shared<nn::Dense<T>>(nn::DenseOptions{.in = p.units, .out = p.latent_dim,
                                                                   .activation = bottleneck_activation,
                                                                   .weight_init = init.bottleneck_weight,
                                                                   .bias_init = init.bottleneck_bias});
  add(names.bottleneck, net.bottleneck);
  if (layout_aware_output)
    net.output = std::make_shared<HyperOutput<T>>(p.latent_dim, layout, cfg.shape_net.weight_init_factor);
  else
    net.output = std::make_shared<nn::Dense<T>>(nn::DenseOptions{.in = p.latent_dim, .out = layout.size(),
                                                                 .weight_init = init.output_weight,
                                                                 .bias_init = init.output_bias});
  add(names.output, net.output);
  return net;
}

/// A HyperModel whose p → z → w is a ParameterNet of build_parameter_net: a variant derives from
/// it, calls build_parameter_net in its constructor (where the layers' registration order is its
/// own) and supplies only its ShapeNet (shape_net, for values and jets).
template <class T>
class ParameterNetModel : public HyperModel<T> {
 public:
  using HyperModel<T>::HyperModel;

  Var<T> latent(Var<T> p) override { return pnet_.latent(p); }
  Jet<T> latent(const Jet<T>& p) override { return pnet_.latent(p); }
  Var<T> shape_parameters_from_latent(Var<T> z) override { return (*pnet_.output)(z); }
  Jet<T> shape_parameters_from_latent(const Jet<T>& z) override { return (*pnet_.output)(z); }

 protected:
  /// Builds the ParameterNet for this model's generated layout (nif::build_parameter_net) and
  /// registers its layers with the model.
  void build_parameter_net(const ExperimentConfig& cfg, const ParameterNetInit& init, Activation bottleneck_activation,
                           bool layout_aware_output, const ParameterNetNames& names) {
    pnet_ = nif::build_parameter_net<T>(cfg, this->generated(), init, bottleneck_activation, layout_aware_output, names,
                                        [this](std::string name, std::shared_ptr<nn::Module<T>> m) {
                                          this->register_module(std::move(name), m);
                                        });
  }

 private:
  ParameterNetLayers<T> pnet_;
};

}  // namespace nif
