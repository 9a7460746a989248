// `nif study NAME`: the hard examples' studies. Each is a table of cells (a model with its flags,
// or POD at a rank) on one data split, defined once below. The runs go to one folder; a finished
// cell is kept when the study runs again and an interrupted one resumes from its checkpoint; the
// results become one Markdown table and a CSV.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

#include "experiments/baseline.hpp"
#include "experiments/cli.hpp"
#include "experiments/statistics.hpp"
#include "experiments/study.hpp"
#include "nif/holdout.hpp"
#include "nn/files.hpp"
#include "nn/text.hpp"

namespace experiments {

namespace {

using Flags = std::vector<std::pair<std::string, std::string>>;

/// One row of a study: a model trained with `flags` (once per seed), or POD at `pod_rank`.
struct Cell {
  std::string id;            ///< its folder (plus -seedN when trained) and its name for --cells
  std::string method, size;  ///< the table's first two columns
  Flags flags = {};
  ad::Index pod_rank = 0;  ///< > 0: POD with `interpolation`; nothing is trained
  nif::Interpolation interpolation = nif::Interpolation::cubic;
  std::string paper = {};  ///< a published figure shown beside ours

  bool trained() const { return pod_rank == 0; }
};

/// A data file; `value` fills the study's inserted column in its rows.
struct Source {
  std::string file;
  double value = 0;
};

struct Study {
  std::string name = {}, summary = {};
  std::vector<Source> sources = {};  ///< read from --data-dir and stacked
  std::string inserted_column = {};  ///< added after the first column (t) of every file, "" for none
  std::string params = {}, coords = {}, targets = {}, weight = {};  ///< column names
  std::string holdout = {};  ///< the test split; "" when the error is measured on the training data
  Flags budget = {};         ///< the training flags every trained cell shares: the stated budget
  std::vector<Cell> cells = {};
};

Cell trained(const std::string& id, std::string method, std::string size, Flags flags, std::string paper = {}) {
  return {.id = id, .method = std::move(method), .size = std::move(size), .flags = std::move(flags), .paper = std::move(paper)};
}

void add_pod_cells(Study& s, std::initializer_list<ad::Index> ranks) {
  for (const ad::Index r : ranks)
    for (const auto i : {nif::Interpolation::linear, nif::Interpolation::cubic})
      s.cells.push_back({.id = fmt::format("pod-{}-r{}", nif::name(i), r),
                         .method = fmt::format("POD, {} coefficients", nif::name(i)),
                         .size = fmt::format("rank {}", r),
                         .pod_rank = r,
                         .interpolation = i});
}

/// A NIF with a SIREN ShapeNet `units` wide (2 hidden layers), a ParameterNet 64 wide and a
/// bottleneck 8 wide; linear-NIF with 16 modes per field through a 16-wide bottleneck.
Cell nif_cell(int units) {
  return trained(fmt::format("nif-{}", units), "nif", fmt::format("ShapeNet {} x 2, latent 8", units),
                 {{"arch", "nif"}, {"shape-units", std::to_string(units)}, {"pnet-units", "64"}, {"latent-dim", "8"}});
}
Cell linear_nif_cell(int units) {
  return trained(fmt::format("linear-nif-{}", units), "linear-nif", fmt::format("ShapeNet {} x 2, 16 modes", units),
                 {{"arch", "linear-nif"}, {"shape-units", std::to_string(units)}, {"pnet-units", "64"},
                  {"latent-dim", "16"}, {"rank", "16"}});
}

Study cylinder_time() {
  Study s{.name = "cylinder-time",
          .summary = "cylinder wake at Re 100, every 3rd snapshot held out: NIF and linear-NIF against POD at equal storage",
          .sources = {{"cylinder_re100.npz"}},
          .params = "t", .coords = "x,y", .targets = "u,v", .weight = "area",
          .holdout = "every:3",
          .budget = {{"epochs", "30"}, {"batch-size", "8192"}, {"log-every", "10"}, {"checkpoint-every", "25"}},
          .cells = {nif_cell(32), nif_cell(64), nif_cell(128), linear_nif_cell(64)}};
  add_pod_cells(s, {2, 4, 8, 16});
  return s;
}

Study cylinder_param() {
  Study s{.name = "cylinder-param",
          .summary = "cylinder wake, trained on Re 80 and 120 with (t, Re) as ParameterNet input, tested on Re 100",
          .sources = {{"cylinder_re80.npz", 80}, {"cylinder_re100.npz", 100}, {"cylinder_re120.npz", 120}},
          .inserted_column = "Re",
          .params = "t,Re", .coords = "x,y", .targets = "u,v", .weight = "area",
          .holdout = "param:Re=100",
          .budget = {{"epochs", "10"}, {"batch-size", "8192"}, {"log-every", "5"}, {"checkpoint-every", "10"}},
          .cells = {nif_cell(64), linear_nif_cell(64)}};
  add_pod_cells(s, {2, 4, 8, 16});
  return s;
}

/// The NIF paper's Table 2: every network 4 dense layers (2 hidden) of the width, on the vorticity.
Study turbulence() {
  Study s{.name = "turbulence",
          .summary = "2-D decaying turbulence (vorticity w, 128^2 x 20 snapshots), the NIF paper's Table 2: error on the training video",
          .sources = {{"hit2d.npz"}},
          .params = "t", .coords = "x,y", .targets = "w",
          .budget = {{"epochs", "20"}, {"batch-size", "4096"}, {"log-every", "5"}, {"checkpoint-every", "10"}}};
  const std::map<int, std::pair<std::string, std::string>> paper{{36, {"7.1", "12.1"}}, {75, {"2.2", "3.9"}}, {150, {"1.32", "1.16"}}};
  for (const int w : {36, 75, 150}) {
    const std::string units = std::to_string(w), size = fmt::format("width {}", w);
    const Flags shape{{"shape-units", units}, {"shape-layers", "2"}};
    auto with = [&](Flags f) {
      f.insert(f.end(), shape.begin(), shape.end());
      return f;
    };
    s.cells.push_back(trained("mlp-tanh-" + units, "MLP, tanh", size, with({{"arch", "mlp"}, {"shape-activation", "tanh"}})));
    s.cells.push_back(trained("mlp-relu-" + units, "MLP, ReLU", size, with({{"arch", "mlp"}, {"shape-activation", "relu"}})));
    for (const char* sigma : {"1", "10", "100"})
      s.cells.push_back(trained(fmt::format("fourier-{}-{}", sigma, units), fmt::format("Fourier features, sigma {}", sigma),
                                size, with({{"arch", "fourier"}, {"fourier-sigma", sigma}})));
    s.cells.push_back(trained("siren-" + units, "SIREN", size, with({{"arch", "siren"}}), paper.at(w).second));
    s.cells.push_back(trained("nif-" + units, "NIF (latent 8)", size,
                              with({{"arch", "nif"}, {"pnet-units", "64"}, {"latent-dim", "8"}}), paper.at(w).first));
  }
  return s;
}

const std::vector<Study>& studies() {
  static const std::vector<Study> all{cylinder_time(), cylinder_param(), turbulence()};
  return all;
}

const Study& study_named(const std::string& name) {
  std::string known;
  for (const Study& s : studies()) {
    if (s.name == name) return s;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  throw UsageError(fmt::format("unknown study '{}' (expected {})", name, known));
}

nif::ColumnSelection selection_of(const Study& s) {
  nif::ColumnSelection c;
  c.params = nif::parse_column_list(s.params);
  c.coords = nif::parse_column_list(s.coords);
  c.targets = nif::parse_column_list(s.targets);
  c.weight = s.weight;
  return c;
}

/// The study's table: its files stacked, the inserted column filled from each file's value.
nif::Table load_table(const Study& s, const fs::path& data_dir) {
  nif::Table out;
  for (const Source& src : s.sources) {
    const fs::path file = data_dir / src.file;
    nif::Table t = nif::read_table(file);
    if (!s.inserted_column.empty()) {
      if (t.names.empty() || t.values.cols() < 1) throw nn::FileError(file, "expected named columns, t first");
      ad::Matrix<float> v(t.values.rows(), t.values.cols() + 1);
      v << t.values.col(0), ad::Matrix<float>::Constant(t.values.rows(), 1, float(src.value)),
          t.values.rightCols(t.values.cols() - 1);
      t.values = std::move(v);
      t.names.insert(t.names.begin() + 1, s.inserted_column);
    }
    if (out.values.size() == 0) {
      out = std::move(t);
      continue;
    }
    if (t.names != out.names)
      throw nn::FileError(file, fmt::format("its columns differ from those of {}", s.sources.front().file));
    const ad::Index rows = out.values.rows();
    out.values.conservativeResize(rows + t.values.rows(), Eigen::NoChange);
    out.values.bottomRows(t.values.rows()) = t.values;
  }
  return out;
}

struct Request {
  const Study* study = nullptr;
  fs::path out, data_dir;
  int seeds = 1;
  Flags overrides;                 ///< --epochs, --batch-size, --threads as given
  std::vector<const Cell*> cells;  ///< those to run and show (--cells, else all)
};

/// The configuration of a trained cell for one seed: the budget, the cell's flags, then overrides.
nif::ExperimentConfig cell_config(const Request& r, const Cell& c, int seed) {
  ExperimentFlags f;
  for (const Flags* flags : {&r.study->budget, &c.flags, &r.overrides})
    for (const auto& [flag, value] : *flags) f.set(flag, value);
  f.set("seed", std::to_string(seed));
  nif::ExperimentConfig cfg = f.config(true);
  // The widths the data sets (prepare_data), so a recorded run's config compares equal.
  cfg.parameter_net.input_dim = ad::Index(nif::parse_column_list(r.study->params).size());
  cfg.shape_net.input_dim = ad::Index(nif::parse_column_list(r.study->coords).size());
  cfg.shape_net.output_dim = ad::Index(nif::parse_column_list(r.study->targets).size());
  return cfg;
}

fs::path run_dir(const Request& r, const Cell& c, int seed) {
  return c.trained() ? r.out / fmt::format("{}-seed{}", c.id, seed) : r.out / c.id;
}

/// A finished run is kept only when it was trained with the cell's configuration (the thread
/// count aside: it changes rounding, not the experiment).
void check_kept(const fs::path& dir, const nif::ExperimentConfig& cfg) {
  nlohmann::json recorded = read_json_file(dir / "config.json");
  recorded.erase("holdout");
  nlohmann::json wanted = nif::to_json(cfg);
  for (nlohmann::json* j : {&recorded, &wanted})
    if (j->contains("train")) (*j)["train"].erase("threads");
  if (recorded != wanted) {
    const nlohmann::json patch = nlohmann::json::diff(recorded, wanted);
    throw UsageError(fmt::format("{} holds a finished run with another configuration ({}: {}); give another --out",
                                 dir.string(), patch.at(0).value("path", ""), patch.at(0).value("value", nlohmann::json()).dump()));
  }
}

void run_pod_cells(const Request& r, const nif::Table& table) {
  std::vector<const Cell*> todo;
  for (const Cell* c : r.cells)
    if (!c->trained() && read_metrics(run_dir(r, *c, 0)).is_null()) todo.push_back(c);
  if (todo.empty()) return;
  const nif::ColumnSelection selection = selection_of(*r.study);
  const nif::Columns columns = selection.resolve(table.names);
  const nif::HoldoutSplit split =
      nif::split_holdout(nif::from_table(table.values, columns), nif::parse_holdout(r.study->holdout), columns, table.names);
  ad::Index max_rank = 0;
  for (const Cell* c : todo) max_rank = std::max(max_rank, c->pod_rank);
  const nif::Pod pod(split.train, max_rank);
  const auto fields = nif::column_labels(table.names, columns.targets, "f");
  const auto params = nif::column_labels(table.names, columns.params, "p");
  for (const Cell* c : todo) {
    nlohmann::json m = pod_result(pod, split.test, c->pod_rank, c->interpolation, fields, params);
    m["method"] = "pod";
    const fs::path dir = run_dir(r, *c, 0);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw nn::FileError(dir, "cannot create the folder (" + ec.message() + ")");
    nn::write_file_atomically(dir / "metrics.json", m.dump(2) + "\n");
    fmt::print("{}: test rel L2 {:.4g}%, {} stored values\n", dir.string(), 100 * m["test_rel_l2"].get<double>(),
               m["stored_values"].get<long long>());
  }
}

std::string error_key(const Study& s) { return s.holdout.empty() ? "train_rel_l2" : "test_rel_l2"; }

void run_trained_cells(const Request& r, const nif::Table& table) {
  std::vector<std::pair<const Cell*, nif::ExperimentConfig>> runs;
  for (const Cell* c : r.cells)
    if (c->trained())
      for (int seed = 1; seed <= r.seeds; ++seed) runs.emplace_back(c, cell_config(r, *c, seed));
  if (runs.empty()) return;
  DataSpec spec;
  spec.table.emplace(table.values.data(), table.values.rows(), table.values.cols());
  spec.table_names = table.names;
  spec.columns = selection_of(*r.study);
  spec.holdout = r.study->holdout;
  std::size_t done = 0;
  for (const auto& [cell, cfg] : runs) {
    const fs::path dir = run_dir(r, *cell, int(cfg.train.seed));
    ++done;
    if (!read_metrics(dir).is_null()) {
      check_kept(dir, cfg);
      fmt::print("[{}/{}] {}: finished earlier, kept\n", done, runs.size(), dir.string());
      continue;
    }
    fmt::print("[{}/{}] {} ...\n", done, runs.size(), dir.string());
    std::fflush(stdout);
    const auto m = run_training(cfg, spec, dir, {.resume = true, .quiet = true});
    fmt::print("        rel L2 {:.4g}%, {} parameters, {:.1f} s\n", 100 * m.at(error_key(*r.study)).get<double>(),
               m["trainable_parameters"].get<long long>(), m["train_s"].get<double>());
    std::fflush(stdout);
  }
}

/// One cell's results over its finished runs.
struct CellResult {
  const Cell* cell = nullptr;
  std::vector<double> overall = {}, train_s = {};
  std::vector<std::vector<double>> per_field;  ///< [field][run]
  long long stored = 0;                       ///< trainable parameters, or POD's stored values
};

CellResult collect(const Request& r, const Cell& c, const std::vector<std::string>& fields) {
  CellResult out{.cell = &c, .per_field = std::vector<std::vector<double>>(fields.size())};
  const std::string key = error_key(*r.study);
  for (int seed = 1; seed <= (c.trained() ? r.seeds : 1); ++seed) {
    const fs::path dir = run_dir(r, c, seed);
    const nlohmann::json m = read_metrics(dir);
    if (m.is_null() || !m.contains(c.trained() ? key : "test_rel_l2")) continue;
    try {
      out.overall.push_back(m.at(c.trained() ? key : "test_rel_l2").get<double>());
      for (std::size_t f = 0; f < fields.size(); ++f)
        out.per_field[f].push_back(m.at((c.trained() ? key : "test_rel_l2") + "_" + fields[f]).get<double>());
      out.stored = c.trained() ? m.at("trainable_parameters").get<long long>() : m.at("stored_values").get<long long>();
      if (c.trained()) out.train_s.push_back(m.at("train_s").get<double>());
    } catch (const nlohmann::json::exception& e) {
      throw nn::FileError(dir / "metrics.json", std::string("missing or malformed field (") + e.what() + ")");
    }
  }
  return out;
}

/// A fraction in %, to three significant digits with trailing zeros ("13.0", not "13").
std::string percent(double fraction) { return nn::significant(100 * fraction, 3); }

/// "median (min–max)" in %, or the one value.
std::string spread(const std::vector<double>& v) {
  if (v.size() == 1) return percent(v.front());
  return fmt::format("{} ({}–{})", percent(median(v)), percent(*std::min_element(v.begin(), v.end())),
                     percent(*std::max_element(v.begin(), v.end())));
}

std::string markdown_table(const Request& r, const std::vector<CellResult>& results, const std::vector<std::string>& fields) {
  const bool paper = std::any_of(results.begin(), results.end(), [](const auto& c) { return !c.cell->paper.empty(); });
  const bool per_field = fields.size() > 1;
  std::string s = fmt::format("| method | size | stored values | runs | {} rel. L2 %, median (min–max) |",
                              r.study->holdout.empty() ? "training" : "held-out");
  std::string rule = "|---|---|---:|---:|---:|";
  if (per_field)
    for (const auto& f : fields) {
      s += fmt::format(" {} %, median |", f);
      rule += "---:|";
    }
  s += " train s, median |";
  rule += "---:|";
  if (paper) {
    s += " paper % |";
    rule += "---:|";
  }
  s += "\n" + rule + "\n";
  for (const CellResult& c : results) {
    if (c.overall.empty()) continue;
    s += fmt::format("| {} | {} | {} | {} | {} |", c.cell->method, c.cell->size, fmt::group_digits(c.stored),
                     c.cell->trained() ? std::to_string(c.overall.size()) : "–", spread(c.overall));
    if (per_field)
      for (const auto& f : c.per_field) s += fmt::format(" {} |", percent(median(f)));
    s += c.train_s.empty() ? " – |" : fmt::format(" {:.0f} |", median(c.train_s));
    if (paper) s += fmt::format(" {} |", c.cell->paper.empty() ? "–" : c.cell->paper);
    s += "\n";
  }
  std::string missing;
  for (const CellResult& c : results)
    if (c.overall.empty()) missing += (missing.empty() ? "" : ", ") + c.cell->id;
  if (!missing.empty()) s += "\nNot run yet: " + missing + "\n";
  return s;
}

void write_csv(const Request& r, const std::vector<CellResult>& results, const std::vector<std::string>& fields) {
  std::string csv = "study,cell,method,size,stored_values,runs,rel_l2_median,rel_l2_min,rel_l2_max";
  for (const auto& f : fields) csv += ",rel_l2_" + f + "_median";
  csv += ",train_s_median,paper_percent\n";
  for (const CellResult& c : results) {
    if (c.overall.empty()) continue;
    csv += fmt::format("{},{},\"{}\",\"{}\",{},{},{:.6e},{:.6e},{:.6e}", r.study->name, c.cell->id, c.cell->method,
                       c.cell->size, c.stored, c.overall.size(), median(c.overall),
                       *std::min_element(c.overall.begin(), c.overall.end()),
                       *std::max_element(c.overall.begin(), c.overall.end()));
    for (const auto& f : c.per_field) csv += fmt::format(",{:.6e}", median(f));
    csv += c.train_s.empty() ? "," : fmt::format(",{:.1f}", median(c.train_s));
    csv += "," + c.cell->paper + "\n";
  }
  nn::write_file_atomically(r.out / "results.csv", csv);
}

/// The table of the chosen cells on stdout; the CSV holds every finished cell of the study, so a
/// run with --cells does not drop the others' rows.
void print_results(const Request& r) {
  const auto fields = nif::parse_column_list(r.study->targets);
  std::vector<CellResult> all, shown;
  for (const Cell& c : r.study->cells) {
    all.push_back(collect(r, c, fields));
    if (std::find(r.cells.begin(), r.cells.end(), &c) != r.cells.end()) shown.push_back(all.back());
  }
  fmt::print("\n## {}: {}\n\n{}", r.study->name, r.study->summary, markdown_table(r, shown, fields));
  write_csv(r, all, fields);
  fmt::print("\nCSV: {}\n", (r.out / "results.csv").string());
}

void print_cells(const Study& s) {
  fmt::print("{}: {}\nbudget of every trained cell:", s.name, s.summary);
  for (const auto& [flag, value] : s.budget) fmt::print(" --{} {}", flag, value);
  fmt::print("\n\n");
  for (const Cell& c : s.cells) {
    fmt::print("  {:<18} {} ({})", c.id, c.method, c.size);
    for (const auto& [flag, value] : c.flags) fmt::print(" --{} {}", flag, value);
    fmt::print("\n");
  }
}

std::vector<const Cell*> chosen_cells(const Study& s, const std::string& list) {
  std::vector<const Cell*> cells;
  if (list.empty()) {
    for (const Cell& c : s.cells) cells.push_back(&c);
    return cells;
  }
  for (const auto& id : split_list(list, "cells")) {
    const auto it = std::find_if(s.cells.begin(), s.cells.end(), [&](const Cell& c) { return c.id == id; });
    if (it == s.cells.end())
      throw UsageError(fmt::format("--cells: study {} has no cell '{}' (nif study {} --list names them)", s.name, id, s.name));
    cells.push_back(&*it);
  }
  return cells;
}

}  // namespace

int run_study(const std::vector<std::string>& args) {
  std::string name, out, cells, data_dir = "data";
  int seeds = 1;
  bool list = false, report = false;
  std::map<std::string, std::string> overrides;
  po::options_description desc("nif study NAME [options]   (NAME: cylinder-time, cylinder-param, turbulence)");
  desc.add_options()("help", "show this help")("name", po::value(&name), "the study")(
      "out", po::value(&out), "study folder, one sub-folder per run (default runs/NAME)")(
      "seeds", po::value(&seeds)->default_value(seeds), "seeds 1..N per trained cell")(
      "cells", po::value(&cells), "run and show only these cells (comma-separated ids, see --list)")(
      "data-dir", po::value(&data_dir)->default_value(data_dir), "folder holding the study's data files")(
      "list", po::bool_switch(&list), "list the study's cells and budget, run nothing")(
      "report", po::bool_switch(&report), "print the table of the finished cells, run nothing");
  for (const char* flag : {"epochs", "batch-size", "threads"})
    desc.add_options()(flag, po::value<std::string>()->notifier([&overrides, flag](const std::string& v) { overrides[flag] = v; }),
                       fmt::format("--{} of every trained cell instead of the study's", flag).c_str());
  po::positional_options_description pos;
  pos.add("name", 1);
  const auto vm = parse(args, desc, &pos);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (name.empty()) throw UsageError("give the study: nif study NAME (cylinder-time, cylinder-param, turbulence)");
  const Study& study = study_named(name);
  if (list) {
    print_cells(study);
    return 0;
  }
  if (seeds <= 0) throw UsageError("--seeds must be positive");
  Request r{.study = &study, .out = out.empty() ? fs::path("runs") / name : fs::path(out), .data_dir = data_dir, .seeds = seeds,
            .overrides = Flags(overrides.begin(), overrides.end()), .cells = chosen_cells(study, cells)};
  for (const Cell* c : r.cells)  // every name and value checked before anything runs
    if (c->trained()) cell_config(r, *c, 1);
  if (report) {
    if (!fs::is_directory(r.out)) throw UsageError(r.out.string() + ": not a folder (nothing to report)");
  } else {
    const nif::Table table = load_table(study, r.data_dir);
    run_pod_cells(r, table);
    run_trained_cells(r, table);
  }
  print_results(r);
  return 0;
}

}  // namespace experiments
