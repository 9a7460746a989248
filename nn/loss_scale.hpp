#pragma once
// Dynamic loss scaling for training in a reduced float precision.

#include <nlohmann/json.hpp>

#include <cstdint>

namespace nn {

/// Keras' dynamic loss scaling (LossScaleOptimizer) for emulated float16: the loss is multiplied
/// by `scale` before backward; a step whose gradients are not finite is skipped and halves the
/// scale (never below 1); 2000 finite steps in a row double it.
struct LossScale {
  double scale = 32768;
  int good_steps = 0;
  std::int64_t skipped_steps = 0;

  /// Records one step's outcome; returns whether the step may be applied.
  bool update(bool finite);

  /// {"scale", "good_steps", "skipped_steps"}.
  nlohmann::json to_json() const;
  /// Reads to_json(). Throws nlohmann::json::exception for missing or mistyped fields and
  /// std::invalid_argument for a scale that is not finite or below 1 (a step unscales before it
  /// checks finiteness, which decides the same as checking the scaled gradient only when scale >= 1).
  static LossScale from_json(const nlohmann::json& json);
};

}  // namespace nn
