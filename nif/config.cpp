#include "nif/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace nif {

namespace {

struct DefectField {
  const char* name;
  bool Defects::*member;
};
constexpr DefectField kDefectFields[] = {
    {"aliased_last_bias", &Defects::aliased_last_bias},
    {"missing_last_bias", &Defects::missing_last_bias},
    {"plain_output_init", &Defects::plain_output_init},
    {"centralize_fan_in_one", &Defects::centralize_fan_in_one},
    {"dead_centralization", &Defects::dead_centralization},
    {"half_precision", &Defects::half_precision},
    {"unweighted_epoch_loss", &Defects::unweighted_epoch_loss},
};

}  // namespace

const std::vector<std::string>& Defects::names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& f : kDefectFields) v.emplace_back(f.name);
    return v;
  }();
  return names;
}

bool& Defects::at(const std::string& name) {
  for (const auto& f : kDefectFields)
    if (name == f.name) return this->*f.member;
  throw std::invalid_argument(fmt::format("unknown defect '{}' (expected all, {})", name, fmt::join(names(), ", ")));
}

void Defects::fix(const std::vector<std::string>& list) {
  for (const auto& name : list) {
    if (name == "all") {
      for (const auto& f : kDefectFields) this->*f.member = false;
    } else {
      at(name) = false;
    }
  }
}

std::vector<std::string> Defects::active() const {
  std::vector<std::string> v;
  for (const auto& f : kDefectFields)
    if (this->*f.member) v.emplace_back(f.name);
  return v;
}

ad::Precision ExperimentConfig::precision() const {
  if (compute_precision == "auto") return defects.half_precision ? ad::Precision::fp16 : ad::Precision::fp32;
  if (compute_precision == "fp32") return ad::Precision::fp32;
  if (compute_precision == "fp16") return ad::Precision::fp16;
  if (compute_precision == "bf16") return ad::Precision::bf16;
  throw std::invalid_argument("unknown precision '" + compute_precision + "' (expected auto, fp32, fp16 or bf16)");
}

double ExperimentConfig::option(const std::string& name) const {
  const auto it = variant.find(name);
  if (it == variant.end()) throw std::logic_error("architecture " + architecture + " has no option '" + name + "'");
  return it->second;
}

AdvectionResidual parse_advection_residual(const std::string& text) {
  if (text == "none") return {};
  auto number = [](std::string_view s, double& out) {
    const char* end = s.data() + s.size();
    return !s.empty() && std::from_chars(s.data(), end, out).ptr == end && std::isfinite(out);
  };
  const auto colon = text.find(':');
  AdvectionResidual a;
  const std::string_view all(text);
  if (colon == std::string::npos || !number(all.substr(0, colon), a.speed) || !number(all.substr(colon + 1), a.weight) ||
      a.weight < 0)
    throw std::invalid_argument(fmt::format("'{}' is not c:λ with a speed c and a weight λ ≥ 0 (or none)", text));
  return a;
}

void to_json(nlohmann::json& j, const AdvectionResidual& a) {
  j = a.weight > 0 ? fmt::format("{}:{}", a.speed, a.weight) : "none";
}

std::string ConfigField::display_name() const { return flag.empty() ? section + "." + key : "--" + flag; }

