#pragma once
// Configuration of a NIF experiment: the model (ShapeNet, ParameterNet, defects, precision) and
// its training. Every field has the seed study's default; architectures override what they must.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "nn/optim.hpp"

namespace nif {

using ad::Activation;
using ad::Index;

struct ShapeNetConfig {
  Index input_dim = 1;   ///< D: coordinates per point
  Index output_dim = 1;  ///< O: fields per point
  Index units = 30;      ///< n: width
  Index nlayers = 2;     ///< L: hidden layers (or blocks)
  Activation activation = Activation::swish;  ///< Activation::sin makes it a SIREN ShapeNet
  double omega0 = 30;                         ///< SIREN frequency; multiplies x·W, never the bias
  double weight_init_factor = 0.01;           ///< SIREN-aware hypernetwork init: weight scale
  bool use_resblock = false;  ///< SIREN hidden blocks ½(u + sin(·)) as upstream's NIFMultiScale

  bool siren() const { return activation == Activation::sin; }
};

struct ParameterNetConfig {
  Index input_dim = 1;   ///< P: parameters per point (e.g. t)
  Index latent_dim = 1;  ///< r: bottleneck width
  Index units = 30;
  Index nlayers = 2;
  Activation activation = Activation::swish;
  bool use_resblock = false;  ///< ResNet blocks instead of Shortcut blocks
};

/// The seed implementations' defects, each switchable to the corrected behaviour so its cost can
/// be measured. An architecture's defaults are its faithful values.
struct Defects {
  bool aliased_last_bias = false;      ///< functional/pytorch: last bias read at p[bias0 + L·n] (= bh_{L-1}[0])
  bool missing_last_bias = false;      ///< functional/pytorch SIREN: the last layer adds no bias
  bool plain_output_init = false;      ///< functional/pytorch SIREN: no SIREN-aware output init
  bool centralize_fan_in_one = false;  ///< pytorch AdaBelief: GC zeroes fan-in-1 gradients (frozen)
  bool dead_centralization = false;    ///< TF AdaBelief: GC is configured but never applied
  bool half_precision = false;         ///< TF: float16 compute with float32 master weights
  bool unweighted_epoch_loss = false;  ///< pytorch: epoch loss is the plain mean of batch losses

  /// Names of the switches, for flags and reports.
  static const std::vector<std::string>& names();
  bool& at(const std::string& name);
  /// Sets every switch in `names` ("all" = every one) to its corrected value (false).
  void fix(const std::vector<std::string>& names);
  std::vector<std::string> active() const;
};

using nn::AdamFlavour;

struct OptimizerConfig {
  std::string name = "adam";  ///< adam | adabelief | sgd
  AdamFlavour adam_flavour = AdamFlavour::keras;
  bool gradient_centralization = false;  ///< AdaBelief GC as configured (see Defects)
};

struct TrainConfig {
  int epochs = 5000;
  Index batch_size = 512;
  std::uint64_t seed = 0;
  int threads = 1;
  int log_every = 100;
  int checkpoint_every = 1000;
  double base_lr = 1e-4;
  std::string schedule = "seed";  ///< seed | constant | cosine
  std::string normalization = "auto";  ///< auto (by case) | standard | minmax | none
  /// Evaluate the ParameterNet once per distinct input in a batch and each hyper layer as one
  /// GEMM per such group (same mathematics as per sample, summed in another order).
  bool group_by_params = true;
  /// Flush subnormal floats to zero during training steps (ad::FlushSubnormals): twice as fast,
  /// and no measured change in the loss history.
  bool flush_subnormals = true;
  /// With threads > 1: cut each batch in proportion to the workers' measured speeds instead of
  /// evenly. Faster where cores run at uneven speeds (shared VMs), but the cut, and with it the
  /// float rounding of the gradient sum, then depends on timing: runs stop repeating bit for bit.
  bool balance_threads = false;
  /// Magnitude pruning (nn::PruneMask): the target fraction of weight-matrix values set to zero,
  /// reached along tfmot's cubic polynomial schedule from epoch prune_begin to prune_end (epochs
  /// done), the mask then held; 0 prunes nothing.
  double prune = 0;
  int prune_begin = 0;
  int prune_end = 0;
  std::string prune_scope = "layer";  ///< layer | global (nn::PruneScope)
  /// Out-of-core data: the megabytes the training points (and their bookkeeping) may take in
  /// memory; the file is then read part by part (nif/point_stream.hpp). 0: all of it is loaded.
  Index memory_budget_mb = 0;
};

/// `--advection-residual c:λ`: λ·mean (u_t + c·u_x)² (nif/derivative_losses.hpp); weight 0: off.
struct AdvectionResidual {
  double speed = 0;   ///< c, in the data's units of x per unit of t
  double weight = 0;  ///< λ
};

/// "c:λ" (a finite c, a finite λ ≥ 0) or "none" (both 0); std::invalid_argument naming the
/// text otherwise.
AdvectionResidual parse_advection_residual(const std::string& text);
/// Its text as config.json keeps it: "c:λ", or "none" for weight 0.
void to_json(nlohmann::json& j, const AdvectionResidual& a);

/// Extra terms of the training loss beside the data MSE (nif/loss_terms.hpp); 0 switches one off.
struct LossConfig {
  double l1 = 0;  ///< λ of λ·Σ|θ| over every trainable parameter
  double l2 = 0;  ///< λ of λ·Σθ²
  AdvectionResidual advection;
  Index collocation_points = 0;  ///< the advection residual also at N points between the data's (0: none)
  double jacobian_reg = 0;  ///< λ of λ·mean (∂z/∂p)² over the latent z (upstream's JacRegLatentLayer)
  double sobolev_weight = 0;  ///< λ of λ·mean (∂u/∂x − target)² against the data's derivative columns
};

/// Full-batch L-BFGS (strong-Wolfe line search) after the first-order epochs.
struct FinetuneConfig {
  int lbfgs_iterations = 0;        ///< accepted L-BFGS steps (0: no fine-tuning)
  std::string precision = "fp32";  ///< fp32, or fp64: a double copy of the model is fine-tuned
  int history = 50;                ///< (s, y) pairs the L-BFGS curvature model keeps

