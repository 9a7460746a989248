// Architecture "siren": Sitzmann et al.'s SIREN (2020) on the concatenated (p, x), the NIF paper's
// Table 2 baseline, no hypernetwork. Sine layers sin(ω0·(s·W) + b) — ω0 multiplies the product
// only, the convention of NIF's SIREN ShapeNet (nif/shape_net.hpp), so --omega0 means the same
// here as there — then a linear last layer. Sitzmann's init: first layer U(±1/fan_in), the other
// layers (the linear last one too) U(±√(6/fan_in)/ω0), biases U(±1/√fan_in). The "shape" flags size
// it: --shape-units its width, --shape-layers its hidden sine layers, --omega0 its ω0 (30 by default,
// as Sitzmann's and the seed's SIREN ShapeNet).

#include <stdexcept>

#include "nif/coordinate_net.hpp"

namespace nif {
namespace {

template <class T>
class SirenBaseline final : public CoordinateModel<T> {
 public:
  explicit SirenBaseline(const ExperimentConfig& cfg) : CoordinateModel<T>(cfg) {
    const ShapeNetConfig& s = cfg.shape_net;
    if (!s.siren()) throw std::invalid_argument("architecture siren needs --shape-activation sine (its layers are sine layers)");
    auto sine = [&](Index in, bool first) {
      return std::make_shared<nn::Siren<T>>(
          nn::SirenOptions{.in = in, .out = s.units, .omega0 = s.omega0, .form = nn::SirenForm::nif, .first_layer = first});
    };
    net_ = this->register_module("net", std::make_shared<nn::Sequential<T>>());
    net_->add("first", sine(this->joint_width(), true));
    for (Index k = 0; k < s.nlayers; ++k) net_->add("hidden" + std::to_string(k), sine(s.units, false));
    net_->add("last", std::make_shared<nn::Dense<T>>(nn::DenseOptions{
                          .in = s.units, .out = s.output_dim, .weight_init = nn::Initializer::siren_hidden_layer(s.omega0),
                          .bias_init = nn::Initializer::torch_linear_default()}));
  }
  std::string type_name() const override { return "SIREN"; }
  Var<T> forward_joint(Var<T> v) override { return (*net_)(v); }
  Jet<T> forward_joint(const Jet<T>& v) override { return (*net_)(v); }

 private:
  std::shared_ptr<nn::Sequential<T>> net_;
};

const ArchitectureRegistrar<SirenBaseline> registrar(
    "siren", "baseline", "SIREN on (p, x), no hypernetwork (paper's Table 2): sine layers sin(ω0·(s·W) + b), Sitzmann's init",
    [](std::string_view case_name) { return coordinate_defaults(case_name, "siren", Activation::sin); });

}  // namespace
}  // namespace nif
