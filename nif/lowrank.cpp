// Architecture "lowrank": a LoRA hypernetwork. A shared ShapeNet (weights W0_k, trained directly)
// whose every weight matrix gets a per-sample rank-r update A_k(p)·B_k(p) from the ParameterNet,
// with generated biases: layer k's pre-activation is s_k·(x·W0_k + (x·A_k)·B_k) + b_k(p), with
// upstream ShapeNet's structure around it (shape_net_stack: residual smooth layers, or SIREN,
// s_k = ω0 except on the last layer). (x·A)·B is two hyper-affine maps; A·B is never formed.
//
// Generated row, per layer k (in_k → out_k): A_k [in_k, r], B_k [r, out_k], b_k [1, out_k]. For the
// seed ShapeNet (D = O = 1, n = 30, L = 2) at r = 4: A 1·4 + 30·4 + 30·4 + 30·4 = 364,
// B 4·30 + 4·30 + 4·30 + 4·1 = 364, b 30 + 30 + 30 + 1 = 91; 819 per sample (against 1,951 for nif).
//
// Init: it starts as the shared network, like LoRA's zero-initialised factor. B_k(p) = 0 (init
// bound 0, latent scale 0), so the update vanishes while A_k(p) is random, U(±1/√in_k) as LoRA's
// A; b_k(p) starts at a constant draw (latent scale 0), so at init u does not depend on p. The
// gradient reaches B through x·A, and from the first step the p-dependence grows. W0 is a
// SharedShapeNet without biases: SIREN's init for a sine ShapeNet, Glorot's otherwise.

#include <cmath>

#include "nif/defaults.hpp"
#include "nif/model.hpp"
#include "nif/parameter_net.hpp"
#include "nif/shape_net.hpp"

namespace nif {
namespace {

Index rank_of(const ExperimentConfig& cfg) { return Index(cfg.option("rank")); }

GeneratedLayout lowrank_layout(const ExperimentConfig& cfg) {
  const ShapeNetLayout dims(cfg.shape_net);
  const Index r = rank_of(cfg);
  GeneratedLayout layout;
  for (Index k = 0; k < dims.layers(); ++k) {
    const std::string name = "layer" + std::to_string(k);
    layout.add(name + ".A", dims.in(k), r, 1.0 / std::sqrt(double(dims.in(k))));
    layout.add(name + ".B", r, dims.out(k), 0, 0);
    layout.add(name + ".bias", 1, dims.out(k), dims.generated().at(name + ".bias").init_bound, 0);
  }
  return layout;
}

template <class T>
class LowRankNif final : public ParameterNetModel<T> {
 public:
  explicit LowRankNif(const ExperimentConfig& cfg)
      : ParameterNetModel<T>(cfg, lowrank_layout(cfg)),
        shared_(this->register_module("shape_net", std::make_shared<SharedShapeNet<T>>(cfg.shape_net, false,
                                                                                        cfg.shape_net.output_dim))) {
    const GeneratedLayout& g = this->generated();
    for (Index k = 0; k < shared_->layers(); ++k) {
      const std::string name = "layer" + std::to_string(k);
      down_.push_back(hyper_slice(g.at(name + ".A"), nullptr, shape_weight_scale(cfg.shape_net, k, shared_->layers())));
      up_.push_back(hyper_slice(g.at(name + ".B"), &g.at(name + ".bias")));
    }
    this->build_parameter_net(cfg, ParameterNetInit::keras(), Activation::identity, true, ParameterNetNames::standard());
  }
  std::string type_name() const override { return "LowRankNIF"; }

  Var<T> shape_net(Var<T> x, Var<T> w, ad::RowGroups groups) override { return apply(x, w, groups); }
  Jet<T> shape_net(const Jet<T>& x, const Jet<T>& w, ad::RowGroups groups) override { return apply(x, w, groups); }

 private:
  template <class V>
  V apply(const V& x, const V& w, ad::RowGroups groups) const {
    return shape_net_stack(this->config().shape_net, shared_->layers(), x, [&](Index k, const V& s) {
      const auto i = std::size_t(k);
      return ad::add(shared_->linear(k, s), ad::hyper_affine(ad::hyper_affine(s, w, down_[i], groups), w, up_[i], groups));
    });
  }

  std::shared_ptr<SharedShapeNet<T>> shared_;  ///< W0_k
  std::vector<ad::HyperSlice> down_, up_;     ///< s → s_k·s·A_k, and then → (·)·B_k + b_k
};

ExperimentConfig lowrank_defaults(std::string_view case_name) { return corrected_case_config(case_name, "lowrank"); }

const ArchitectureRegistrar<LowRankNif> registrar(
    "lowrank", "hypernetwork",
    "LoRA hypernetwork: shared ShapeNet W0 plus per-sample rank-r updates A(p)·B(p) and biases b(p); --rank",
    lowrank_defaults,
    {VariantOption{.name = "rank", .help = "rank r of each generated weight update A(p)·B(p)", .default_value = 4,
                   .min = 1, .max = 4096, .integer = true}});

}  // namespace
}  // namespace nif
