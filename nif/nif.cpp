// Architecture "nif": the corrected canonical NIF. Upstream NIF's semantics (linear bottleneck,
// residual smooth ShapeNet or SIREN ShapeNet, with --resblock upstream's multi-scale ResNet-SIREN,
// NIFMultiScale) with every seed defect fixed: float32 compute, the correct last bias, the
// layout-aware (SIREN-aware) output initialisation, and gradient centralisation applied when
// AdaBelief asks for it. The default architecture for a user's data, where its ShapeNet is a
// SIREN and its schedule follows --epochs and --lr.

#include "nif/defaults.hpp"
#include "nif/upstream_model.hpp"

namespace nif {
namespace {

template <class T>
class CanonicalNif final : public UpstreamHyperModel<T> {
 public:
  explicit CanonicalNif(const ExperimentConfig& cfg)
      : UpstreamHyperModel<T>(cfg, ParameterNetNames::standard(), "NIF(corrected)") {}
};

ExperimentConfig nif_defaults(std::string_view case_name) { return corrected_case_config(case_name, "nif"); }

const ArchitectureRegistrar<CanonicalNif> registrar(
    "nif", "hypernetwork", "corrected NIF: upstream's semantics, seed defects fixed, float32; SIREN-aware init; --resblock for NIFMultiScale",
    nif_defaults);

}  // namespace
}  // namespace nif
