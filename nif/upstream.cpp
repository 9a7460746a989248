// Architecture "upstream": the port of the original NIF library (pswpswpsw/nif), as the seed ran it.
//
// Style of its source: one model class; the ShapeNet is one monolithic forward function that maps
// the flat ParameterNet output onto its layers by hand. Semantics (docs/seed-study.md §6):
// Keras TruncatedNormal(0.1) everywhere, LINEAR bottleneck, RESIDUAL ShapeNet hidden layers
// s + act(s·W + b), correct last bias p[N_W + (L+1)·n], Keras Adam, AdaBelief whose gradient
// centralisation hook is dead, float16 compute. The high-frequency case, which the seed could not
// run, uses upstream's NIFMultiScale: SIREN layers sin(ω0·(s·W) + b) and the SIREN-aware
// HyperLinearForSIREN output initialisation.

#include <fmt/format.h>

#include "nif/upstream_model.hpp"

namespace nif {
namespace {

template <class T>
class UpstreamNif final : public UpstreamHyperModel<T> {
 public:
  explicit UpstreamNif(const ExperimentConfig& cfg)
      : UpstreamHyperModel<T>(cfg,
                              {"first_dense_pnet", [](Index k) { return "hidden_mlpshortcut_pnet_" + std::to_string(k); },
                               "bottleneck_pnet", "last_pnet"},
                              "NIF") {}
};

ExperimentConfig upstream_defaults(std::string_view case_name) {
  ExperimentConfig c = seed_case_config(case_name);
  c.architecture = "upstream";
  c.defects.half_precision = true;
  c.defects.dead_centralization = true;
  c.optimizer.adam_flavour = AdamFlavour::keras;
  c.optimizer.gradient_centralization = true;  // configured by the seed, but see dead_centralization
  return c;
}

const ArchitectureRegistrar<UpstreamNif> registrar(
    "upstream", "faithful", "port of the original NIF library: linear bottleneck, residual ShapeNet, SIREN via NIFMultiScale",
    upstream_defaults);

}  // namespace
}  // namespace nif
