#pragma once
// Held-out evaluation: which points of a dataset are kept out of training (`--holdout SPEC`),
// and the snapshots (distinct ParameterNet inputs) that several of the forms are defined on.

#include <string>
#include <string_view>
#include <vector>

#include "nif/data.hpp"

namespace nif {

enum class HoldoutKind { none, every, param, file, points };

/// A parsed `--holdout` spec. The forms:
///  * `every:K`          every K-th snapshot (the K-th, 2K-th, …; K ≥ 2) is test data;
///  * `param:NAME=VALUE` every row whose ParameterNet column NAME equals VALUE (NAME a column
///                       name when the table has names, else a 0-based index into the params);
///  * `file:PATH`        training uses all the data, the test data is PATH (same columns);
///  * `points:K`         every K-th point (the K-th, 2K-th, … in file order) of each snapshot.
struct HoldoutSpec {
  HoldoutKind kind = HoldoutKind::none;
  int every = 0;            ///< K of every:K and points:K
  std::string column;       ///< NAME of param:NAME=VALUE
  double value = 0;         ///< VALUE of param:NAME=VALUE
  std::string path;         ///< PATH of file:PATH
  std::string text;         ///< the spec as given ("" for none), recorded with the run

  bool active() const { return kind != HoldoutKind::none; }
};

/// Parses SPEC ("" → none). Throws std::invalid_argument with one line naming the problem and
/// the accepted forms.
HoldoutSpec parse_holdout(std::string_view text);

/// The snapshot of every row: rows with equal ParameterNet inputs share one, numbered in order
/// of first appearance. `first_rows` (optional) receives each snapshot's first row.
std::vector<Index> snapshot_of_rows(const ad::Matrix<float>& params, std::vector<Index>* first_rows = nullptr);

/// The rows `rows` of every block of `data`, in that order.
PointDataset select_rows(const PointDataset& data, const std::vector<Index>& rows);

struct HoldoutSplit {
  PointDataset train;
  PointDataset test;
};

/// Splits `data` (read with `columns`, whose table columns are named `names`, possibly empty)
/// by `spec`; for file:PATH the test part is read from PATH with the same columns. Throws
/// std::invalid_argument (one line) when a part would be empty, when the param column is
/// unknown or its value absent (listing the values present), and nn::FileError for PATH.
HoldoutSplit split_holdout(const PointDataset& data, const HoldoutSpec& spec, const Columns& columns,
                           const std::vector<std::string>& names);

}  // namespace nif
