// Learning-rate schedules: the seed study's piecewise schedule and the endpoints of warm-up,
// step decay and cosine decay.

#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <stdexcept>

#include "nn/optim.hpp"
#include "nn/schedule.hpp"

TEST_CASE("seed schedule: 1e-4, then 1e-3 from epoch 1000, 5e-4 from 2000, 1e-4 from 4000") {
  const nn::PiecewiseConstant s = nn::seed_schedule();
  CHECK(s.at(0) == 1e-4);
  CHECK(s.at(999) == 1e-4);
  CHECK(s.at(999.75) == 1e-4);
  CHECK(s.at(1000) == 1e-3);
  CHECK(s.at(1999) == 1e-3);
  CHECK(s.at(2000) == 5e-4);
  CHECK(s.at(3999) == 5e-4);
  CHECK(s.at(4000) == 1e-4);
  CHECK(s.at(4999) == 1e-4);
}

TEST_CASE("piecewise constant rejects malformed pieces") {
  CHECK_THROWS_AS(nn::PiecewiseConstant({}), std::invalid_argument);
  CHECK_THROWS_AS(nn::PiecewiseConstant({{1.0, 1e-3}}), std::invalid_argument);
  CHECK_THROWS_AS(nn::PiecewiseConstant({{0.0, 1e-3}, {10.0, 1e-4}, {10.0, 1e-5}}), std::invalid_argument);
  CHECK_THROWS_AS(nn::PiecewiseConstant({{0.0, -1e-3}}), std::invalid_argument);
}

TEST_CASE("linear warm-up ramps the wrapped schedule from start_factor to 1") {
  const auto inner = std::make_shared<nn::StepDecay>(1e-3, 0.5, 100.0);
  const nn::LinearWarmup warm(inner, 10.0);
  CHECK(warm.at(0) == 0.0);
  CHECK(warm.at(5) == doctest::Approx(0.5e-3).epsilon(1e-12));
  CHECK(warm.at(10) == 1e-3);
  CHECK(warm.at(250) == inner->at(250));
  const nn::LinearWarmup from_tenth(std::make_shared<nn::Constant>(2e-3), 4.0, 0.1);
  CHECK(from_tenth.at(0) == doctest::Approx(2e-4).epsilon(1e-12));
  CHECK(from_tenth.at(2) == doctest::Approx(1.1e-3).epsilon(1e-12));
  CHECK(from_tenth.at(4) == 2e-3);
  CHECK_THROWS_AS(nn::LinearWarmup(nullptr, 4.0), std::invalid_argument);
  CHECK_THROWS_AS(nn::LinearWarmup(inner, 0.0), std::invalid_argument);
}

TEST_CASE("step decay multiplies by gamma every step_epochs") {
  const nn::StepDecay s(1e-2, 0.1, 30.0);
  CHECK(s.at(0) == 1e-2);
  CHECK(s.at(29) == 1e-2);
  CHECK(s.at(30) == doctest::Approx(1e-3).epsilon(1e-12));
  CHECK(s.at(89) == doctest::Approx(1e-4).epsilon(1e-12));
  CHECK(s.at(90) == doctest::Approx(1e-5).epsilon(1e-12));
  CHECK_THROWS_AS(nn::StepDecay(1e-2, 0.1, 0.0), std::invalid_argument);
}

TEST_CASE("cosine decay runs from lr0 to lr_min and stays there") {
  const nn::CosineDecay s(1e-3, 1e-5, 100.0);
  CHECK(s.at(0) == 1e-3);
  CHECK(s.at(50) == doctest::Approx(0.5 * (1e-3 + 1e-5)).epsilon(1e-12));
  CHECK(s.at(25) > s.at(50));
  CHECK(s.at(100) == 1e-5);
  CHECK(s.at(1000) == 1e-5);
  CHECK(std::abs(s.at(99.999) - 1e-5) < 1e-12);
}

TEST_CASE("schedules reject negative or non-finite epochs") {
  CHECK_THROWS_AS(nn::seed_schedule().at(-1), std::invalid_argument);
  CHECK_THROWS_AS(nn::Constant(1e-3).at(std::nan("")), std::invalid_argument);
}

TEST_CASE("a schedule drives an optimizer's learning rate") {
  ad::ParameterBuffer<double> p;
  p.add("b", 1, 1, false);
  auto opt = nn::make_optimizer("sgd", p, {.learning_rate = 1.0});
  const nn::PiecewiseConstant schedule = nn::seed_schedule();
  p.grads()[0] = 1.0;
  for (const double epoch : {0.0, 1000.0, 2000.0, 4000.0}) {
    opt->set_learning_rate(schedule.at(epoch));
    opt->step();
  }
  CHECK(opt->learning_rate() == 1e-4);
  CHECK(p.values()[0] == doctest::Approx(-(1e-4 + 1e-3 + 5e-4 + 1e-4)).epsilon(1e-12));
}