namespace {

/// A reference to one member of ExperimentConfig (top level or inside a section).
template <class V>
using Ref = std::function<V&(ExperimentConfig&)>;

template <class V>
ConfigField make_field(std::string section, std::string key, std::string flag, std::string help, Ref<V> ref,
                       std::function<V(const ConfigField&, const nlohmann::json&)> check,
                       std::function<nlohmann::json(const ConfigField&, const std::string&)> parse,
                       nlohmann::json missing = nullptr) {
  ConfigField f;
  f.section = std::move(section);
  f.key = std::move(key);
  f.flag = std::move(flag);
  f.help = std::move(help);
  f.get = [ref](const ExperimentConfig& c) { return nlohmann::json(ref(const_cast<ExperimentConfig&>(c))); };
  // The field copies itself into its closures for their messages (its own members are set by then).
  f.missing = std::move(missing);
  const ConfigField self = f;
  f.set = [ref, check, self](ExperimentConfig& c, const nlohmann::json& v) { ref(c) = check(self, v); };
  f.parse = [parse, self](const std::string& text) { return parse(self, text); };
  return f;
}

[[noreturn]] void refuse(const ConfigField& f, const std::string& what) {
  throw std::invalid_argument(f.display_name() + " " + what);
}

template <class I>
ConfigField integer(std::string section, std::string key, std::string flag, Ref<I> ref, I lo, I hi, std::string help,
                    nlohmann::json missing = nullptr) {
  auto check = [lo, hi](const ConfigField& f, const nlohmann::json& v) -> I {
    // get<I> would wrap out-of-range integers, and converting an out-of-range float is undefined.
    const bool ok = (v.is_number_unsigned() && std::in_range<I>(v.get<std::uint64_t>())) ||
                    (v.is_number_integer() && !v.is_number_unsigned() && std::in_range<I>(v.get<std::int64_t>()));
    const I value = !ok ? I{} : v.is_number_unsigned() ? I(v.get<std::uint64_t>()) : I(v.get<std::int64_t>());
    if (!ok || value < lo || value > hi)
      refuse(f, fmt::format("must be an integer from {} to {} (got {})", lo, hi, v.dump()));
    return value;
  };
  auto parse = [](const ConfigField& f, const std::string& text) -> nlohmann::json {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
      refuse(f, fmt::format("must be an integer (got '{}')", text));
    return value;
  };
  return make_field<I>(std::move(section), std::move(key), std::move(flag), std::move(help), std::move(ref), check, parse,
                       std::move(missing));
}

/// A real number in (lo, hi] (lo excluded when `open_lo`, else [lo, hi]).
ConfigField real(std::string section, std::string key, std::string flag, Ref<double> ref, double lo, double hi, bool open_lo,
                 std::string help, nlohmann::json missing = nullptr) {
  auto check = [lo, hi, open_lo](const ConfigField& f, const nlohmann::json& v) {
    const double x = v.is_number() ? v.get<double>() : std::nan("");
    if (!std::isfinite(x) || x > hi || x < lo || (open_lo && x == lo))
      refuse(f, fmt::format("must be a number in {}{}, {}] (got {})", open_lo ? "(" : "[", lo, hi, v.dump()));
    return x;
  };
  auto parse = [](const ConfigField& f, const std::string& text) -> nlohmann::json {
    char* end = nullptr;
    const double x = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) refuse(f, fmt::format("must be a number (got '{}')", text));
    return x;
  };
  return make_field<double>(std::move(section), std::move(key), std::move(flag), std::move(help), std::move(ref), check, parse,
                            std::move(missing));
}

/// A fraction in [0, 1) (a sparsity: 1 would prune everything).
ConfigField fraction(std::string section, std::string key, std::string flag, Ref<double> ref, std::string help,
                     nlohmann::json missing) {
  ConfigField f = real(std::move(section), std::move(key), std::move(flag), std::move(ref), 0, 1, false, std::move(help));
  const ConfigField self = f;
  f.set = [set = f.set, self](ExperimentConfig& c, const nlohmann::json& v) {
    const double x = v.is_number() ? v.get<double>() : std::nan("");
    if (!(x >= 0 && x < 1)) refuse(self, fmt::format("must be a number in [0, 1) (got {})", v.dump()));
    set(c, v);
  };
  f.missing = std::move(missing);
  return f;
}

