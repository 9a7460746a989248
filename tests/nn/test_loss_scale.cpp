#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "nn/loss_scale.hpp"

TEST_CASE("a non-finite step is refused and halves the loss scale, never below 1") {
  nn::LossScale s{4, 7, 0};
  CHECK_FALSE(s.update(false));
  CHECK(s.scale == 2);
  CHECK(s.good_steps == 0);
  CHECK(s.skipped_steps == 1);
  CHECK_FALSE(s.update(false));
  CHECK_FALSE(s.update(false));
  CHECK(s.scale == 1);
  CHECK(s.skipped_steps == 3);
}

TEST_CASE("2000 finite steps in a row double the loss scale") {
  nn::LossScale s;
  for (int i = 0; i < 1999; ++i) REQUIRE(s.update(true));
  CHECK(s.scale == 32768);
  CHECK(s.update(true));
  CHECK(s.scale == 65536);
  CHECK(s.good_steps == 0);
  // A skipped step restarts the count.
  for (int i = 0; i < 1000; ++i) s.update(true);
  s.update(false);
  for (int i = 0; i < 1999; ++i) s.update(true);
  CHECK(s.scale == 32768);
}

TEST_CASE("the loss scale survives its JSON form and refuses a scale below 1 or not finite") {
  const nn::LossScale s{1024, 17, 3};
  const nn::LossScale back = nn::LossScale::from_json(s.to_json());
  CHECK(back.scale == s.scale);
  CHECK(back.good_steps == s.good_steps);
  CHECK(back.skipped_steps == s.skipped_steps);
  for (const double bad : {0.5, 0.0, -2.0, std::numeric_limits<double>::infinity()}) {
    nlohmann::json j = s.to_json();
    j["scale"] = bad;
    CHECK_THROWS_AS(nn::LossScale::from_json(j), std::invalid_argument);
  }
  nlohmann::json missing = s.to_json();
  missing.erase("good_steps");
  CHECK_THROWS_AS(nn::LossScale::from_json(missing), nlohmann::json::exception);
}
