#include "nif/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace nif {

namespace {
// Function-local so registrars in other translation units can run in any order.
std::map<std::string, Architecture, std::less<>>& registry() {
  static std::map<std::string, Architecture, std::less<>> r;
  return r;
}

std::string flag_of(const std::string& name) {
  std::string flag = name;
  for (char& c : flag)
    if (c == '_') c = '-';
  return "--" + flag;
}
}  // namespace

void register_architecture(Architecture arch) {
  const std::string name = arch.name;
  arch.defaults = [defaults = std::move(arch.defaults), options = arch.options](std::string_view case_name) {
    ExperimentConfig c = defaults(case_name);
    for (const VariantOption& o : options) c.variant.try_emplace(o.name, o.default_value);
    return c;
  };
  if (!registry().emplace(name, std::move(arch)).second)
    throw std::logic_error("architecture '" + name + "' registered twice");
}

const Architecture& architecture(std::string_view name) {
  const auto it = registry().find(name);
  if (it == registry().end())
    throw std::invalid_argument("unknown architecture '" + std::string(name) + "' (expected one of: " + architecture_list() +
                                "; or all, faithful, hypernetwork, baseline where a list is taken)");
  return it->second;
}

std::vector<std::string> architecture_names() {
  std::vector<std::string> names;
  for (const auto& [name, arch] : registry()) names.push_back(name);
  return names;
}

std::vector<std::string> expand_architectures(const std::vector<std::string>& items) {
  std::vector<std::string> names;
  auto add = [&](const std::string& n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  for (const std::string& item : items) {
    bool matched = false;
    for (const auto& [name, arch] : registry())
      if (item == "all" || item == arch.family) {
        add(name);
        matched = true;
      }
    if (!matched) add(architecture(item).name);
  }
  return names;
}

std::string architecture_list() { return fmt::format("{}", fmt::join(architecture_names(), ", ")); }

void validate_variant_options(const ExperimentConfig& cfg) {
  const Architecture& arch = architecture(cfg.architecture);
  for (const auto& [name, value] : cfg.variant) {
    const auto it = std::find_if(arch.options.begin(), arch.options.end(), [&](const auto& o) { return o.name == name; });
    if (it == arch.options.end())
      throw std::invalid_argument(fmt::format("{} does not apply to architecture {}", flag_of(name), cfg.architecture));
    if (!(value >= it->min && value <= it->max) || (it->integer && value != std::floor(value)))
      throw std::invalid_argument(fmt::format("{} must be {} from {} to {} (got {})", flag_of(it->name),
                                              it->integer ? "an integer" : "a number", it->min, it->max, value));
  }
  for (const VariantOption& o : arch.options)
    if (!cfg.variant.contains(o.name))
      throw std::invalid_argument(fmt::format("architecture {} needs {} ({})", cfg.architecture, flag_of(o.name), o.help));
}

ExperimentConfig seed_case_config(std::string_view case_name) {
  ExperimentConfig c;
  c.case_name = std::string(case_name);
  if (case_name == "low-frequency" || case_name == "custom") {
    c.shape_net.activation = Activation::swish;
  } else if (case_name == "high-frequency") {
    c.shape_net.activation = Activation::sin;
    c.shape_net.omega0 = 30;
    c.shape_net.weight_init_factor = 0.01;
  } else {
    throw std::invalid_argument("unknown case '" + std::string(case_name) +
                                "' (expected low-frequency, high-frequency, or custom with --data)");
  }
  return c;
}

ExperimentConfig seed_port_config(std::string_view case_name) {
  ExperimentConfig c = seed_case_config(case_name);
  c.defects.aliased_last_bias = !c.shape_net.siren();
  c.defects.missing_last_bias = c.shape_net.siren();
  c.defects.plain_output_init = c.shape_net.siren();
  return c;
}

}  // namespace nif