ConfigField boolean(std::string section, std::string key, std::string flag, Ref<bool> ref, std::string help,
                    nlohmann::json missing = nullptr) {
  auto check = [](const ConfigField& f, const nlohmann::json& v) {
    if (!v.is_boolean()) refuse(f, fmt::format("must be true or false (got {})", v.dump()));
    return v.get<bool>();
  };
  auto parse = [](const ConfigField& f, const std::string& text) -> nlohmann::json {
    if (text == "true" || text == "1" || text == "on" || text == "yes") return true;
    if (text == "false" || text == "0" || text == "off" || text == "no") return false;
    refuse(f, fmt::format("must be true or false (got '{}')", text));
  };
  return make_field<bool>(std::move(section), std::move(key), std::move(flag), std::move(help), std::move(ref), check, parse,
                          std::move(missing));
}

/// A boolean set by a switch flag (`--flag` sets it to `value`).
ConfigField switch_field(std::string section, std::string key, std::string flag, Ref<bool> ref, bool value, std::string help,
                         nlohmann::json missing) {
  ConfigField f = boolean(std::move(section), std::move(key), std::move(flag), std::move(ref), std::move(help), std::move(missing));
  f.is_switch = true;
  f.switch_value = value;
  return f;
}

/// A name from `choices` (the first of each alias group is what is stored), checked by `valid`
/// when given instead (names that a registry or an enum knows).
template <class V>
ConfigField named(std::string section, std::string key, std::string flag, Ref<V> ref, std::function<V(const std::string&)> from,
                  std::function<nlohmann::json(const V&)> to, std::string help, nlohmann::json missing = nullptr) {
  auto check = [from](const ConfigField& f, const nlohmann::json& v) {
    if (!v.is_string()) refuse(f, fmt::format("must be a name (got {})", v.dump()));
    try {
      return from(v.get<std::string>());
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(f.display_name() + ": " + e.what());
    }
  };
  auto parse = [](const ConfigField&, const std::string& text) -> nlohmann::json { return text; };
  ConfigField f = make_field<V>(std::move(section), std::move(key), std::move(flag), std::move(help), ref, check, parse,
                                std::move(missing));
  f.get = [ref, to](const ExperimentConfig& c) { return to(ref(const_cast<ExperimentConfig&>(c))); };
  return f;
}

ConfigField choice(std::string section, std::string key, std::string flag, Ref<std::string> ref,
                   std::vector<std::string> choices, std::string help, nlohmann::json missing = nullptr) {
  auto from = [choices](const std::string& name) {
    if (std::find(choices.begin(), choices.end(), name) == choices.end())
      throw std::invalid_argument(fmt::format("unknown value '{}' (expected {})", name, fmt::join(choices, ", ")));
    return name;
  };
  return named<std::string>(std::move(section), std::move(key), std::move(flag), std::move(ref), from,
                            [](const std::string& v) { return nlohmann::json(v); },
                            fmt::format("{} ({})", help, fmt::join(choices, ", ")), std::move(missing));
}

ConfigField activation(std::string section, std::string key, std::string flag, Ref<Activation> ref, std::string help) {
  return named<Activation>(std::move(section), std::move(key), std::move(flag), std::move(ref), ad::activation_from_name,
                           [](const Activation& a) { return nlohmann::json(std::string(ad::activation_name(a))); },
                           help + " (" + ad::activation_names() + ")");
}

constexpr Index kMaxWidth = 1 << 16, kMaxDepth = 256;

/// `--finetune`: "lbfgs:ITERS" (ITERS ≥ 1) or "none", stored as the iteration count (0: none).
ConfigField finetune_field() {
  auto from = [](const std::string& text) {
    if (text == "none") return 0;
    constexpr std::string_view prefix = "lbfgs:";
    int iterations = 0;
    const char* first = text.data() + std::min(text.size(), prefix.size());
    const auto [end, ec] = std::from_chars(first, text.data() + text.size(), iterations);
    if (!text.starts_with(prefix) || ec != std::errc() || end != text.data() + text.size() || iterations <= 0)
      throw std::invalid_argument(fmt::format("'{}' is not lbfgs:ITERS with ITERS ≥ 1 (or none)", text));
    return iterations;
  };
  auto to = [](const int& iterations) { return nlohmann::json(iterations > 0 ? fmt::format("lbfgs:{}", iterations) : "none"); };
  return named<int>("finetune", "method", "finetune", [](ExperimentConfig& c) -> int& { return c.finetune.lbfgs_iterations; }, from,
                    to, "full-batch L-BFGS (strong Wolfe) after the epochs: lbfgs:ITERS, or none", "none");
}

