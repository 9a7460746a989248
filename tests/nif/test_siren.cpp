// The "siren" baseline: Sitzmann's SIREN on (p, x) with NIF's ω0 convention sin(ω0·(s·W) + b).

#include <doctest/doctest.h>

#include <cmath>

#include "support/dense_reference.hpp"
#include "support/models.hpp"

using namespace nif;
using testing::random_matrix;

namespace {
/// max |value| of buffer entry k.
double max_abs(const ad::ParameterBuffer<double>& params, std::size_t k) {
  const auto& e = params.entries()[k];
  return params.values().segment(e.offset, e.size()).cwiseAbs().maxCoeff();
}
}  // namespace

TEST_CASE("siren computes sin(ω0·(s·W) + b) layers, ω0 not on the bias as in NIF's ShapeNet, then a linear layer") {
  ExperimentConfig cfg = testing::small_config("siren", "custom");  // ω0 = 1.5
  auto [model, params] = testing::bind_model<double>(cfg);
  params->values() = random_matrix(params->size(), 1, 51, -0.8, 0.8);
  const ad::Matrix<double> p = random_matrix(1, 2, 52), x = random_matrix(1, 2, 53);
  ad::Tape<double> tape;
  const double u = model->forward(tape.constant(p), tape.constant(x)).value()(0, 0);
  const auto ref = testing::reference_dense_stack(*params, {p(0, 0), p(0, 1), x(0, 0), x(0, 1)},
                                                  [](double a) { return std::sin(a); }, 1.5);
  CHECK(u == doctest::Approx(ref[0]).epsilon(1e-12));
}

TEST_CASE("siren at the seed's width and depth has 1,981 trainable parameters, ω0 = 30, and generates none") {
  for (const char* c : {"low-frequency", "high-frequency", "custom"}) {
    CAPTURE(c);
    auto [model, params] = testing::bind_model<float>(architecture("siren").defaults(c));
    CHECK(model->parameter_count() == 1981);
    CHECK(model->config().shape_net.omega0 == 30);
    CHECK(model->generated().empty());
  }
}

TEST_CASE("siren follows Sitzmann's init: first layer U(±1/fan_in), the others U(±√(6/fan_in)/ω0)") {
  for (double omega0 : {30.0, 10.0}) {
    CAPTURE(omega0);
    ExperimentConfig cfg = architecture("siren").defaults("low-frequency");
    cfg.shape_net.omega0 = omega0;
    auto [model, params] = testing::bind_model<double>(cfg);
    REQUIRE(params->entries()[0].name == "net.first.weight");
    REQUIRE(params->entries()[6].name == "net.last.weight");
    const double first = 1.0 / 2, other = std::sqrt(6.0 / 30) / omega0;
    CHECK(max_abs(*params, 0) <= first);
    CHECK(max_abs(*params, 0) > 0.8 * first);
    for (std::size_t k : {2, 4, 6}) {
      CAPTURE(params->entries()[k].name);
      CHECK(max_abs(*params, k) <= other);
      CHECK(max_abs(*params, k) > 0.8 * other);
    }
    for (std::size_t k : {1, 3, 5, 7}) CHECK(max_abs(*params, k) <= 1 / std::sqrt(double(params->entries()[k - 1].rows)));
  }
}

TEST_CASE("siren refuses an activation other than sine") {
  ExperimentConfig cfg = architecture("siren").defaults("custom");
  cfg.shape_net.activation = Activation::tanh;
  CHECK_THROWS_AS(make_model<float>(cfg), std::invalid_argument);
}
