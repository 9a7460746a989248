// Architecture "mlp": the NIF paper's plain baseline (Table 2, MLP-tanh and MLP-ReLU), one dense
// network on the concatenated (p, x), no hypernetwork. The "shape" flags size it: --shape-units
// its width, --shape-layers its hidden layers, --shape-activation its activation (tanh by default,
// relu for the paper's MLP-ReLU); Glorot init for tanh, He init for relu.

#include "nif/coordinate_net.hpp"

namespace nif {
namespace {

template <class T>
class Mlp final : public CoordinateModel<T> {
 public:
  explicit Mlp(const ExperimentConfig& cfg) : CoordinateModel<T>(cfg) {
    net_ = this->register_module("net", dense_stack<T>(this->joint_width(), cfg.shape_net));
  }
  std::string type_name() const override { return "MLP"; }
  Var<T> forward_joint(Var<T> v) override { return (*net_)(v); }
  Jet<T> forward_joint(const Jet<T>& v) override { return (*net_)(v); }

 private:
  std::shared_ptr<nn::Sequential<T>> net_;
};

const ArchitectureRegistrar<Mlp> registrar(
    "mlp", "baseline", "MLP on (p, x), no hypernetwork (paper's Table 2): --shape-* size it, tanh or --shape-activation relu",
    [](std::string_view case_name) { return coordinate_defaults(case_name, "mlp", Activation::tanh); });

}  // namespace
}  // namespace nif
