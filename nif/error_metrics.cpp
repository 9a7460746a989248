#include "nif/error_metrics.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "nif/holdout.hpp"

namespace nif {

namespace {

double ratio(double error, double norm) {
  if (norm > 0) return std::sqrt(error / norm);
  return error > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

/// Adds the weighted squares of row r to the per-field sums.
void accumulate(const ad::Matrix<double>& truth, const ad::Matrix<double>& prediction, const ad::Matrix<float>& weights,
                Index r, Eigen::ArrayXd& error, Eigen::ArrayXd& norm) {
  const double w = weights.size() > 0 ? double(weights(r, 0)) : 1.0;
  error += w * (prediction.row(r) - truth.row(r)).array().square().transpose();
  norm += w * truth.row(r).array().square().transpose();
}

RelativeErrors ratios(const Eigen::ArrayXd& error, const Eigen::ArrayXd& norm) {
  RelativeErrors e{ratio(error.sum(), norm.sum()), {}};
  for (Index c = 0; c < error.size(); ++c) e.per_field.push_back(ratio(error(c), norm(c)));
  return e;
}

void check_shapes(Index rows, const ad::Matrix<double>& truth, const ad::Matrix<double>& prediction,
                  const ad::Matrix<float>& weights) {
  if (truth.rows() != prediction.rows() || truth.cols() != prediction.cols() || truth.rows() != rows ||
      (weights.size() > 0 && weights.rows() != rows))
    throw std::invalid_argument(fmt::format("nif::relative_l2: truth {}x{}, prediction {}x{}, weights {}x{}", truth.rows(),
                                            truth.cols(), prediction.rows(), prediction.cols(), weights.rows(),
                                            weights.cols()));
  if (rows == 0) throw std::invalid_argument("nif::relative_l2: no points");
}

}  // namespace

RelativeErrors relative_l2(const ad::Matrix<double>& truth, const ad::Matrix<double>& prediction,
                           const ad::Matrix<float>& weights) {
  RelativeL2Sums sums;
  sums.add(truth, prediction, weights);
  return sums.result();
}

void RelativeL2Sums::add(const ad::Matrix<double>& truth, const ad::Matrix<double>& prediction, const ad::Matrix<float>& weights) {
  check_shapes(truth.rows(), truth, prediction, weights);
  if (error_.size() == 0) error_ = norm_ = Eigen::ArrayXd::Zero(truth.cols());
  if (error_.size() != truth.cols())
    throw std::invalid_argument(fmt::format("nif::RelativeL2Sums: {} fields after {}", truth.cols(), error_.size()));
  for (Index r = 0; r < truth.rows(); ++r) accumulate(truth, prediction, weights, r, error_, norm_);
}

RelativeErrors RelativeL2Sums::result() const {
  if (error_.size() == 0) throw std::invalid_argument("nif::relative_l2: no points");
  return ratios(error_, norm_);
}

std::vector<SnapshotErrors> per_snapshot_l2(const PointDataset& test, const ad::Matrix<double>& prediction) {
  const ad::Matrix<double> truth = test.targets.cast<double>();
  check_shapes(test.size(), truth, prediction, test.weights);
  std::vector<Index> first_rows;
  const std::vector<Index> snapshot = snapshot_of_rows(test.params, &first_rows);
  std::vector<Eigen::ArrayXd> error(first_rows.size(), Eigen::ArrayXd::Zero(truth.cols())), norm = error;
  for (Index r = 0; r < test.size(); ++r) {
    const auto s = std::size_t(snapshot[std::size_t(r)]);
    accumulate(truth, prediction, test.weights, r, error[s], norm[s]);
  }
  std::vector<SnapshotErrors> out;
  for (std::size_t s = 0; s < first_rows.size(); ++s) {
    const auto p = test.params.row(first_rows[s]).cast<double>();
    out.push_back({std::vector<double>(p.begin(), p.end()), ratios(error[s], norm[s])});
  }
  return out;
}

double normalized_mse(const PointDataset& normalized_test, const ad::Matrix<float>& normalized_prediction) {
  const ad::Matrix<double> truth = normalized_test.targets.cast<double>();
  const ad::Matrix<double> prediction = normalized_prediction.cast<double>();
  check_shapes(truth.rows(), truth, prediction, normalized_test.weights);
  Eigen::ArrayXd error = Eigen::ArrayXd::Zero(truth.cols()), norm = error;
  for (Index r = 0; r < truth.rows(); ++r) accumulate(truth, prediction, normalized_test.weights, r, error, norm);
  return error.sum() / double(truth.size());
}

HeldOutErrors held_out_errors(const PointDataset& test, const ad::Matrix<double>& prediction) {
  return {relative_l2(test.targets.cast<double>(), prediction, test.weights), per_snapshot_l2(test, prediction)};
}

std::vector<std::string> column_labels(const std::vector<std::string>& names, const std::vector<Index>& columns,
                                       std::string_view prefix) {
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const auto c = std::size_t(columns[i]);
    labels.push_back(c < names.size() && !names[c].empty() ? names[c] : fmt::format("{}{}", prefix, i));
  }
  return labels;
}

nlohmann::json errors_json(const RelativeErrors& e, const std::vector<std::string>& labels, std::string_view prefix) {
  nlohmann::json j;
  j[std::string(prefix)] = e.overall;
  for (std::size_t c = 0; c < e.per_field.size(); ++c) j[fmt::format("{}_{}", prefix, labels.at(c))] = e.per_field[c];
  return j;
}

nlohmann::json to_json(const HeldOutErrors& errors, const std::vector<std::string>& field_labels,
                       const std::vector<std::string>& param_labels) {
  nlohmann::json j = errors_json(errors.total, field_labels, "test_rel_l2");
  nlohmann::json snapshots = nlohmann::json::array();
  for (const SnapshotErrors& s : errors.snapshots) {
    nlohmann::json entry = errors_json(s.errors, field_labels, "rel_l2");
    for (std::size_t p = 0; p < s.params.size(); ++p) entry["params"][param_labels.at(p)] = s.params[p];
    snapshots.push_back(entry);
  }
  j["test_snapshots"] = snapshots;
  return j;
}

}  // namespace nif
