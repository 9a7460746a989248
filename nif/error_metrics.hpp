#pragma once
// Errors on held-out data, the same for NIF and for the POD baseline: relative L2 errors in
// physical units (area-weighted when the data has weights), per field, over all fields and per
// snapshot, and the training loss's MSE in normalised units.

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "nif/data.hpp"

namespace nif {

/// sqrt(Σ w·(û−u)²) / sqrt(Σ w·u²) over the points (w = 1 when unweighted): `overall` sums over
/// every field, `per_field` over one column each. A field that is zero everywhere has error
/// +inf unless the prediction is exact too (then 0).
struct RelativeErrors {
  double overall = 0;
  std::vector<double> per_field;
};

/// Relative L2 errors of `prediction` against `truth` (both N x O, physical units); `weights` is
/// N x 1 or empty. Throws std::invalid_argument on a shape mismatch or no rows.
RelativeErrors relative_l2(const ad::Matrix<double>& truth, const ad::Matrix<double>& prediction,
                           const ad::Matrix<float>& weights);

/// relative_l2 of a dataset seen in parts (read from a file part by part): add() every part,
/// then result(). Errors as relative_l2's.
class RelativeL2Sums {
 public:
  void add(const ad::Matrix<double>& truth, const ad::Matrix<double>& prediction, const ad::Matrix<float>& weights);
  RelativeErrors result() const;

 private:
  Eigen::ArrayXd error_, norm_;  ///< per field: Σ w·(û−u)², Σ w·u²
};

/// One snapshot's parameters and errors.
struct SnapshotErrors {
  std::vector<double> params;
  RelativeErrors errors;
};

/// The errors of every snapshot (distinct row of `test.params`, in order of first appearance).
std::vector<SnapshotErrors> per_snapshot_l2(const PointDataset& test, const ad::Matrix<double>& prediction);

/// The training loss's definition, Σ_rows w·Σ_fields (û−u)² / (N·O), on normalised values and
/// normalised weights (w = 1 when unweighted).
double normalized_mse(const PointDataset& normalized_test, const ad::Matrix<float>& normalized_prediction);

/// The test errors of a model: relative L2 over the test set and per snapshot.
struct HeldOutErrors {
  RelativeErrors total;
  std::vector<SnapshotErrors> snapshots;
};

HeldOutErrors held_out_errors(const PointDataset& test, const ad::Matrix<double>& prediction);

/// Labels of `columns`: `names[c]` when the table's names are known, else prefix0, prefix1, ….
std::vector<std::string> column_labels(const std::vector<std::string>& names, const std::vector<Index>& columns,
                                       std::string_view prefix);

/// {"PREFIX": overall, "PREFIX_<label>": per field, …}.
nlohmann::json errors_json(const RelativeErrors& e, const std::vector<std::string>& labels, std::string_view prefix);

/// {"test_rel_l2": …, "test_rel_l2_<field>": …, "test_snapshots": [{"params": {name: value},
/// "rel_l2": …, "rel_l2_<field>": …}, …]}.
nlohmann::json to_json(const HeldOutErrors& errors, const std::vector<std::string>& field_labels,
                       const std::vector<std::string>& param_labels);

}  // namespace nif