/// `--advection-residual`: "c:λ" or "none", as parse_advection_residual reads it.
ConfigField advection_residual_field() {
  return named<AdvectionResidual>("loss", "advection_residual", "advection-residual",
                                  [](ExperimentConfig& c) -> AdvectionResidual& { return c.loss.advection; },
                                  parse_advection_residual, [](const AdvectionResidual& a) { return nlohmann::json(a); },
                                  "add λ·mean (u_t + c·u_x)² at the training points, in physical units (t the first "
                                  "ParameterNet input, x the first coordinate): c:λ, or none",
                                  "none");
}

/// The fields of the model: architecture, case, precision, ShapeNet, ParameterNet, optimizer.
std::vector<ConfigField> model_fields() {
  using C = ExperimentConfig;
  return {
      // Architecture names are the registry's (nif/model.hpp), checked where a model is built.
      named<std::string>("", "architecture", "arch", [](C& c) -> std::string& { return c.architecture; },
                         [](const std::string& n) {
                           if (n.empty()) throw std::invalid_argument("an architecture name is needed");
                           return n;
                         },
                         [](const std::string& n) { return nlohmann::json(n); }, "architecture"),
      choice("", "case", "case", [](C& c) -> std::string& { return c.case_name; }, {"low-frequency", "high-frequency", "custom"},
             "the seed's traveling-wave case; custom with --data"),
      choice("", "precision", "precision", [](C& c) -> std::string& { return c.compute_precision; }, {"auto", "fp32", "fp16", "bf16"},
             "compute precision (fp16/bf16 emulated; auto follows the half_precision defect)", "auto"),
      integer<Index>("shape_net", "input_dim", "", [](C& c) -> Index& { return c.shape_net.input_dim; }, 1, kMaxWidth,
                     "coordinates per point (from the data)"),
      integer<Index>("shape_net", "output_dim", "", [](C& c) -> Index& { return c.shape_net.output_dim; }, 1, kMaxWidth,
                     "fields per point (from the data)"),
      integer<Index>("shape_net", "units", "shape-units", [](C& c) -> Index& { return c.shape_net.units; }, 1, kMaxWidth,
                     "ShapeNet width"),
      integer<Index>("shape_net", "nlayers", "shape-layers", [](C& c) -> Index& { return c.shape_net.nlayers; }, 0, kMaxDepth,
                     "ShapeNet hidden layers (res-blocks with --resblock)"),
      activation("shape_net", "activation", "shape-activation", [](C& c) -> Activation& { return c.shape_net.activation; },
                 "ShapeNet activation; sine makes it a SIREN"),
      real("shape_net", "omega_0", "omega0", [](C& c) -> double& { return c.shape_net.omega0; }, 0, 1e4, true,
           "SIREN frequency ω0 (multiplies x·W, never the bias)"),
      real("shape_net", "weight_init_factor", "weight-init-factor", [](C& c) -> double& { return c.shape_net.weight_init_factor; },
           0, 10, false, "scale of the hypernetwork output weights in the SIREN-aware init"),
      switch_field("shape_net", "use_resblock", "resblock", [](C& c) -> bool& { return c.shape_net.use_resblock; }, true,
                   "SIREN ShapeNet of res-blocks ½(u + sin(·)) (upstream's NIFMultiScale)", nullptr),
      integer<Index>("parameter_net", "input_dim", "", [](C& c) -> Index& { return c.parameter_net.input_dim; }, 1, kMaxWidth,
                     "ParameterNet inputs per point (from the data)"),
      integer<Index>("parameter_net", "latent_dim", "latent-dim", [](C& c) -> Index& { return c.parameter_net.latent_dim; }, 1,
                     kMaxWidth, "ParameterNet bottleneck width r"),
      integer<Index>("parameter_net", "units", "pnet-units", [](C& c) -> Index& { return c.parameter_net.units; }, 1, kMaxWidth,
                     "ParameterNet width"),
      integer<Index>("parameter_net", "nlayers", "pnet-layers", [](C& c) -> Index& { return c.parameter_net.nlayers; }, 0,
                     kMaxDepth, "ParameterNet hidden blocks"),
      activation("parameter_net", "activation", "pnet-activation", [](C& c) -> Activation& { return c.parameter_net.activation; },
                 "ParameterNet activation"),
      switch_field("parameter_net", "use_resblock", "pnet-resblock", [](C& c) -> bool& { return c.parameter_net.use_resblock; },
                   true, "ParameterNet of ResNet blocks instead of Shortcut blocks", nullptr),
      choice("optimizer", "name", "optimizer", [](C& c) -> std::string& { return c.optimizer.name; }, {"adam", "adabelief", "sgd"},
             "first-order optimizer"),
      named<AdamFlavour>("optimizer", "adam_flavour", "adam-flavour", [](C& c) -> AdamFlavour& { return c.optimizer.adam_flavour; },
                         [](const std::string& n) {
                           if (n == "keras") return AdamFlavour::keras;
                           if (n == "pytorch") return AdamFlavour::pytorch;
                           throw std::invalid_argument("unknown value '" + n + "' (expected keras, pytorch)");
                         },
                         [](const AdamFlavour& a) { return nlohmann::json(a == AdamFlavour::keras ? "keras" : "pytorch"); },
                         "where Adam's epsilon sits (keras, pytorch)"),
      boolean("optimizer", "gradient_centralization", "gradient-centralization",
              [](C& c) -> bool& { return c.optimizer.gradient_centralization; }, "AdaBelief gradient centralisation"),
  };
}

