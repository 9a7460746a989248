#pragma once
// A Keras-style model summary: one row per layer with its output shape and parameter count.

#include <fmt/format.h>

#include <string>

#include "nn/module.hpp"

namespace nn {

namespace detail {
template <class T>
void summary_rows(const Module<T>& m, const OutputProbe<T>& widths, const std::string& name, std::string& out) {
  Index own = m.parameter_count();
  for (const auto& [child_name, child] : m.children()) own -= child->parameter_count();
  const Index cols = widths.width(m);
  const std::string shape = cols > 0 ? fmt::format("(batch, {})", cols) : "-";
  // Containers whose children hold every parameter are listed through their children only.
  if (m.children().empty() || own > 0)
    out += fmt::format("{:<36} {:<14} {:<16} {:>10}\n", name, m.type_name(), shape, fmt::group_digits(own));
  for (const auto& [child_name, child] : m.children())
    summary_rows(*child, widths, name.empty() ? child_name : name + "." + child_name, out);
}
}  // namespace detail

/// The summary table of `root`. Output shapes come from a dry run: `forward(tape)` runs `root`
/// once on a fresh tape without gradients (a one-row input is enough), observed by an OutputProbe.
template <class T, class F>
std::string summary(const Module<T>& root, const std::string& title, F&& forward) {
  OutputProbe<T> widths;
  {
    ad::Tape<T> tape;
    ad::NoGradGuard<T> guard(tape);
    forward(tape);
  }
  const std::string rule(79, '-');
  std::string out = fmt::format("{}\n{}\n{:<36} {:<14} {:<16} {:>10}\n{}\n", title, rule, "Layer", "Type", "Output shape",
                                "Params", rule);
  detail::summary_rows(root, widths, std::string(), out);
  const Index total = root.parameter_count();
  out += fmt::format("{}\nTotal params: {} ({:.2f} KB as float32)\n", rule, fmt::group_digits(total),
                     double(total) * 4 / 1024);
  return out;
}

}  // namespace nn
