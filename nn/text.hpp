#pragma once
// Lists written as text: "a,b,c" in flags, config values and CSV lines.

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

}  // namespace nn
