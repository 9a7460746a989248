#pragma once
// Which rows go into which batch, in which order, and which worker takes which of them.

#include <span>
#include <vector>

#include "autodiff/ops/hyper.hpp"
#include "nif/data.hpp"
#include "nn/random.hpp"

namespace nif {

/// Samples sharing a ParameterNet input (e.g. all points of one snapshot) are evaluated as one
/// group: the ParameterNet runs once per distinct input and each hyper layer is a GEMM per group.
struct InputGroups {
  std::vector<Index> group_of;  ///< group of every data row; empty: no grouping
  ad::Matrix<float> inputs;     ///< group g's ParameterNet input in row g

  bool empty() const { return group_of.empty(); }
  /// The ParameterNet input shared by data row `row`'s group.
  auto input_of(Index row) const { return inputs.row(group_of[static_cast<std::size_t>(row)]); }
  /// The distinct rows of `params` (exact comparison), numbered in order of first appearance;
  /// none when more than a quarter of the rows are distinct (grouping then costs more than it saves).
  static InputGroups find(const ad::Matrix<float>& params);
};

/// A batch ready for the workers; views into the planner, valid until its next plan().
struct BatchPlan {
  std::span<const Index> rows;       ///< the batch's data rows in slice order
  std::span<const Index> cuts;       ///< slice w is rows [cuts[w], cuts[w+1]) of `rows`
  std::span<const Index> run_start;  ///< grouped: each run's first row in `rows`, then rows.size()

  /// The runs of one input overlapping rows [first, first + count), count > 0, relative to
  /// `first` and stored in `arena`; none when the batch is not grouped.
  ad::RowGroups runs(Index first, Index count, ad::Arena& arena) const;
};

/// Plans the batches of an epoch: the order of the rows, their runs of equal ParameterNet input,
/// and one contiguous slice per worker, cut at run boundaries where that keeps the slices
/// balanced. A data source plugs in through the constructor alone: the rows it offers (all of
/// the data, a training split, a shard) and the groups of its ParameterNet inputs. Nothing is
/// allocated per batch once the largest batch has been planned.
class BatchPlanner {
 public:
  /// Batches draw from `rows` (indices below `data_size`; empty: all of them), cut into `slices`
  /// slices (>= 1). `groups` is InputGroups::find of the data, or empty.
  BatchPlanner(Index data_size, InputGroups groups, int slices, std::vector<Index> rows = {});

  /// The number of rows an epoch draws.
  Index rows() const { return Index(rows_.size()); }
  const InputGroups& groups() const { return groups_; }

  /// Draws the epoch's order of the rows from `rng`. The order depends only on the RNG state, so
  /// a resumed run reorders identically.
  void shuffle(nn::Rng& rng);
  /// Rows [first, first + count) of the epoch's order.
  std::span<const Index> ordered(Index first, Index count) const;

  /// Orders `batch` into runs of one ParameterNet input (stable, so the given order is kept in
  /// each run) and cuts it in proportion to `speeds` (one per slice, rows/s; any <= 0: even
  /// slices, see nn::proportional_cuts). Throws std::invalid_argument when `batch` is empty or
  /// names a row outside the data.
  BatchPlan plan(std::span<const Index> batch, std::span<const double> speeds);

 private:
  /// Counting sort of `batch` by group into sorted_, with the runs in run_start_.
  std::span<const Index> group_rows(std::span<const Index> batch);

  Index data_size_;
  InputGroups groups_;
  std::vector<Index> rows_, order_;
  std::vector<Index> group_start_, run_start_, sorted_, cuts_;  ///< per-batch scratch
};

}  // namespace nif
