#pragma once
// Cutting a batch of rows into one contiguous slice per data-parallel worker.

#include <span>

#include "autodiff/arena.hpp"
#include "autodiff/ops/hyper.hpp"

namespace nn {

using ad::Index;

/// Cuts n rows among workers in proportion to their speeds (rows per second): `cuts` (one more
/// than `speeds`) receives each worker's first row and finally n. Each share is first clamped to
/// [1/2, 3/2] of an even one, then all are rescaled to sum to 1 (so with k workers a share ends
/// within [1/3, 3) of an even one; with 2, within the clamp): one slow measurement cannot starve
/// a worker. Unknown speeds (any <= 0) give even slices, cut in exact integers (n·w/k).
void proportional_cuts(Index n, std::span<const double> speeds, std::span<Index> cuts);

/// Moves each inner cut of `cuts` (from proportional_cuts; n = cuts.back()) to the nearest run
/// boundary in `run_start` (increasing, ending with n) when that moves it by at most n/(16·slices)
/// rows: whole runs per worker keep each run one GEMM instead of two half-size ones (the per-call
/// cost is what two threads would otherwise both pay), unless that unbalances the slices much.
/// Cuts stay non-decreasing.
void snap_cuts_to_runs(std::span<Index> cuts, std::span<const Index> run_start);

/// The runs of `run_start` (increasing, ending with the batch size) that overlap rows
/// [first, first + count), count > 0, as ad::RowGroups relative to `first`, stored in `arena`.
ad::RowGroups slice_runs(std::span<const Index> run_start, Index first, Index count, ad::Arena& arena);

}  // namespace nn
