// What every registered architecture guarantees, checked by iterating the registry: it builds for
// every case, its gradients are right, its generated layout tiles the ParameterNet output, its
// parameters follow the seed, and its declared options have valid defaults.

#include <doctest/doctest.h>

#include "nn/summary.hpp"
#include "support/models.hpp"

using namespace nif;
using testing::bind_model;

namespace {
const char* const kCases[] = {"low-frequency", "high-frequency", "custom"};
}

TEST_CASE("every registered architecture is gradient-checked end to end in double, per sample and grouped") {
  for (const std::string& arch : architecture_names())
    for (const char* c : kCases) {
      CAPTURE(arch);
      CAPTURE(c);
      testing::check_model_gradients(testing::small_config(arch, c));
    }
}

TEST_CASE("every architecture's generated layout tiles the ParameterNet output without gaps") {
  for (const std::string& arch : architecture_names())
    for (const char* c : kCases) {
      CAPTURE(arch);
      CAPTURE(c);
      auto [model, params] = bind_model<float>(architecture(arch).defaults(c));
      Index next = 0;
      for (const GeneratedTensor& t : model->generated().tensors()) {
        CHECK(t.offset == next);
        next += t.size();
      }
      CHECK(next == model->generated().size());
      if (auto* hyper = dynamic_cast<HyperModel<float>*>(model.get())) {
        ad::Tape<float> tape;
        const auto w = hyper->shape_parameters(tape.constant(ad::Matrix<float>::Zero(3, 1)));
        CHECK(w.cols() == model->generated().size());
        CHECK(w.rows() == 3);
      } else {
        CHECK(model->generated().empty());
      }
    }
}

TEST_CASE("every architecture's parameters follow the seed, and its summary counts them") {
  for (const std::string& arch : architecture_names()) {
    CAPTURE(arch);
    const ExperimentConfig cfg = architecture(arch).defaults("low-frequency");
    auto a = bind_model<float>(cfg, 5), b = bind_model<float>(cfg, 5), c = bind_model<float>(cfg, 6);
    CHECK(a.params->values() == b.params->values());
    CHECK(a.params->values() != c.params->values());
    CHECK(a.model->parameter_count() == a.params->size());
    auto dry_run = [&](ad::Tape<float>& tape) {
      a.model->forward(tape.constant(ad::Matrix<float>::Zero(1, 1)), tape.constant(ad::Matrix<float>::Zero(1, 1)));
    };
    CHECK(nn::summary(*a.model, arch, dry_run).find(fmt::format("Total params: {}", fmt::group_digits(a.params->size()))) !=
          std::string::npos);
  }
}

TEST_CASE("every declared variant option has its default in range, and out-of-range values are refused") {
  for (const std::string& arch : architecture_names()) {
    CAPTURE(arch);
    for (const VariantOption& o : architecture(arch).options) {
      CAPTURE(o.name);
      ExperimentConfig cfg = architecture(arch).defaults("low-frequency");
      CHECK(cfg.option(o.name) == o.default_value);
      CHECK_NOTHROW(validate_variant_options(cfg));
      cfg.variant[o.name] = o.max + 1;
      CHECK_THROWS_AS(validate_variant_options(cfg), std::invalid_argument);
    }
    ExperimentConfig cfg = architecture(arch).defaults("low-frequency");
    cfg.variant["no_such_option"] = 1;
    CHECK_THROWS_WITH_AS(validate_variant_options(cfg), ("--no-such-option does not apply to architecture " + arch).c_str(),
                         std::invalid_argument);
  }
}

TEST_CASE("experiment configs of every architecture survive a JSON round trip") {
  for (const std::string& arch : architecture_names()) {
    CAPTURE(arch);
    ExperimentConfig c = architecture(arch).defaults("high-frequency");
    c.train.epochs = 17;
    const ExperimentConfig back = experiment_config_from_json(to_json(c));
    CHECK(to_json(back) == to_json(c));
  }
}
