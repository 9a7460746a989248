#include "nif/batch_planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <stdexcept>

#include "nn/slices.hpp"

namespace nif {

InputGroups InputGroups::find(const ad::Matrix<float>& params) {
  std::map<std::vector<float>, Index> ids;
  std::vector<Index> first_row;
  InputGroups g;
  g.group_of.resize(static_cast<std::size_t>(params.rows()));
  for (Index i = 0; i < params.rows(); ++i) {
    // Points of one snapshot usually follow each other: only a change of input needs the map.
    if (i > 0 && params.row(i) == params.row(i - 1)) {
      g.group_of[static_cast<std::size_t>(i)] = g.group_of[static_cast<std::size_t>(i - 1)];
      continue;
    }
    std::vector<float> key(params.row(i).begin(), params.row(i).end());
    const auto [it, inserted] = ids.emplace(std::move(key), Index(ids.size()));
    if (inserted) first_row.push_back(i);
    g.group_of[static_cast<std::size_t>(i)] = it->second;
  }
  if (4 * Index(first_row.size()) > params.rows()) return {};
  g.inputs.resize(Index(first_row.size()), params.cols());
  for (std::size_t k = 0; k < first_row.size(); ++k) g.inputs.row(Index(k)) = params.row(first_row[k]);
  return g;
}

ad::RowGroups BatchPlan::runs(Index first, Index count, ad::Arena& arena) const {
  return run_start.empty() ? ad::RowGroups{} : nn::slice_runs(run_start, first, count, arena);
}

BatchPlanner::BatchPlanner(Index data_size, InputGroups groups, int slices, std::vector<Index> rows)
    : data_size_(data_size), groups_(std::move(groups)), rows_(std::move(rows)) {
  if (slices < 1) throw std::invalid_argument("a batch must be cut into at least one slice");
  if (!groups_.empty() && Index(groups_.group_of.size()) != data_size)
    throw std::invalid_argument("the input groups do not cover the data");
  if (rows_.empty()) {
    rows_.resize(static_cast<std::size_t>(data_size));
    std::iota(rows_.begin(), rows_.end(), Index{0});
  }
  for (Index i : rows_)
    if (i < 0 || i >= data_size) throw std::invalid_argument(fmt::format("row {} is not in the data", i));
  order_.resize(rows_.size());
  cuts_.resize(static_cast<std::size_t>(slices) + 1);
  if (!groups_.empty()) {
    group_start_.resize(std::size_t(groups_.inputs.rows()) + 1);
    run_start_.reserve(std::size_t(groups_.inputs.rows()) + 1);
  }
}

void BatchPlanner::shuffle(nn::Rng& rng) {
  std::copy(rows_.begin(), rows_.end(), order_.begin());
  rng.shuffle(order_);
}

std::span<const Index> BatchPlanner::ordered(Index first, Index count) const {
  return std::span<const Index>(order_).subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(count));
}

std::span<const Index> BatchPlanner::group_rows(std::span<const Index> batch) {
  auto group = [&](Index row) { return static_cast<std::size_t>(groups_.group_of[static_cast<std::size_t>(row)]); };
  // Stable counting sort by group: the given order is kept inside each group.
  std::vector<Index>& start = group_start_;
  std::fill(start.begin(), start.end(), Index{0});
  for (Index i : batch) ++start[group(i) + 1];
  for (std::size_t g = 1; g < start.size(); ++g) start[g] += start[g - 1];
  run_start_.clear();
  for (std::size_t g = 0; g + 1 < start.size(); ++g)
    if (start[g + 1] > start[g]) run_start_.push_back(start[g]);
  run_start_.push_back(Index(batch.size()));
  sorted_.resize(std::max(sorted_.size(), batch.size()));  // allocates only for a larger batch than before
  for (Index i : batch) sorted_[static_cast<std::size_t>(start[group(i)]++)] = i;
  return {sorted_.data(), batch.size()};
}

BatchPlan BatchPlanner::plan(std::span<const Index> batch, std::span<const double> speeds) {
  if (batch.empty()) throw std::invalid_argument("a batch needs at least one row");
  for (Index i : batch)
    if (i < 0 || i >= data_size_) throw std::invalid_argument(fmt::format("row {} is not in the data", i));
  if (speeds.size() + 1 != cuts_.size())
    throw std::invalid_argument(fmt::format("{} speeds for {} slices", speeds.size(), cuts_.size() - 1));
  const std::span<const Index> rows = groups_.empty() ? batch : group_rows(batch);
  nn::proportional_cuts(Index(rows.size()), speeds, cuts_);
  if (!groups_.empty()) nn::snap_cuts_to_runs(cuts_, run_start_);
  return {rows, cuts_, groups_.empty() ? std::span<const Index>{} : std::span<const Index>(run_start_)};
}

}  // namespace nif