  bool active() const { return lbfgs_iterations > 0; }
};

/// An option an architecture declares for itself (kept in ExperimentConfig::variant), e.g. the
/// rank of a low-rank hypernetwork. Its flag is `--<name>` with '_' written as '-'.
struct VariantOption {
  std::string name;
  std::string help;
  double default_value = 0;
  double min = 0;  ///< accepted range, inclusive
  double max = 0;
  bool integer = false;
};

struct ExperimentConfig {
  std::string architecture = "upstream";
  std::string case_name = "low-frequency";  ///< a traveling-wave case, or "custom" with a data file
  ShapeNetConfig shape_net;
  ParameterNetConfig parameter_net;
  Defects defects;
  OptimizerConfig optimizer;
  TrainConfig train;
  LossConfig loss;
  FinetuneConfig finetune;
  /// The preset whose values the config started from ("none", "accurate"; see experiments/cli).
  std::string preset = "none";
  /// Compute precision: "auto" (float16 where the half_precision defect is on, else float32),
  /// "fp32", "fp16" or "bf16" (emulated: values rounded after every op, float32 master weights).
  std::string compute_precision = "auto";
  /// The architecture's own options by name (see VariantOption), all of them present.
  std::map<std::string, double> variant;
  ad::Precision precision() const;
  /// variant.at(name); std::logic_error naming the option when the architecture did not declare it.
  double option(const std::string& name) const;
};

/// One setting of ExperimentConfig as config.json and the command line know it. The table of them
/// (experiment_fields) is the one place a setting is named, documented and validated: it drives
/// to_json, experiment_config_from_json and the `nif` flags. Adding a setting is one line there.
struct ConfigField {
  std::string section;  ///< the JSON object holding it ("" for the top level, "shape_net", "train", ...)
  std::string key;      ///< its key in that object
  std::string flag;     ///< command-line flag without "--"; empty when the data sets it
  std::string help;
  /// A flag without a value that sets the field to `switch_value` (a boolean field).
  bool is_switch = false;
  bool switch_value = true;
  std::function<nlohmann::json(const ExperimentConfig&)> get;
  /// Validates and stores a value; std::invalid_argument with one line naming the flag.
  std::function<void(ExperimentConfig&, const nlohmann::json&)> set;
  /// The flag's text as the value `set` takes; std::invalid_argument when malformed.
  std::function<nlohmann::json(const std::string&)> parse;
  /// The value of a config written before the field existed; null: the key is required.
  nlohmann::json missing;

  /// "--flag", or "section.key" for a field without a flag (for messages).
  std::string display_name() const;
};

/// Every setting of ExperimentConfig but the defect switches (Defects::names, set with --fix) and
/// the variant options (declared by each architecture).
const std::vector<ConfigField>& experiment_fields();

/// The settings `--preset NAME` stands for on the case `case_name` ("" for a user's data), as flags
/// of experiment_fields() (without "--") and their values, in the order they are printed; none for
/// "none". std::invalid_argument for an unknown name.
std::vector<std::pair<std::string, std::string>> preset_settings(const std::string& name, std::string_view case_name);

nlohmann::json to_json(const ExperimentConfig&);
/// Reads a config written by to_json, by name; unknown keys or bad values → std::invalid_argument.
ExperimentConfig experiment_config_from_json(const nlohmann::json&);

}  // namespace nif
