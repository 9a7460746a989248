// `nif baseline pod`: the POD baseline on the same held-out split and errors as `nif train
// --holdout`, with the number of values each rank stores.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

#include "experiments/baseline.hpp"
#include "experiments/cli.hpp"
#include "nif/error_metrics.hpp"
#include "nif/holdout.hpp"
#include "nif/pod.hpp"
#include "nn/files.hpp"

namespace experiments {

namespace {

struct PodFlags {
  std::string data, param_cols = "0", input_cols = "1", output_cols = "2", weight_col, holdout, ranks, interpolations = "linear,cubic",
                    out;
};

nif::Columns columns_of(const PodFlags& f) {
  nif::Columns c{.params = parse_columns(f.param_cols, "param-cols"),
                 .coords = parse_columns(f.input_cols, "input-cols"),
                 .targets = parse_columns(f.output_cols, "output-cols")};
  if (!f.weight_col.empty()) c.weight = parse_columns(f.weight_col, "weight-col").front();
  return c;
}

std::vector<nif::Interpolation> interpolations_of(const std::string& list) {
  std::vector<nif::Interpolation> out;
  for (const auto& name : split_list(list, "interpolation")) out.push_back(nif::parse_interpolation(name));
  return out;
}

/// One row of the table: rank, interpolation, stored values, overall and per-field errors in %.
std::string table_row(ad::Index rank, nif::Interpolation interpolation, ad::Index stored, const nlohmann::json& r,
                      const std::vector<std::string>& fields) {
  std::string row = fmt::format("| {:>4} | {:<6} | {:>13} | {:>11.3f} |", rank, nif::name(interpolation), stored,
                                100 * r.at("test_rel_l2").get<double>());
  for (const auto& f : fields) row += fmt::format(" {:>9.3f} |", 100 * r.at("test_rel_l2_" + f).get<double>());
  return row + "\n";
}

std::string table_header(const std::vector<std::string>& fields) {
  std::string head = "| rank | interp | stored values | test rel L2 % |", rule = "|---:|---|---:|---:|";
  for (const auto& f : fields) {
    head += fmt::format(" {:>9} |", f + " %");
    rule += "---:|";
  }
  return head + "\n" + rule + "\n";
}

}  // namespace

nlohmann::json pod_result(const nif::Pod& pod, const nif::PointDataset& test, ad::Index rank,
                          nif::Interpolation interpolation, const std::vector<std::string>& fields,
                          const std::vector<std::string>& params) {
  nlohmann::json r = nif::to_json(nif::held_out_errors(test, pod.predict(test, rank, interpolation)), fields, params);
  r["rank"] = rank;
  r["interpolation"] = nif::name(interpolation);
  r["stored_values"] = pod.stored_values(rank);
  return r;
}

int run_baseline(const std::vector<std::string>& args) {
  if (args.empty() || (args[0] != "pod" && args[0] != "--help"))
    throw UsageError(fmt::format("unknown baseline '{}' (expected: nif baseline pod ...)", args.empty() ? "" : args[0]));
  PodFlags f;
  po::options_description desc("nif baseline pod --data FILE --holdout SPEC --rank R[,R...] [options]");
  desc.add_options()("help", "show this help")("data", po::value(&f.data), "points (.npz/.npy/.csv), a fixed set per snapshot")(
      "param-cols", po::value(&f.param_cols)->default_value(f.param_cols), "ParameterNet input columns (the snapshot parameters)")(
      "input-cols", po::value(&f.input_cols)->default_value(f.input_cols), "coordinate columns")(
      "output-cols", po::value(&f.output_cols)->default_value(f.output_cols), "field columns")(
      "weight-col", po::value(&f.weight_col), "point weight column, e.g. cell area")(
      "holdout", po::value(&f.holdout), "test data: every:K, param:NAME=VALUE or file:PATH (as nif train)")(
      "rank", po::value(&f.ranks), "number of POD modes, or a list: 2,4,8,16")(
      "interpolation", po::value(&f.interpolations)->default_value(f.interpolations),
      "coefficients between snapshots: linear, cubic (not-a-knot spline) or both")(
      "out", po::value(&f.out), "also write DIR/metrics.json");
  const auto vm = parse(std::vector<std::string>(args.begin() + 1, args.end()), desc);
  if (vm.count("help") || args[0] == "--help") {
    std::cout << desc << "\n";
    return 0;
  }
  if (f.data.empty() || f.holdout.empty() || f.ranks.empty()) throw UsageError("--data, --holdout and --rank are required");
  const nif::HoldoutSpec spec = nif::parse_holdout(f.holdout);
  if (spec.kind == nif::HoldoutKind::points)
    throw UsageError("--holdout points:K: POD predicts whole snapshots on the training points, not held-out points");
  const std::vector<ad::Index> ranks = parse_columns(f.ranks, "rank", "a rank", "2,4,8");
  const std::vector<nif::Interpolation> interpolations = interpolations_of(f.interpolations);
  const nif::Columns columns = columns_of(f);
  const std::vector<std::string> names;  // the table's column names, once the readers provide them
  const nif::HoldoutSplit split = nif::split_holdout(nif::load_points(f.data, columns), spec, columns, names);
  const nif::Pod pod(split.train, *std::max_element(ranks.begin(), ranks.end()));
  const auto fields = nif::column_labels(names, columns.targets, "f");
  const auto params = nif::column_labels(names, columns.params, "p");
  fmt::print("POD of {} (--holdout {}): {} training snapshots, {} test points, {} points x {} fields per snapshot;\n"
             "snapshot mean subtracted, area-weighted SVD, coefficients interpolated {}\n\n",
             f.data, f.holdout, pod.snapshots(), split.test.size(), pod.points(), fields.size(), pod.axes().describe(params));
  fmt::print("{}", table_header(fields));
  nlohmann::json results = nlohmann::json::array();
  for (const ad::Index rank : ranks)
    for (const nif::Interpolation interpolation : interpolations) {
      const nlohmann::json r = pod_result(pod, split.test, rank, interpolation, fields, params);
      fmt::print("{}", table_row(rank, interpolation, pod.stored_values(rank), r, fields));
      results.push_back(r);
    }
  if (f.out.empty()) return 0;
  const nlohmann::json metrics{{"baseline", "pod"}, {"data", f.data}, {"holdout", f.holdout},
                               {"train_snapshots", pod.snapshots()}, {"points", pod.points()},
                               {"mean_subtracted", true}, {"interpolated", pod.axes().describe(params)},
                               {"singular_values", std::vector<double>(pod.singular_values().begin(), pod.singular_values().end())}, {"results", results}};
  std::error_code ec;
  fs::create_directories(f.out, ec);
  if (ec) throw nn::FileError(f.out, "cannot create the folder (" + ec.message() + ")");
  nn::write_file_atomically(fs::path(f.out) / "metrics.json", metrics.dump(2) + "\n");
  fmt::print("\nmetrics: {}\n", (fs::path(f.out) / "metrics.json").string());
  return 0;
}

}  // namespace experiments
