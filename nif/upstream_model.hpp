#pragma once
// The model of upstream NIF (a ParameterNet with a linear bottleneck and the layout-aware output
// for a SIREN ShapeNet, and upstream's ShapeNet), which the `upstream` port and the corrected `nif`
// share; they differ in their parameter names, their defaults and their defects.

#include <string>

#include "nif/model.hpp"
#include "nif/parameter_net.hpp"
#include "nif/shape_net.hpp"

namespace nif {

template <class T>
class UpstreamHyperModel : public HyperModel<T> {
 public:
  UpstreamHyperModel(const ExperimentConfig& cfg, const ParameterNetNames& names, std::string type_name)
      : HyperModel<T>(cfg, ShapeNetLayout(cfg.shape_net).generated()),
        shape_(cfg.shape_net),
        map_(cfg.shape_net),
        type_name_(std::move(type_name)) {
    pnet_ = build_parameter_net<T>(
        cfg, this->generated(), ParameterNetInit::keras(), Activation::identity, shape_.siren(), names,
        [this](std::string name, std::shared_ptr<nn::Module<T>> m) { this->register_module(std::move(name), m); });
  }
  std::string type_name() const override { return type_name_; }

  Var<T> latent(Var<T> p) override { return pnet_.latent(p); }
  Jet<T> latent(const Jet<T>& p) override { return pnet_.latent(p); }
  Var<T> shape_parameters_from_latent(Var<T> z) override { return (*pnet_.output)(z); }
  Jet<T> shape_parameters_from_latent(const Jet<T>& z) override { return (*pnet_.output)(z); }
  Var<T> shape_net(Var<T> x, Var<T> w, ad::RowGroups groups) override {
    return upstream_shape_net(shape_, map_, x, w, groups);
  }
  Jet<T> shape_net(const Jet<T>& x, const Jet<T>& w, ad::RowGroups groups) override {
    return upstream_shape_net(shape_, map_, x, w, groups);
  }

 private:
  ShapeNetConfig shape_;
  ShapeNetLayout map_;
  std::string type_name_;
  ParameterNetLayers<T> pnet_;
};

}  // namespace nif
