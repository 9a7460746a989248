#pragma once
// The hypernetwork model interface shared by every architecture, and the architecture registry.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nif/config.hpp"
#include "nif/layout.hpp"
#include "nn/module.hpp"

namespace nif {

using ad::Var;

/// NIF: u(x; p) = ShapeNet_{w(p)}(x) with w(p) = ParameterNet(p). All trainable parameters live in
/// the ParameterNet; the ShapeNet reads its weights per sample from w through hyper ops.
/// Inputs are batches as rows: p is B x P, x is B x D; u is B x O.
template <class T>
class HyperModel : public nn::Module<T> {
 public:
  explicit HyperModel(const ExperimentConfig& cfg) : config_(cfg), layout_(cfg.shape_net) {}

  /// p → z, the bottleneck ("latent representation"), B x r.
  virtual Var<T> latent(Var<T> p) = 0;
  /// z → w, every ShapeNet weight and bias of each sample, B x N_w (layout()).
  virtual Var<T> shape_parameters_from_latent(Var<T> z) = 0;
  /// (x, w) → u. With `groups`, w has one row per run of consecutive samples sharing their
  /// ParameterNet input (see ad::RowGroups); without, one row per sample.
  virtual Var<T> shape_net(Var<T> x, Var<T> w, ad::RowGroups groups = {}) = 0;

  Var<T> shape_parameters(Var<T> p) { return shape_parameters_from_latent(latent(p)); }
  /// u for samples x whose ParameterNet inputs are the rows of p (one per sample, or one per run
  /// of `groups`).
  Var<T> forward(Var<T> p, Var<T> x, ad::RowGroups groups = {}) { return shape_net(x, shape_parameters(p), groups); }

  const ShapeNetLayout& layout() const { return layout_; }
  const ExperimentConfig& config() const { return config_; }

 private:
  ExperimentConfig config_;
  ShapeNetLayout layout_;
};

template <class T>
using ModelFactory = std::function<std::unique_ptr<HyperModel<T>>(const ExperimentConfig&)>;

/// A registered architecture: how to build it, and its faithful defaults for each seed case.
struct Architecture {
  std::string name;
  std::string description;
  ModelFactory<float> make_float;
  ModelFactory<double> make_double;
  /// The seed study's configuration of this architecture for "low-frequency" / "high-frequency".
  std::function<ExperimentConfig(std::string_view case_name)> defaults;
};

/// Registers an architecture (called from a static object in the architecture's own file).
void register_architecture(Architecture arch);
/// The architecture called `name`; std::invalid_argument listing the known names otherwise.
const Architecture& architecture(std::string_view name);
std::vector<std::string> architecture_names();

/// Builds the model named by cfg.architecture.
template <class T>
std::unique_ptr<HyperModel<T>> make_model(const ExperimentConfig& cfg) {
  if constexpr (std::is_same_v<T, float>)
    return architecture(cfg.architecture).make_float(cfg);
  else
    return architecture(cfg.architecture).make_double(cfg);
}

/// The registration of one architecture file: `M<T>` is its model class template.
template <template <class> class M>
struct ArchitectureRegistrar {
  ArchitectureRegistrar(std::string name, std::string description,
                        std::function<ExperimentConfig(std::string_view)> defaults) {
    register_architecture({std::move(name), std::move(description),
                           [](const ExperimentConfig& c) { return std::make_unique<M<float>>(c); },
                           [](const ExperimentConfig& c) { return std::make_unique<M<double>>(c); },
                           std::move(defaults)});
  }
};

/// The seed's shared settings for a traveling-wave case (ShapeNet swish for "low-frequency",
/// SIREN ω0 = 30 with weight_init_factor 0.01 for "high-frequency"); architectures start from it.
ExperimentConfig seed_case_config(std::string_view case_name);

/// seed_case_config plus the ShapeNet defects the functional and PyTorch ports share: the aliased
/// last bias (smooth case), the missing last bias and the plain output init (SIREN case).
ExperimentConfig seed_port_config(std::string_view case_name);

}  // namespace nif
