// Columns chosen by name: nif::parse_column_list on arbitrary text and ColumnSelection::resolve
// against arbitrary column names (the input's first line, comma-separated; the rest is the
// selection). Each may refuse only with std::invalid_argument, and a name resolves to a column
// of that name.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz/support.hpp"
#include "nif/data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::text(data, size);
  const auto newline = text.find('\n');
  std::vector<std::string> names;
  if (newline != std::string_view::npos)
    fuzz::refused_with<std::invalid_argument>([&] { names = nif::parse_column_list(text.substr(0, newline)); });
  const std::string_view chosen = newline == std::string_view::npos ? text : text.substr(newline + 1);
  nif::ColumnSelection selection;
  if (fuzz::refused_with<std::invalid_argument>([&] { selection.coords = nif::parse_column_list(chosen); })) return 0;
  nif::Columns columns;
  if (fuzz::refused_with<std::invalid_argument>([&] { columns = selection.resolve(names); })) return 0;
  fuzz::require(columns.coords.size() == selection.coords.size(), "one index per selected column");
  for (std::size_t i = 0; i < columns.coords.size(); ++i) {
    const std::string& item = selection.coords[i];
    const bool is_index = item.find_first_not_of("0123456789") == std::string::npos;
    if (!is_index)
      fuzz::require(columns.coords[i] >= 0 && static_cast<std::size_t>(columns.coords[i]) < names.size() &&
                        names[static_cast<std::size_t>(columns.coords[i])] == item,
                    "a name resolves to the column of that name");
  }
  return 0;
}
