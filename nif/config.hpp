#pragma once
// Configuration of a NIF experiment: the model (ShapeNet, ParameterNet, defects, precision) and
// its training. Every field has the seed study's default; architectures override what they must.

#include <nlohmann/json.hpp>

#include <cstdint>
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
};

struct ExperimentConfig {
  std::string architecture = "upstream";
  std::string case_name = "low-frequency";  ///< a traveling-wave case, or "custom" with a data file
  ShapeNetConfig shape_net;
  ParameterNetConfig parameter_net;
  Defects defects;
  OptimizerConfig optimizer;
  TrainConfig train;
  /// Compute precision: "auto" (float16 where the half_precision defect is on, else float32),
  /// "fp32", "fp16" or "bf16" (emulated: values rounded after every op, float32 master weights).
  std::string compute_precision = "auto";
  ad::Precision precision() const;
};

nlohmann::json to_json(const ExperimentConfig&);
/// Reads a config written by to_json; unknown keys or bad values → std::invalid_argument.
ExperimentConfig experiment_config_from_json(const nlohmann::json&);

}  // namespace nif
