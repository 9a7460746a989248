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
class UpstreamHyperModel : public ParameterNetModel<T> {
 public:
  UpstreamHyperModel(const ExperimentConfig& cfg, const ParameterNetNames& names, std::string type_name)
      : ParameterNetModel<T>(cfg, ShapeNetLayout(cfg.shape_net).generated()),
        shape_(cfg.shape_net),
        map_(cfg.shape_net),
        type_name_(std::move(type_name)) {
    this->build_parameter_net(cfg, ParameterNetInit::keras(), Activation::identity, shape_.siren(), names);
  }
  std::string type_name() const override { return type_name_; }

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
};

}  // namespace nif
