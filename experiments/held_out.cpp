#include "experiments/held_out.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "nif/trainer.hpp"

namespace experiments {

HeldOut::HeldOut(nif::PointDataset& data, const std::string& text, const nif::Columns& columns,
                 const std::vector<std::string>& names)
    : spec_(nif::parse_holdout(text)),
      field_labels_(nif::column_labels(names, columns.targets, "f")),
      param_labels_(nif::column_labels(names, columns.params, "p")) {
  if (!active()) return;
  nif::HoldoutSplit split = nif::split_holdout(data, spec_, columns, names);
  data = std::move(split.train);
  raw_ = std::move(split.test);
}

void HeldOut::normalize(const nif::Normalizer& normalizer) {
  normalizer_ = normalizer;
  if (active()) normalized_ = normalizer.apply(raw_);
}

HeldOut::Predictions HeldOut::predict(nif::Trainer& trainer) const {
  Predictions p{trainer.predict(normalized_.params, normalized_.coords), {}};
  p.physical = normalizer_.denormalize_targets(p.normalized).cast<double>();
  return p;
}

const HeldOutLogRow& HeldOut::record(nif::Trainer& trainer, int epoch) {
  const Predictions p = predict(trainer);
  history_.push_back({epoch, nif::normalized_mse(normalized_, p.normalized),
                      nif::relative_l2(raw_.targets.cast<double>(), p.physical, raw_.weights)});
  return history_.back();
}

const HeldOutLogRow* HeldOut::row_of(int epoch) const {
  const auto at = std::find_if(history_.rbegin(), history_.rend(), [&](const auto& row) { return row.epoch == epoch; });
  return at == history_.rend() ? nullptr : &*at;
}

std::string HeldOut::csv_header() const {
  if (!active()) return "";
  std::string s = ",test_mse,test_rel_l2";
  for (const auto& f : field_labels_) s += ",test_rel_l2_" + f;
  return s;
}

std::string HeldOut::csv_cells(int epoch) const {
  if (!active()) return "";
  const HeldOutLogRow* row = row_of(epoch);
  if (row == nullptr) return std::string(field_labels_.size() + 2, ',');
  std::string s = fmt::format(",{:.9g},{:.9g}", row->mse, row->errors.overall);
  for (const double e : row->errors.per_field) s += fmt::format(",{:.9g}", e);
  return s;
}

std::string HeldOut::summary(int epoch) const {
  const HeldOutLogRow* row = active() ? row_of(epoch) : nullptr;
  return row == nullptr ? "" : fmt::format("  test rel L2 {:.3f}%", 100 * row->errors.overall);
}

nlohmann::json HeldOut::state_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : history_) rows.push_back({r.epoch, r.mse, r.errors.overall, r.errors.per_field});
  return {{"spec", spec_.text}, {"history", rows}};
}

void HeldOut::restore_state(const nlohmann::json& state) {
  const std::string saved = state.is_null() ? "" : state.at("spec").get<std::string>();
  if (saved != spec_.text)
    throw std::invalid_argument(fmt::format("the checkpoint was written with --holdout '{}', not '{}'", saved, spec_.text));
  history_.clear();
  if (state.is_null()) return;
  for (const auto& r : state.at("history"))
    history_.push_back({r.at(0).get<int>(), r.at(1).get<double>(),
                        {r.at(2).get<double>(), r.at(3).get<std::vector<double>>()}});
}

nlohmann::json HeldOut::metrics(nif::Trainer& trainer) const {
  if (!active()) return nlohmann::json::object();
  const Predictions p = predict(trainer);
  nlohmann::json m = nif::to_json(nif::held_out_errors(raw_, p.physical), field_labels_, param_labels_);
  m["holdout"] = spec_.text;
  m["test_points"] = raw_.size();
  m["test_mse"] = nif::normalized_mse(normalized_, p.normalized);
  return m;
}

}  // namespace experiments
