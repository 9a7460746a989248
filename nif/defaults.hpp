#pragma once
// The defaults the corrected (non-faithful) architectures share.

#include <string>
#include <string_view>
#include <utility>

#include "nif/model.hpp"

namespace nif {

/// seed_case_config with the corrected choices of a new architecture: PyTorch's Adam; on a user's
/// data ("custom") a SIREN ShapeNet and a schedule that follows --epochs and --lr (warm-up + cosine
/// from 1e-3).
inline ExperimentConfig corrected_case_config(std::string_view case_name, std::string architecture) {
  ExperimentConfig c = seed_case_config(case_name);
  c.architecture = std::move(architecture);
  c.optimizer.adam_flavour = AdamFlavour::pytorch;
  if (case_name == "custom") {
    c.shape_net.activation = Activation::sin;
    c.train.schedule = "warmup-cosine";
    c.train.base_lr = 1e-3;
  }
  return c;
}

}  // namespace nif
