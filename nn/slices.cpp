#include "nn/slices.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>

namespace nn {

void proportional_cuts(Index n, std::span<const double> speeds, std::span<Index> cuts) {
  const std::size_t k = speeds.size();
  double total = 0;
  bool known = true;
  for (double s : speeds) {
    total += s;
    known = known && s > 0;
  }
  auto share = [&](std::size_t w) { return std::clamp(speeds[w] / total, 0.5 / double(k), 1.5 / double(k)); };
  double clamped = 0;
  if (known)
    for (std::size_t w = 0; w < k; ++w) clamped += share(w);
  double before = 0;  // share of the rows before worker w
  for (std::size_t w = 0; w < k; ++w) {
    // Even slices in exact integers, so the default cut never depends on float rounding.
    cuts[w] = known ? std::clamp(Index(std::llround(before * double(n))), Index{0}, n) : n * Index(w) / Index(k);
    if (known) before += share(w) / clamped;
  }
  cuts[k] = n;
}

void snap_cuts_to_runs(std::span<Index> cuts, std::span<const Index> run_start) {
  const Index n = cuts.back();
  const std::size_t slices = cuts.size() - 1;
  for (std::size_t w = 1; w < slices; ++w) {
    Index& cut = cuts[w];
    const auto next = std::lower_bound(run_start.begin(), run_start.end(), cut);
    Index nearest = *next;
    if (next != run_start.begin() && cut - *std::prev(next) < nearest - cut) nearest = *std::prev(next);
    if (std::abs(nearest - cut) <= n / (16 * Index(slices))) cut = std::max(nearest, cuts[w - 1]);
  }
}

ad::RowGroups slice_runs(std::span<const Index> run_start, Index first, Index count, ad::Arena& arena) {
  const auto begin = std::upper_bound(run_start.begin(), run_start.end(), first) - 1;
  const auto end = std::lower_bound(begin, run_start.end(), first + count);
  const auto runs = std::size_t(end - begin);
  Index* offsets = arena.allocate_array<Index>(runs + 1);
  for (std::size_t r = 0; r < runs; ++r) offsets[r] = std::max(begin[std::ptrdiff_t(r)], first) - first;
  offsets[runs] = count;
  return {offsets, Index(runs)};
}

}  // namespace nn