/// The fields of training: epochs, batches, seed, threads, logging, schedule, data handling, pruning.
std::vector<ConfigField> training_fields() {
  using C = ExperimentConfig;
  return {
      integer<int>("train", "epochs", "epochs", [](C& c) -> int& { return c.train.epochs; }, 0, 100'000'000, "number of epochs"),
      integer<Index>("train", "batch_size", "batch-size", [](C& c) -> Index& { return c.train.batch_size; }, 1, Index(1) << 40,
                     "points per optimizer step"),
      integer<std::uint64_t>("train", "seed", "seed", [](C& c) -> std::uint64_t& { return c.train.seed; }, 0,
                             std::uint64_t(std::numeric_limits<std::int64_t>::max()), "seed of initialisation and shuffling"),
      integer<int>("train", "threads", "threads", [](C& c) -> int& { return c.train.threads; }, 1, 1024,
                    "worker threads; each batch is split between them"),
      integer<int>("train", "log_every", "log-every", [](C& c) -> int& { return c.train.log_every; }, 1, 100'000'000,
                   "epochs between log lines"),
      integer<int>("train", "checkpoint_every", "checkpoint-every", [](C& c) -> int& { return c.train.checkpoint_every; }, 0,
                   100'000'000, "epochs between numbered checkpoints (0: none)"),
      real("train", "base_lr", "lr", [](C& c) -> double& { return c.train.base_lr; }, 0, 10, true,
           "base learning rate (of every schedule but seed)"),
      choice("train", "schedule", "schedule", [](C& c) -> std::string& { return c.train.schedule; },
             {"seed", "constant", "cosine", "warmup-cosine"}, "learning-rate schedule"),
      choice("train", "normalization", "normalization", [](C& c) -> std::string& { return c.train.normalization; },
             {"auto", "standard", "minmax", "none"}, "data normalisation"),
      // Runs written before an option existed trained as the missing value says.
      switch_field("train", "group_by_params", "no-grouping", [](C& c) -> bool& { return c.train.group_by_params; }, false,
                   "evaluate the ParameterNet per sample, not once per distinct input", true),
      switch_field("train", "flush_subnormals", "keep-subnormals", [](C& c) -> bool& { return c.train.flush_subnormals; }, false,
                   "do not flush subnormal floats to zero (strict IEEE, slower)", false),
      switch_field("train", "balance_threads", "balance-threads", [](C& c) -> bool& { return c.train.balance_threads; }, true,
                   "cut batches by the threads' measured speeds (not bit-for-bit repeatable)", false),
      fraction("train", "prune", "prune", [](C& c) -> double& { return c.train.prune; },
               "magnitude pruning: the target sparsity of the weight matrices (0: none)", 0.0),
      integer<int>("train", "prune_begin", "prune-begin", [](C& c) -> int& { return c.train.prune_begin; }, 0, 100'000'000,
                   "epoch at which pruning starts (sparsity 0 there)", 0),
      integer<int>("train", "prune_end", "prune-end", [](C& c) -> int& { return c.train.prune_end; }, 0, 100'000'000,
                   "epoch by which the target sparsity is reached (cubic schedule between; the mask is held after)", 0),
      choice("train", "prune_scope", "prune-scope", [](C& c) -> std::string& { return c.train.prune_scope; }, {"layer", "global"},
             "magnitude threshold per weight matrix or over all of them", "layer"),
      integer<Index>("train", "memory_budget", "memory-budget", [](C& c) -> Index& { return c.train.memory_budget_mb; }, 0,
                     Index(1) << 30,
                     "MB the training points may take in memory: a larger .npy/.npz file is read in parts, shuffled by "
                     "blocks (0: load it whole)",
                     0),
  };
}

