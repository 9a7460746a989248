#include "experiments/pictures.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <numeric>
#include <optional>

#include "experiments/plot.hpp"

namespace experiments {

namespace {

using ad::Index;

/// What the titles call the data: the seed case, or the user's file by its name.
std::string data_name(const nif::ExperimentConfig& cfg, const DataSpec& spec) {
  if (!spec.user_data()) return cfg.case_name;
  return spec.file.empty() ? std::string("your table") : fs::path(spec.file).filename().string();
}

/// (n_t, n_x) when the points form a t-major 1-D grid of one field: blocks of n_x rows share a
/// parameter value, increasing from block to block, and every block has the same increasing x.
std::optional<std::pair<Index, Index>> grid_shape(const nif::PointDataset& raw) {
  if (raw.params.cols() != 1 || raw.coords.cols() != 1 || raw.targets.cols() != 1) return std::nullopt;
  const Index n = raw.size();
  Index nx = 0;
  while (nx < n && raw.params(nx, 0) == raw.params(0, 0)) ++nx;
  if (n % nx != 0) return std::nullopt;
  for (Index i = 0; i < n; ++i) {
    const Index block = i / nx, j = i % nx;
    if (raw.params(i, 0) != raw.params(block * nx, 0) || raw.coords(i, 0) != raw.coords(j, 0)) return std::nullopt;
    if (j == 0 && block > 0 && !(raw.params(i, 0) > raw.params(i - nx, 0))) return std::nullopt;
    if (block == 0 && j > 0 && !(raw.coords(j, 0) > raw.coords(j - 1, 0))) return std::nullopt;
  }
  return std::pair{n / nx, nx};
}

ad::Matrix<float> predict_rows(nif::Trainer& t, const PreparedData& data, const std::vector<Index>& rows) {
  const auto& d = data.normalized;
  return data.normalizer.denormalize_targets(t.predict(d.params(rows, Eigen::all), d.coords(rows, Eigen::all)));
}

void write_grid_fields(const fs::path& file, nif::Trainer& t, const PreparedData& data, std::pair<Index, Index> shape,
                       const std::string& title) {
  const auto& raw = data.raw;
  const auto [nt, nx] = shape;
  FieldPanels panels{.title = title};
  for (Index j = 0; j < nx; ++j) panels.x.push_back(raw.coords(j, 0));
  for (Index i = 0; i < nt; ++i) panels.t.push_back(raw.params(i * nx, 0));
  std::vector<Index> all(static_cast<std::size_t>(raw.size()));
  std::iota(all.begin(), all.end(), Index{0});
  const ad::Matrix<float> u = predict_rows(t, data, all);
  panels.truth = Eigen::Map<const ad::Matrix<float>>(raw.targets.data(), nt, nx);
  panels.prediction = Eigen::Map<const ad::Matrix<float>>(u.data(), nt, nx);
  write_field_panels(file, panels);
}

/// The rows of every distinct ParameterNet input, in the order of their first appearance.
std::vector<std::vector<Index>> snapshot_rows(const ad::Matrix<float>& params) {
  std::vector<Index> order(static_cast<std::size_t>(params.rows()));
  std::iota(order.begin(), order.end(), Index{0});
  const auto less = [&](Index a, Index b) {
    return std::lexicographical_compare(params.row(a).begin(), params.row(a).end(), params.row(b).begin(), params.row(b).end());
  };
  std::stable_sort(order.begin(), order.end(), less);
  std::vector<std::vector<Index>> groups;
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (k == 0 || less(order[k - 1], order[k])) groups.emplace_back();
    groups.back().push_back(order[k]);
  }
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.front() < b.front(); });
  return groups;
}

void write_scatter(const fs::path& file, nif::Trainer& t, const PreparedData& data, const DataSpec& spec, const std::string& title) {
  const auto& raw = data.raw;
  const std::vector<std::vector<Index>> groups = snapshot_rows(raw.params);
  std::vector<std::size_t> chosen = {0, groups.size() / 2, groups.size() - 1};
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  ScatterFields fields{.title = title};
  for (Index f = 0; f < raw.targets.cols(); ++f)
    fields.field_names.push_back(fmt::format("column {}", spec.columns.targets.at(static_cast<std::size_t>(f))));
  for (std::size_t g : chosen) {
    const std::vector<Index>& rows = groups[g];
    const auto p = raw.params.row(rows.front());
    ScatterSnapshot& s = fields.snapshots.emplace_back();
    s.label = p.size() == 1 ? fmt::format("p = {:.4g}", p(0)) : fmt::format("p = ({:.4g})", fmt::join(p, ", "));
    s.points = raw.coords(rows, Eigen::all);
    s.truth = raw.targets(rows, Eigen::all);
    s.prediction = predict_rows(t, data, rows);
  }
  write_scatter_fields(file, fields);
}

}  // namespace

void write_pictures(const fs::path& out, nif::Trainer& t, const PreparedData& data, const DataSpec& spec) {
  Series series{.name = "training loss (normalised MSE)"};
  for (const auto& e : t.history()) {
    series.x.push_back(e.epoch);
    series.values.push_back(e.loss);
  }
  const auto& cfg = t.config();
  const std::string name = data_name(cfg, spec);
  write_loss_curve(out / "loss.svg", {series}, {.title = fmt::format("{} / {} / {}", cfg.architecture, name, cfg.optimizer.name)});
  if (data.raw.size() == 0) return;  // read part by part: the points are not in memory to draw
  const std::string title = fmt::format("{} on {} after {} epochs (physical units)", cfg.architecture, name, t.epochs_done());
  if (const auto shape = grid_shape(data.raw))
    write_grid_fields(out / "fields.png", t, data, *shape, title);
  else if (data.raw.coords.cols() == 2)
    write_scatter(out / "fields.png", t, data, spec, title);
}

}  // namespace experiments
