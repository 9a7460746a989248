// `nif compress-study`: NIF judged as compression. One dense run and one pruned run per sparsity
// (pruned during training along the cubic schedule, then fine-tuned with the mask held), each
// exported as fp32, fp16 and int8; their held-out error against their stored bytes, next to POD
// at the largest rank that stores no more bytes (float32 values). Resumable: finished runs are
// reused, exports and errors recomputed.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>

#include "experiments/cli.hpp"
#include "experiments/saved_model.hpp"
#include "nif/error_metrics.hpp"
#include "nif/pod.hpp"
#include "nn/compact.hpp"
#include "nn/files.hpp"

namespace experiments {

namespace {

/// One exported model: its run, sparsity, weight format, bytes and test error.
struct Row {
  std::string run;
  double sparsity = 0;
  std::string format;
  std::uintmax_t bytes = 0;
  double error = 0;
};

/// POD at the largest rank whose float32 values fit in `bytes` (nullopt when rank 1 does not).
struct PodRow {
  ad::Index rank = 0;
  std::uintmax_t bytes = 0;
  double error = 0;
};

/// Takes `--name VALUE` (or `--name=VALUE`) out of `args`; "" when absent.
std::string take_flag(std::vector<std::string>& args, const std::string& name) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name && i + 1 < args.size()) {
      std::string value = args[i + 1];
      args.erase(args.begin() + std::ptrdiff_t(i), args.begin() + std::ptrdiff_t(i) + 2);
      return value;
    }
    if (args[i].starts_with(name + "=")) {
      std::string value = args[i].substr(name.size() + 1);
      args.erase(args.begin() + std::ptrdiff_t(i));
      return value;
    }
  }
  return "";
}

bool given(const std::vector<std::string>& args, const std::string& name) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) { return a == name || a.starts_with(name + "="); });
}

/// Trains (or resumes, or reuses) the run `args` describe into `dir`; returns its request.
TrainRequest train_run(std::vector<std::string> args, const fs::path& dir) {
  args.insert(args.end(), {"--out", dir.string(), "--resume", "--quiet"});
  std::optional<TrainRequest> request = parse_train_request(args);
  if (!request) throw UsageError("--help is not a training flag here");
  if (request->data.holdout.empty()) throw UsageError("give --holdout SPEC: the study measures the held-out error");
  if (read_metrics(dir).is_null()) {
    fmt::print("training {} ...\n", dir.string());
    std::fflush(stdout);
    RunOptions options = request->options;
    options.pictures = false;
    const nlohmann::json m = run_training(request->config, request->data, dir, options);
    fmt::print("        {:.1f} s, test rel L2 {:.3f}%\n", m["wall_s"].get<double>(), 100 * m.value("test_rel_l2", 0.0));
  }
  return *request;
}

std::vector<double> parse_sparsities(const std::string& text) {
  std::vector<double> out;
  for (const std::string& item : split_list(text, "sparsities")) {
    char* end = nullptr;
    const double s = std::strtod(item.c_str(), &end);
    if (end != item.c_str() + item.size() || !(s > 0 && s < 1))
      throw UsageError(fmt::format("--sparsities: each must be a number in (0, 1) (got '{}')", item));
    out.push_back(s);
  }
  return out;
}

/// The POD rows for the bytes of `rows` (cubic-spline coefficients), or a one-line reason why POD
/// does not apply to the data.
std::vector<std::optional<PodRow>> pod_rows(const PreparedData& data, const std::vector<Row>& rows, std::string& note) {
  std::vector<std::optional<PodRow>> out(rows.size());
  try {
    const nif::Pod probe(data.raw, 1);
    const nif::Pod pod(data.raw, probe.snapshots());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ad::Index rank = 0;
      while (rank < pod.snapshots() && 4 * std::uintmax_t(pod.stored_values(rank + 1)) <= rows[i].bytes) ++rank;
      if (rank == 0) continue;
      const nif::HeldOutErrors e = nif::held_out_errors(data.held_out.raw(), pod.predict(data.held_out.raw(), rank, nif::Interpolation::cubic));
      out[i] = PodRow{rank, 4 * std::uintmax_t(pod.stored_values(rank)), e.total.overall};
    }
    note = fmt::format("POD's smallest model (rank 1) stores {} bytes", 4 * pod.stored_values(1));
  } catch (const std::invalid_argument& e) {
    note = std::string("POD does not apply: ") + e.what();
  }
  return out;
}

