// Architecture "pytorch": the seed's PyTorch port (docs/seed-study.md §8).
//
// Style of its source: a module tree. The ParameterNet is an nn.Sequential-like stack named by
// position ("0", "2", ... as torch numbers Linear/SiLU/Shortcut entries) and the ShapeNet is a
// ShapeNetWrapper holding StaticDense / StaticSIREN modules that own no parameters and read theirs
// from the ParameterNet output. Semantics: trunc_normal_(0.1) with torch's absolute ±2 cut (in
// effect untruncated) except nn.Linear's default U(±1/√fan_in) in the Shortcut blocks, SiLU
// bottleneck, plain ShapeNet, float32, torch Adam, AdaBelief WITH gradient centralisation (which
// freezes the fan-in-1 weight matrices), epoch loss as the unweighted mean of batch losses. Defects
// shared with functional: aliased/missing last bias, no SIREN-aware output init.

#include "nif/model.hpp"
#include "nif/parameter_net.hpp"

namespace nif {
namespace {

/// A ShapeNet layer module: forward(x, w) with its weights taken from w.
template <class T>
class StaticLayer : public nn::Module<T> {
 public:
  explicit StaticLayer(ad::HyperSlice slice) : slice_(slice) {}
  virtual Var<T> forward(Var<T> x, Var<T> w, ad::RowGroups groups) = 0;
  virtual Jet<T> forward(const Jet<T>& x, const Jet<T>& w, ad::RowGroups groups) = 0;

 protected:
  ad::HyperSlice slice_;
};

/// y = act(x·W + b) (act = identity for the output layer).
template <class T>
class StaticDense final : public StaticLayer<T> {
 public:
  StaticDense(ad::HyperSlice slice, Activation act) : StaticLayer<T>(slice), act_(act) {}
  std::string type_name() const override { return "StaticDense"; }
  Var<T> forward(Var<T> x, Var<T> w, ad::RowGroups groups) override { return apply(x, w, groups); }
  Jet<T> forward(const Jet<T>& x, const Jet<T>& w, ad::RowGroups groups) override { return apply(x, w, groups); }

 private:
  template <class V>
  V apply(const V& x, const V& w, ad::RowGroups groups) const {
    return ad::activate(ad::hyper_affine(x, w, this->slice_, groups), act_);
  }

  Activation act_;
};

/// y = sin(ω0·(x·W) + b); the slice carries ω0 as its weight scale.
template <class T>
class StaticSiren final : public StaticLayer<T> {
 public:
  using StaticLayer<T>::StaticLayer;
  std::string type_name() const override { return "StaticSIREN"; }
  Var<T> forward(Var<T> x, Var<T> w, ad::RowGroups groups) override { return ad::sin(ad::hyper_affine(x, w, this->slice_, groups)); }
  Jet<T> forward(const Jet<T>& x, const Jet<T>& w, ad::RowGroups groups) override {
    return ad::sin(ad::hyper_affine(x, w, this->slice_, groups));
  }
};

/// The ShapeNet: its layers as registered children, applied in order.
template <class T>
class ShapeNetWrapper final : public nn::Module<T> {
 public:
  ShapeNetWrapper(const ShapeNetConfig& cfg, const Defects& defects) {
    if (cfg.use_resblock) throw std::invalid_argument("architecture pytorch has no SIREN res-blocks (use_resblock)");
    const ShapeNetLayout layout(cfg);
    const Index last = layout.layers() - 1;
    for (Index k = 0; k < last; ++k) {
      std::shared_ptr<StaticLayer<T>> layer;
      if (cfg.siren())
        layer = std::make_shared<StaticSiren<T>>(layout.slice(k, cfg.omega0));
      else
        layer = std::make_shared<StaticDense<T>>(layout.slice(k), cfg.activation);
      layers_.push_back(this->register_module(std::to_string(k), layer));
    }
    layers_.push_back(this->register_module(
        std::to_string(last), std::make_shared<StaticDense<T>>(seed_last_layer_slice(cfg, defects), Activation::identity)));
  }
  std::string type_name() const override { return "ShapeNetWrapper"; }
  template <class V>
  V forward(V x, const V& w, ad::RowGroups groups) {
    for (auto& layer : layers_) x = layer->forward(x, w, groups);
    return x;
  }

 private:
  std::vector<std::shared_ptr<StaticLayer<T>>> layers_;
};

template <class T>
class TorchNif final : public ParameterNetModel<T> {
 public:
  explicit TorchNif(const ExperimentConfig& cfg) : ParameterNetModel<T>(cfg, ShapeNetLayout(cfg.shape_net).generated()) {
    this->build_parameter_net(
        cfg, ParameterNetInit::torch(), Activation::swish, cfg.shape_net.siren() && !cfg.defects.plain_output_init,
        {"parameter_net.0", [](Index k) { return "parameter_net." + std::to_string(2 + k); }, "parameter_net.4", "parameter_net.6"});
    shape_net_ = this->register_module("shape_net", std::make_shared<ShapeNetWrapper<T>>(cfg.shape_net, cfg.defects));
  }
  std::string type_name() const override { return "NIF(torch)"; }

  Var<T> shape_net(Var<T> x, Var<T> w, ad::RowGroups groups) override { return shape_net_->forward(x, w, groups); }
  Jet<T> shape_net(const Jet<T>& x, const Jet<T>& w, ad::RowGroups groups) override {
    return shape_net_->forward(x, w, groups);
  }

 private:
  std::shared_ptr<ShapeNetWrapper<T>> shape_net_;
};

ExperimentConfig pytorch_defaults(std::string_view case_name) {
  ExperimentConfig c = seed_port_config(case_name);
  c.architecture = "pytorch";
  c.defects.centralize_fan_in_one = true;
  c.defects.unweighted_epoch_loss = true;
  c.optimizer.adam_flavour = AdamFlavour::pytorch;
  c.optimizer.gradient_centralization = true;
  return c;
}

const ArchitectureRegistrar<TorchNif> registrar(
    "pytorch", "faithful", "the seed's PyTorch port: module tree of StaticDense/StaticSIREN layers, float32, AdaBelief with GC",
    pytorch_defaults);

}  // namespace
}  // namespace nif
