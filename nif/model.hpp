#pragma once
// The model interface shared by every architecture, and the architecture registry.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nif/config.hpp"
#include "nif/layout.hpp"
#include "nn/module.hpp"

namespace nif {

using ad::Jet;
using ad::Var;

/// A field model u(x; p). Inputs are batches as rows: p is B x P (or one row per run of
/// `groups`, see ad::RowGroups), x is B x D; u is B x O.
template <class T>
class Model : public nn::Module<T> {
 public:
  explicit Model(const ExperimentConfig& cfg) : config_(cfg) {}

  /// u for samples x whose ParameterNet inputs are the rows of p (one per sample, or one per run
  /// of consecutive samples sharing their input).
  virtual Var<T> forward(Var<T> p, Var<T> x, ad::RowGroups groups = {}) = 0;
  /// The same forward on jets, for derivatives with respect to the inputs (nif/derivatives.hpp).
  virtual Jet<T> forward(const Jet<T>& p, const Jet<T>& x, ad::RowGroups groups = {}) = 0;
  /// What the model generates per sample from p (empty for models without a hypernetwork).
  virtual const GeneratedLayout& generated() const = 0;

  const ExperimentConfig& config() const { return config_; }

 private:
  ExperimentConfig config_;
};

/// NIF: u(x; p) = ShapeNet_{w(p)}(x) with w(p) = ParameterNet(p), laid out as generated().
/// Each stage also maps jets; an architecture writes each stage once, generic over Var and Jet.
template <class T>
class HyperModel : public Model<T> {
 public:
  HyperModel(const ExperimentConfig& cfg, GeneratedLayout layout) : Model<T>(cfg), layout_(std::move(layout)) {}

  /// p → z, the bottleneck ("latent representation"), B x r.
  virtual Var<T> latent(Var<T> p) = 0;
  virtual Jet<T> latent(const Jet<T>& p) = 0;
  /// z → w, every generated ShapeNet tensor of each sample, B x generated().size().
  virtual Var<T> shape_parameters_from_latent(Var<T> z) = 0;
  virtual Jet<T> shape_parameters_from_latent(const Jet<T>& z) = 0;
  /// (x, w) → u. With `groups`, w has one row per run of consecutive samples sharing their
  /// ParameterNet input; without, one row per sample.
  virtual Var<T> shape_net(Var<T> x, Var<T> w, ad::RowGroups groups = {}) = 0;
  virtual Jet<T> shape_net(const Jet<T>& x, const Jet<T>& w, ad::RowGroups groups = {}) = 0;

  Var<T> shape_parameters(Var<T> p) { return shape_parameters_from_latent(latent(p)); }
  Jet<T> shape_parameters(const Jet<T>& p) { return shape_parameters_from_latent(latent(p)); }
  Var<T> forward(Var<T> p, Var<T> x, ad::RowGroups groups = {}) final { return shape_net(x, shape_parameters(p), groups); }
  Jet<T> forward(const Jet<T>& p, const Jet<T>& x, ad::RowGroups groups = {}) final {
    return shape_net(x, shape_parameters(p), groups);
  }
  const GeneratedLayout& generated() const final { return layout_; }

 private:
  GeneratedLayout layout_;
};

template <class T>
using ModelFactory = std::function<std::unique_ptr<Model<T>>(const ExperimentConfig&)>;

/// A registered architecture: how to build it, its defaults per case, and the options it declares
/// for itself (ExperimentConfig::variant; flags `--<name>` with '_' as '-').
struct Architecture {
  std::string name;
  /// "faithful" (a port of a seed implementation), "hypernetwork" (a NIF variant) or "baseline"
  /// (no hypernetwork); `nif compare --archs` accepts a family for all its members.
  std::string family;
  std::string description;
  ModelFactory<float> make_float;
  ModelFactory<double> make_double;
  /// Its configuration for a case: "low-frequency", "high-frequency" (the seed study's settings,
  /// faithful for the reference ports) or "custom" (a user's data), with its options at their
  /// defaults.
  std::function<ExperimentConfig(std::string_view case_name)> defaults;
  std::vector<VariantOption> options;
};

/// Registers an architecture (called from a static object in the architecture's own file).
void register_architecture(Architecture arch);
/// The architecture called `name`; std::invalid_argument listing the known names otherwise.
const Architecture& architecture(std::string_view name);
std::vector<std::string> architecture_names();
/// Expands a list of names, families ("faithful", "hypernetwork", "baseline") and "all" into
/// architecture names in registry order, each once; std::invalid_argument for an unknown item.
std::vector<std::string> expand_architectures(const std::vector<std::string>& items);
/// The registry's names as "a, b, c" (for help texts and messages).
std::string architecture_list();

/// Checks cfg.variant against the options cfg.architecture declares (names and ranges);
/// std::invalid_argument with one line naming the flag otherwise.
void validate_variant_options(const ExperimentConfig& cfg);

/// Builds the model named by cfg.architecture (after validate_variant_options).
template <class T>
std::unique_ptr<Model<T>> make_model(const ExperimentConfig& cfg) {
  validate_variant_options(cfg);
  if constexpr (std::is_same_v<T, float>)
    return architecture(cfg.architecture).make_float(cfg);
  else
    return architecture(cfg.architecture).make_double(cfg);
}

/// The registration of one architecture file: `M<T>` is its model class template.
template <template <class> class M>
struct ArchitectureRegistrar {
  ArchitectureRegistrar(std::string name, std::string family, std::string description,
                        std::function<ExperimentConfig(std::string_view)> defaults,
                        std::vector<VariantOption> options = {}) {
    register_architecture({std::move(name), std::move(family), std::move(description),
                           [](const ExperimentConfig& c) { return std::make_unique<M<float>>(c); },
                           [](const ExperimentConfig& c) { return std::make_unique<M<double>>(c); },
                           std::move(defaults), std::move(options)});
  }
};

/// The seed's shared settings for a case: ShapeNet swish for "low-frequency", SIREN ω0 = 30 with
/// weight_init_factor 0.01 for "high-frequency"; "custom" (a user's data) is the smooth one.
ExperimentConfig seed_case_config(std::string_view case_name);

/// seed_case_config plus the ShapeNet defects the functional and PyTorch ports share: the aliased
/// last bias (smooth case), the missing last bias and the plain output init (SIREN case).
ExperimentConfig seed_port_config(std::string_view case_name);

}  // namespace nif
