#pragma once
// The held-out part of a training run (`nif train --holdout SPEC`): kept out of training and
// normalisation, evaluated every log interval into log.csv, checkpoints and metrics.json.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "nif/data.hpp"
#include "nif/error_metrics.hpp"
#include "nif/holdout.hpp"

namespace nif {
class Trainer;
}

namespace experiments {

/// The test errors at one logged epoch.
struct HeldOutLogRow {
  int epoch = 0;
  double mse = 0;  ///< normalised units, the training loss's definition
  nif::RelativeErrors errors;
};

class HeldOut {
 public:
  HeldOut() = default;

  /// Splits `data` by the spec `text` ("" → nothing held out): `data` keeps the training part.
  /// `names` are the table's column names (possibly empty). Throws std::invalid_argument or
  /// nn::FileError for bad specs.
  HeldOut(nif::PointDataset& data, const std::string& text, const nif::Columns& columns,
          const std::vector<std::string>& names);

  bool active() const { return spec_.active(); }
  const std::string& spec() const { return spec_.text; }
  const nif::PointDataset& raw() const { return raw_; }

  /// Normalises the test points with the training data's statistics.
  void normalize(const nif::Normalizer& normalizer);

  /// Evaluates `trainer` on the test points and logs the errors as those of `epoch`.
  const HeldOutLogRow& record(nif::Trainer& trainer, int epoch);

  /// ",test_mse,test_rel_l2,test_rel_l2_<field>…" ("" when inactive), and the cells of `epoch`
  /// (empty cells when it was not evaluated).
  std::string csv_header() const;
  std::string csv_cells(int epoch) const;
  /// "  test rel L2 1.23%" for the last row of `epoch`, or "".
  std::string summary(int epoch) const;

  /// The spec and the logged rows, for the checkpoint; restore_state checks the spec is the same.
  nlohmann::json state_json() const;
  void restore_state(const nlohmann::json& state);

  /// Final test errors (relative L2 overall, per field, per snapshot; normalised MSE) of `trainer`.
  nlohmann::json metrics(nif::Trainer& trainer) const;

 private:
  struct Predictions {
    ad::Matrix<float> normalized;
    ad::Matrix<double> physical;
  };
  Predictions predict(nif::Trainer& trainer) const;
  const HeldOutLogRow* row_of(int epoch) const;

  nif::HoldoutSpec spec_;
  nif::PointDataset raw_;
  nif::PointDataset normalized_;
  nif::Normalizer normalizer_;
  std::vector<std::string> field_labels_;
  std::vector<std::string> param_labels_;
  std::vector<HeldOutLogRow> history_;
};

}  // namespace experiments
