#include "nif/config.hpp"

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

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

Activation activation_from_json(const nlohmann::json& j) { return ad::activation_from_name(j.get<std::string>()); }

/// j[key] as the integer type T. Refuses (std::invalid_argument) anything but a JSON integer in
/// T's range: get<T> would wrap such integers, and converting an out-of-range float is undefined.
template <class T>
T integer_at(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = j.at(key);
  if (v.is_number_unsigned() && std::in_range<T>(v.get<std::uint64_t>())) return static_cast<T>(v.get<std::uint64_t>());
  if (v.is_number_integer() && !v.is_number_unsigned() && std::in_range<T>(v.get<std::int64_t>()))
    return static_cast<T>(v.get<std::int64_t>());
  throw std::invalid_argument("invalid experiment config: '" + std::string(key) + "' must be an integer from " +
                              std::to_string(std::numeric_limits<T>::min()) + " to " +
                              std::to_string(std::numeric_limits<T>::max()));
}

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
  throw std::invalid_argument("unknown defect '" + name + "' (expected all, " + join(names()) + ")");
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

nlohmann::json to_json(const ExperimentConfig& c) {
  nlohmann::json defects = nlohmann::json::object();
  for (const auto& f : kDefectFields) defects[f.name] = c.defects.*f.member;
  const auto& s = c.shape_net;
  const auto& p = c.parameter_net;
  const auto& t = c.train;
  return {
      {"architecture", c.architecture},
      {"case", c.case_name},
      {"precision", c.compute_precision},
      {"shape_net",
       {{"input_dim", s.input_dim}, {"output_dim", s.output_dim}, {"units", s.units}, {"nlayers", s.nlayers},
        {"activation", ad::activation_name(s.activation)}, {"omega_0", s.omega0},
        {"weight_init_factor", s.weight_init_factor}, {"use_resblock", s.use_resblock}}},
      {"parameter_net",
       {{"input_dim", p.input_dim}, {"latent_dim", p.latent_dim}, {"units", p.units}, {"nlayers", p.nlayers},
        {"activation", ad::activation_name(p.activation)}, {"use_resblock", p.use_resblock}}},
      {"defects", defects},
      {"optimizer",
       {{"name", c.optimizer.name},
        {"adam_flavour", c.optimizer.adam_flavour == AdamFlavour::keras ? "keras" : "pytorch"},
        {"gradient_centralization", c.optimizer.gradient_centralization}}},
      {"train",
       {{"epochs", t.epochs}, {"batch_size", t.batch_size}, {"seed", t.seed}, {"threads", t.threads},
        {"log_every", t.log_every}, {"checkpoint_every", t.checkpoint_every}, {"base_lr", t.base_lr},
        {"schedule", t.schedule}, {"normalization", t.normalization}, {"group_by_params", t.group_by_params},
        {"flush_subnormals", t.flush_subnormals}, {"balance_threads", t.balance_threads}}},
  };
}

ExperimentConfig experiment_config_from_json(const nlohmann::json& j) {
  try {
    ExperimentConfig c;
    c.architecture = j.at("architecture").get<std::string>();
    c.case_name = j.at("case").get<std::string>();
    c.compute_precision = j.value("precision", std::string("auto"));
    c.precision();  // validates the name
    const auto& s = j.at("shape_net");
    c.shape_net = {integer_at<Index>(s, "input_dim"),  integer_at<Index>(s, "output_dim"),
                   integer_at<Index>(s, "units"),      integer_at<Index>(s, "nlayers"),
                   activation_from_json(s.at("activation")), s.at("omega_0").get<double>(),
                   s.at("weight_init_factor").get<double>(), s.at("use_resblock").get<bool>()};
    const auto& p = j.at("parameter_net");
    c.parameter_net = {integer_at<Index>(p, "input_dim"), integer_at<Index>(p, "latent_dim"),
                       integer_at<Index>(p, "units"), integer_at<Index>(p, "nlayers"), activation_from_json(p.at("activation")),
                       p.at("use_resblock").get<bool>()};
    for (const auto& [name, value] : j.at("defects").items()) c.defects.at(name) = value.get<bool>();
    const auto& o = j.at("optimizer");
    c.optimizer.name = o.at("name").get<std::string>();
    const auto flavour = o.at("adam_flavour").get<std::string>();
    if (flavour != "keras" && flavour != "pytorch") throw std::invalid_argument("adam_flavour must be keras or pytorch");
    c.optimizer.adam_flavour = flavour == "keras" ? AdamFlavour::keras : AdamFlavour::pytorch;
    c.optimizer.gradient_centralization = o.at("gradient_centralization").get<bool>();
    const auto& t = j.at("train");
    c.train = {integer_at<int>(t, "epochs"),           integer_at<Index>(t, "batch_size"),
               integer_at<std::uint64_t>(t, "seed"),  integer_at<int>(t, "threads"),
               integer_at<int>(t, "log_every"),        integer_at<int>(t, "checkpoint_every"),
               t.at("base_lr").get<double>(),     t.at("schedule").get<std::string>(),
               t.at("normalization").get<std::string>(), t.value("group_by_params", true),
               // Runs written before the option existed trained without flushing.
               t.value("flush_subnormals", false), t.value("balance_threads", false)};
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("invalid experiment config: ") + e.what());
  }
}

}  // namespace nif
