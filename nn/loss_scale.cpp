#include "nn/loss_scale.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace nn {

bool LossScale::update(bool finite) {
  if (!finite) {
    scale = std::max(1.0, scale / 2);
    good_steps = 0;
    ++skipped_steps;
    return false;
  }
  if (++good_steps == 2000) {
    scale *= 2;
    good_steps = 0;
  }
  return true;
}

nlohmann::json LossScale::to_json() const {
  return {{"scale", scale}, {"good_steps", good_steps}, {"skipped_steps", skipped_steps}};
}

LossScale LossScale::from_json(const nlohmann::json& json) {
  LossScale s;
  s.scale = json.at("scale").get<double>();
  s.good_steps = json.at("good_steps").get<int>();
  s.skipped_steps = json.at("skipped_steps").get<std::int64_t>();
  if (!(s.scale >= 1 && std::isfinite(s.scale))) throw std::invalid_argument("the loss scale must be finite and at least 1");
  return s;
}

}  // namespace nn