/// The fields of what follows or shapes the first-order training: loss terms, L-BFGS fine-tuning,
/// the preset recipe.
std::vector<ConfigField> refinement_fields() {
  using C = ExperimentConfig;
  return {
      real("loss", "l1", "l1", [](C& c) -> double& { return c.loss.l1; }, 0, 1e6, false, "weight λ of the L1 penalty λ·Σ|θ|", 0.0),
      real("loss", "l2", "l2", [](C& c) -> double& { return c.loss.l2; }, 0, 1e6, false, "weight λ of the L2 penalty λ·Σθ²", 0.0),
      advection_residual_field(),
      integer<Index>("loss", "collocation_points", "collocation-points", [](C& c) -> Index& { return c.loss.collocation_points; },
                     0, 10'000'000,
                     "the advection residual also at N points drawn once from --seed, uniform in the normalised (p, x) "
                     "bounding box of the training data",
                     0),
      real("loss", "jacobian_reg", "jacobian-reg", [](C& c) -> double& { return c.loss.jacobian_reg; }, 0, 1e12, false,
           "weight λ of the latent's Jacobian penalty λ·mean (∂z/∂p)² (upstream's JacRegLatentLayer; hypernetworks only)",
           0.0),
      real("loss", "sobolev_weight", "sobolev-weight", [](C& c) -> double& { return c.loss.sobolev_weight; }, 0, 1e12, false,
           "weight λ of Sobolev training: λ·mean over points, fields o and coordinates j of (∂u_o/∂x_j − its "
           "--derivative-cols column)², both in normalised units",
           0.0),
      finetune_field(),
      choice("finetune", "precision", "finetune-precision", [](C& c) -> std::string& { return c.finetune.precision; },
             {"fp32", "fp64"}, "precision of the L-BFGS fine-tuning (fp64: a double copy of the model)", "fp32"),
      integer<int>("finetune", "history", "lbfgs-history", [](C& c) -> int& { return c.finetune.history; }, 1, 10'000,
                   "(s, y) pairs kept by L-BFGS", 50),
      choice("", "preset", "preset", [](C& c) -> std::string& { return c.preset; }, {"none", "accurate"},
             "start from a recipe's settings (printed; explicit flags override them)", "none"),
  };
}

