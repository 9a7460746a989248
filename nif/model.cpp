#include "nif/model.hpp"

#include <map>
#include <stdexcept>

namespace nif {

namespace {
// Function-local so registrars in other translation units can run in any order.
std::map<std::string, Architecture, std::less<>>& registry() {
  static std::map<std::string, Architecture, std::less<>> r;
  return r;
}
}  // namespace

void register_architecture(Architecture arch) {
  const std::string name = arch.name;
  if (!registry().emplace(name, std::move(arch)).second)
    throw std::logic_error("architecture '" + name + "' registered twice");
}

const Architecture& architecture(std::string_view name) {
  const auto it = registry().find(name);
  if (it == registry().end()) {
    std::string known;
    for (const auto& n : architecture_names()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown architecture '" + std::string(name) + "' (expected one of: " + known + ")");
  }
  return it->second;
}

std::vector<std::string> architecture_names() {
  std::vector<std::string> names;
  for (const auto& [name, arch] : registry()) names.push_back(name);
  return names;
}

ExperimentConfig seed_case_config(std::string_view case_name) {
  ExperimentConfig c;
  c.case_name = std::string(case_name);
  if (case_name == "low-frequency") {
    c.shape_net.activation = Activation::swish;
  } else if (case_name == "high-frequency") {
    c.shape_net.activation = Activation::sin;
    c.shape_net.omega0 = 30;
    c.shape_net.weight_init_factor = 0.01;
  } else {
    throw std::invalid_argument("unknown case '" + std::string(case_name) +
                                "' (expected low-frequency or high-frequency)");
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
