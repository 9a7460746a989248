// Architecture "nif": the corrected canonical NIF. Upstream NIF's semantics (linear bottleneck,
// residual smooth ShapeNet or SIREN ShapeNet, with --resblock upstream's multi-scale ResNet-SIREN,
// NIFMultiScale) with every seed defect fixed: float32 compute, the correct last bias, the
// layout-aware (SIREN-aware) output initialisation, and gradient centralisation applied when
// AdaBelief asks for it. The default architecture for a user's data, where its ShapeNet is a
// SIREN and its schedule follows --epochs and --lr.

#include "nif/defaults.hpp"
#include "nif/model.hpp"
#include "nif/parameter_net.hpp"
#include "nif/shape_net.hpp"

namespace nif {
namespace {

template <class T>
class CanonicalNif final : public HyperModel<T> {
 public:
  explicit CanonicalNif(const ExperimentConfig& cfg)
      : HyperModel<T>(cfg, ShapeNetLayout(cfg.shape_net).generated()), shape_(cfg.shape_net), map_(cfg.shape_net) {
    pnet_ = build_parameter_net<T>(
        cfg, this->generated(), ParameterNetInit::keras(), Activation::identity, shape_.siren(),
        ParameterNetNames::standard(),
        [this](std::string name, std::shared_ptr<nn::Module<T>> m) { this->register_module(std::move(name), m); });
  }
  std::string type_name() const override { return "NIF(corrected)"; }

  Var<T> latent(Var<T> p) override { return pnet_.latent(p); }
  Var<T> shape_parameters_from_latent(Var<T> z) override { return (*pnet_.output)(z); }
  Var<T> shape_net(Var<T> x, Var<T> w, ad::RowGroups groups) override {
    return upstream_shape_net(shape_, map_, x, w, groups);
  }

 private:
  ShapeNetConfig shape_;
  ShapeNetLayout map_;
  ParameterNetLayers<T> pnet_;
};

ExperimentConfig nif_defaults(std::string_view case_name) { return corrected_case_config(case_name, "nif"); }

const ArchitectureRegistrar<CanonicalNif> registrar(
    "nif", "hypernetwork", "corrected NIF: upstream's semantics, seed defects fixed, float32; SIREN-aware init; --resblock for NIFMultiScale",
    nif_defaults);

}  // namespace
}  // namespace nif