std::vector<ConfigField> make_experiment_fields() {
  std::vector<ConfigField> fields = model_fields();
  for (ConfigField& f : training_fields()) fields.push_back(std::move(f));
  for (ConfigField& f : refinement_fields()) fields.push_back(std::move(f));
  return fields;
}

}  // namespace

const std::vector<ConfigField>& experiment_fields() {
  static const std::vector<ConfigField> fields = make_experiment_fields();
  return fields;
}

std::vector<std::pair<std::string, std::string>> preset_settings(const std::string& name, std::string_view case_name) {
  if (name == "none") return {};
  // The recipe of issue #15 (README, "Accuracy beyond the seed"): a SIREN ShapeNet with the
  // SIREN-aware hypernetwork init, full-batch Adam under warm-up + cosine, then L-BFGS. The
  // high-frequency wave (three grid points per period) needs the larger ω0 to be found by every
  // seed. On the low-frequency wave a larger ω0 fits the training points as well but oscillates
  // between them (held-out MSE 1e-6 times the training MSE at ω0 = 30); ω0 = 3 interpolates,
  // and converges more slowly, hence its larger rate and longer fine-tuning.
  const bool high = case_name == "high-frequency";
  if (name == "accurate")
    return {{"arch", "nif"},           {"shape-activation", "sine"},  {"omega0", high ? "60" : "3"},
            {"shape-units", "30"},     {"shape-layers", "2"},         {"pnet-units", "30"},
            {"batch-size", "2000"},    {"schedule", "warmup-cosine"}, {"lr", high ? "5e-3" : "1e-2"},
            {"epochs", "3000"},        {"finetune", high ? "lbfgs:2000" : "lbfgs:6000"}, {"finetune-precision", "fp64"},
            {"log-every", "100"},      {"checkpoint-every", "0"}};
  throw std::invalid_argument("unknown preset '" + name + "' (expected none, accurate)");
}

nlohmann::json to_json(const ExperimentConfig& c) {
  nlohmann::json j = nlohmann::json::object();
  for (const ConfigField& f : experiment_fields()) (f.section.empty() ? j : j[f.section])[f.key] = f.get(c);
  nlohmann::json defects = nlohmann::json::object();
  for (const auto& f : kDefectFields) defects[f.name] = c.defects.*f.member;
  j["defects"] = defects;
  j["variant"] = c.variant;
  return j;
}

ExperimentConfig experiment_config_from_json(const nlohmann::json& j) {
  static const nlohmann::json kNoSection = nlohmann::json::object();
  try {
    if (!j.is_object()) throw std::invalid_argument("not a JSON object");
    ExperimentConfig c;
    std::map<std::string, std::vector<std::string>> known{{"", {"defects", "variant"}}};
    for (const ConfigField& f : experiment_fields()) {
      known[f.section].push_back(f.key);
      if (!f.section.empty()) known[""].push_back(f.section);
      // A section written before any of its fields existed is absent altogether.
      const nlohmann::json& section = f.section.empty() ? j : j.contains(f.section) ? j.at(f.section) : kNoSection;
      if (section.contains(f.key))
        f.set(c, section.at(f.key));
      else if (!f.missing.is_null())
        f.set(c, f.missing);
      else
        throw std::invalid_argument("'" + (f.section.empty() ? f.key : f.section + "." + f.key) + "' is missing");
    }
    for (const auto& [section, keys] : known) {
      const nlohmann::json& object = section.empty() ? j : j.contains(section) ? j.at(section) : kNoSection;
      if (!object.is_object()) throw std::invalid_argument("'" + section + "' is not an object");
      for (const auto& [key, value] : object.items())
        if (std::find(keys.begin(), keys.end(), key) == keys.end())
          throw std::invalid_argument("unknown key '" + (section.empty() ? key : section + "." + key) + "'");
    }
    for (const auto& [name, value] : j.at("defects").items()) c.defects.at(name) = value.get<bool>();
    c.variant = j.value("variant", std::map<std::string, double>{});
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("invalid experiment config: ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("invalid experiment config: ") + e.what());
  }
}

}  // namespace nif
