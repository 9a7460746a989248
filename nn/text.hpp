#pragma once
// Text: lists written as "a,b,c" in flags, config values and CSV lines; numbers for tables.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace nn {

/// The items of `text` between the separators, in order and as written: "a,,b" gives a, "", b;
/// "a," gives a, ""; "" gives one empty item. Callers decide what an empty item means.
inline std::vector<std::string> split(std::string_view text, char separator = ',') {
  std::vector<std::string> items;
  for (;;) {
    const auto at = text.find(separator);
    items.emplace_back(text.substr(0, at));
    if (at == std::string_view::npos) return items;
    text.remove_prefix(at + 1);
  }
}

/// `value` in fixed notation to `digits` (≥ 1) significant digits, trailing zeros kept, so that a
/// column of figures shows its precision alike: 13 is "13.0", 0.5 is "0.500", 0.0995 "0.0995"
/// (digits 3). A value with more integer digits keeps them all ("1234"); 0 is "0.00".
inline std::string significant(double value, int digits) {
  if (value == 0 || !std::isfinite(value)) return fmt::format("{:.{}f}", value, digits - 1);
  // The exponent after rounding to `digits` digits: 9.996 becomes 10.0, not 10.00.
  const std::string scientific = fmt::format("{:.{}e}", value, digits - 1);
  const int exponent = std::stoi(scientific.substr(scientific.find('e') + 1));
  return fmt::format("{:.{}f}", value, std::max(digits - 1 - exponent, 0));
}

}  // namespace nn