void print_table(const std::vector<Row>& rows, const std::vector<std::optional<PodRow>>& pod, const std::string& pod_note) {
  const Row& dense = rows.front();
  fmt::print("\n| run | sparsity | weights | bytes | x smaller | test rel L2 % | vs float32 | POD rank (<= bytes) | POD bytes | POD rel L2 % |\n"
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const std::string pod_cells = pod[i] ? fmt::format("{} | {} | {:.3f}", pod[i]->rank, pod[i]->bytes, 100 * pod[i]->error) : "- | - | -";
    fmt::print("| {} | {:.0f}% | {} | {} | {:.1f} | {:.3f} | {:+.1f}% | {} |\n", r.run, 100 * r.sparsity, r.format, r.bytes,
               double(dense.bytes) / double(r.bytes), 100 * r.error, 100 * (r.error / dense.error - 1), pod_cells);
  }
  fmt::print("\n{}.\n", pod_note);
  const Row* best = nullptr;
  for (const Row& r : rows)
    if (10 * r.bytes <= dense.bytes && (best == nullptr || r.error < best->error)) best = &r;
  if (best == nullptr)
    fmt::print("No model is 10x smaller than the float32 one ({} bytes).\n", dense.bytes);
  else
    fmt::print("Best at >= 10x fewer bytes: {} {} ({} bytes, {:.1f}x): test error {:+.1f}% against float32 (goal: < +20%).\n",
               best->run, best->format, best->bytes, double(dense.bytes) / double(best->bytes), 100 * (best->error / dense.error - 1));
}

std::string rows_csv(const std::vector<Row>& rows, const std::vector<std::optional<PodRow>>& pod) {
  std::string csv = "run,sparsity,format,bytes,test_rel_l2,pod_rank,pod_bytes,pod_test_rel_l2\n";
  for (std::size_t i = 0; i < rows.size(); ++i)
    csv += fmt::format("{},{},{},{},{:.6g},{}\n", rows[i].run, rows[i].sparsity, rows[i].format, rows[i].bytes, rows[i].error,
                       pod[i] ? fmt::format("{},{},{:.6g}", pod[i]->rank, pod[i]->bytes, pod[i]->error) : ",,");
  return csv;
}

}  // namespace

int run_compress_study(const std::vector<std::string>& args) {
  if (given(args, "--help")) {
    fmt::print("nif compress-study --out DIR [--sparsities 0.5,0.8,0.9] TRAIN-FLAGS (nif train's, --holdout required)\n"
               "  trains DIR/dense and DIR/prune-<percent> (pruned from 10% to 60% of --epochs unless --prune-begin/--prune-end\n"
               "  are given, then fine-tuned), exports each as fp32, fp16 and int8 and prints the size-error table\n");
    return 0;
  }
  std::vector<std::string> train_args = args;
  const std::string out = take_flag(train_args, "--out");
  const std::string sparsity_list = take_flag(train_args, "--sparsities");
  if (out.empty()) throw UsageError("--out DIR is required");
  if (given(train_args, "--prune")) throw UsageError("give --sparsities, not --prune: the study prunes its own runs");
  const std::vector<double> sparsities = parse_sparsities(sparsity_list.empty() ? "0.5,0.8,0.9" : sparsity_list);
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw nn::FileError(out, "cannot create the folder (" + ec.message() + ")");

  std::vector<std::pair<std::string, TrainRequest>> runs{{"dense", train_run(train_args, fs::path(out) / "dense")}};
  const int epochs = runs.front().second.config.train.epochs;
  for (const double s : sparsities) {
    std::vector<std::string> pruned = train_args;
    pruned.insert(pruned.end(), {"--prune", fmt::format("{}", s)});
    if (!given(train_args, "--prune-begin")) pruned.insert(pruned.end(), {"--prune-begin", std::to_string(epochs / 10)});
    if (!given(train_args, "--prune-end")) pruned.insert(pruned.end(), {"--prune-end", std::to_string(epochs * 6 / 10)});
    const std::string name = fmt::format("prune-{:.0f}", 100 * s);
    runs.emplace_back(name, train_run(pruned, fs::path(out) / name));
  }

  nif::ExperimentConfig cfg = runs.front().second.config;
  const PreparedData data = prepare_data(cfg, runs.front().second.data);
  const nif::PointDataset& test = data.held_out.raw();
  std::vector<Row> rows;
  for (const auto& [name, request] : runs) {
    const SavedModel trained(fs::path(out) / name / "checkpoint.npz");
    for (const nn::WeightFormat format : {nn::WeightFormat::fp32, nn::WeightFormat::fp16, nn::WeightFormat::int8}) {
      const fs::path file = fs::path(out) / name / fmt::format("model.{}.nifc", nn::weight_format_name(format));
      trained.save_compact(file, format);
      SavedModel model(file);
      const ad::Matrix<double> prediction = model.predict(test.params, test.coords).cast<double>();
      rows.push_back({name, request.config.train.prune, std::string(nn::weight_format_name(format)), model.file_bytes(),
                      nif::held_out_errors(test, prediction).total.overall});
    }
  }
  std::string pod_note;
  const auto pod = pod_rows(data, rows, pod_note);
  print_table(rows, pod, pod_note);
  nn::write_file_atomically(fs::path(out) / "compress.csv", rows_csv(rows, pod));
  fmt::print("table: {}\n", (fs::path(out) / "compress.csv").string());
  return 0;
}

}  // namespace experiments
