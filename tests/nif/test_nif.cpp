// The corrected canonical NIF ("nif"): no seed defect, float32, SIREN-aware init, NIFMultiScale
// res-blocks, and the defaults a user's data gets.

#include <doctest/doctest.h>

#include "support/models.hpp"

using namespace nif;

TEST_CASE("nif carries no seed defect and computes in float32") {
  for (const char* c : {"low-frequency", "high-frequency", "custom"}) {
    CAPTURE(c);
    const ExperimentConfig cfg = architecture("nif").defaults(c);
    CHECK(cfg.defects.active().empty());
    CHECK(cfg.precision() == ad::Precision::fp32);
  }
}

TEST_CASE("nif on a user's data is a SIREN ShapeNet with a schedule that follows --epochs and --lr") {
  const ExperimentConfig cfg = architecture("nif").defaults("custom");
  CHECK(cfg.shape_net.siren());
  CHECK(cfg.train.schedule == "warmup-cosine");
}

TEST_CASE("nif with res-blocks generates two hidden layers per block and is gradient-checked") {
  ExperimentConfig cfg = architecture("nif").defaults("high-frequency");
  cfg.shape_net.use_resblock = true;
  auto [model, params] = testing::bind_model<float>(cfg);
  // D = O = 1, n = 30, L = 2 blocks: 30 + 4·900 + 30 weights, 5·30 + 1 biases.
  CHECK(model->generated().size() == 30 + 4 * 900 + 30 + 5 * 30 + 1);
  ExperimentConfig small = testing::small_config("nif", "high-frequency");
  small.shape_net.use_resblock = true;
  testing::check_model_gradients(small);
}

TEST_CASE("nif's SIREN ShapeNet starts as a standard SIREN: the output bias follows upstream's bounds") {
  auto [model, params] = testing::bind_model<double>(architecture("nif").defaults("high-frequency"));
  const auto& bias = params->entries().back();
  REQUIRE(bias.name == "parameter_net.output.bias");
  const auto b = params->values().segment(bias.offset, bias.size());
  for (const GeneratedTensor& t : model->generated().tensors()) {
    CAPTURE(t.name);
    const double m = b.segment(t.offset, t.size()).cwiseAbs().maxCoeff();
    CHECK(m <= t.init_bound);
    if (t.size() >= 30) CHECK(m > 0.8 * t.init_bound);
  }
}
