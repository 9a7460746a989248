// nn/text.hpp: figures to a fixed count of significant digits for tables.
#include <doctest/doctest.h>

#include <limits>

#include "nn/text.hpp"

TEST_CASE("significant prints a fixed count of significant digits and keeps trailing zeros") {
  CHECK(nn::significant(13.0, 3) == "13.0");
  CHECK(nn::significant(0.5, 3) == "0.500");
  CHECK(nn::significant(0.563, 3) == "0.563");
  CHECK(nn::significant(0.0995, 3) == "0.0995");
  CHECK(nn::significant(12.14, 3) == "12.1");
  CHECK(nn::significant(7.0, 2) == "7.0");
  CHECK(nn::significant(-2.5, 3) == "-2.50");
}

TEST_CASE("significant counts the digits after rounding, keeps every integer digit and prints 0 and non-finite values") {
  CHECK(nn::significant(9.996, 3) == "10.0");
  CHECK(nn::significant(0.09996, 3) == "0.100");
  CHECK(nn::significant(99.96, 3) == "100");
  CHECK(nn::significant(1234.0, 3) == "1234");
  CHECK(nn::significant(0.0, 3) == "0.00");
  CHECK(nn::significant(std::numeric_limits<double>::quiet_NaN(), 3) == "nan");
  CHECK(nn::significant(std::numeric_limits<double>::infinity(), 3) == "inf");
}
