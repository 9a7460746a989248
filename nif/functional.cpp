// Architecture "functional": the seed's TensorFlow redesign (docs/seed-study.md §7).
//
// Style of its source: the ShapeNet is a list of hyper layers generated from the config, each of
// which slices its own weights and bias out of the FULL ParameterNet output. Semantics: Keras
// TruncatedNormal(0.1) everywhere, SWISH bottleneck, plain (non-residual) ShapeNet, float16 compute,
// Keras Adam, AdaBelief without gradient centralisation. Its defects, each switchable:
// the last layer reads its bias at p[N_W + L·n] (aliasing bh_{L-1}[0]) in the smooth case and adds
// no bias at all in the SIREN case, and the SIREN case lacks the SIREN-aware output init.

#include "nif/model.hpp"
#include "nif/parameter_net.hpp"

namespace nif {
namespace {

/// One generated ShapeNet layer: act(s·ω·W_b + c_b) with W_b, c_b sliced from the full output.
struct HyperLayer {
  ad::HyperSlice slice;
  Activation activation;

  template <class V>
  V operator()(const V& s, const V& parameters, ad::RowGroups groups) const {
    return ad::activate(ad::hyper_affine(s, parameters, slice, groups), activation);
  }
};

/// The layer list of a ShapeNet config: HyperDense layers (act(s·W + b)) or HyperSIREN layers
/// (sin(ω0·(s·W) + b)), then a linear last layer whose bias follows the defects.
std::vector<HyperLayer> generate_shape_layers(const ShapeNetConfig& cfg, const Defects& defects) {
  if (cfg.use_resblock) throw std::invalid_argument("architecture functional has no SIREN res-blocks (use_resblock)");
  const ShapeNetLayout layout(cfg);
  const Index last = layout.layers() - 1;
  std::vector<HyperLayer> layers;
  for (Index k = 0; k < last; ++k)
    layers.push_back({layout.slice(k, cfg.siren() ? cfg.omega0 : 1.0), cfg.activation});
  layers.push_back({seed_last_layer_slice(cfg, defects), Activation::identity});
  return layers;
}

template <class T>
class FunctionalNif final : public ParameterNetModel<T> {
 public:
  explicit FunctionalNif(const ExperimentConfig& cfg)
      : ParameterNetModel<T>(cfg, ShapeNetLayout(cfg.shape_net).generated()),
        shape_layers_(generate_shape_layers(cfg.shape_net, cfg.defects)) {
    this->build_parameter_net(
        cfg, ParameterNetInit::keras(), Activation::swish, cfg.shape_net.siren() && !cfg.defects.plain_output_init,
        {"first_pnet", [](Index k) { return "hidden_pnet_" + std::to_string(k); }, "bottleneck_pnet", "last_pnet"});
  }
  std::string type_name() const override { return "NIF(functional)"; }

  Var<T> shape_net(Var<T> x, Var<T> w, ad::RowGroups groups) override { return apply(x, w, groups); }
  Jet<T> shape_net(const Jet<T>& x, const Jet<T>& w, ad::RowGroups groups) override { return apply(x, w, groups); }

 private:
  template <class V>
  V apply(V x, const V& w, ad::RowGroups groups) const {
    for (const HyperLayer& layer : shape_layers_) x = layer(x, w, groups);
    return x;
  }

  std::vector<HyperLayer> shape_layers_;
};

ExperimentConfig functional_defaults(std::string_view case_name) {
  ExperimentConfig c = seed_port_config(case_name);
  c.architecture = "functional";
  c.defects.half_precision = true;
  c.defects.dead_centralization = true;
  c.optimizer.adam_flavour = AdamFlavour::keras;
  c.optimizer.gradient_centralization = true;
  return c;
}

const ArchitectureRegistrar<FunctionalNif> registrar(
    "functional", "faithful", "the seed's TensorFlow redesign: swish bottleneck, generated hyper-layer list, float16",
    functional_defaults);

}  // namespace
}  // namespace nif
