#include "experiments/cli.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "experiments/demo.hpp"
#include "experiments/run_folder.hpp"
#include "experiments/saved_model.hpp"
#include "experiments/signals.hpp"
#include "experiments/study.hpp"
#include "nif/csv.hpp"
#include "nif/trainer.hpp"
#include "nn/checkpoint.hpp"
#include "nn/npy.hpp"
#include "nn/process_group.hpp"
#include "nif/model.hpp"
#include "nn/files.hpp"
#include "nn/summary.hpp"
#include "nn/text.hpp"

namespace experiments {

namespace {

struct Subcommand {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>&);
};

int run_demo_command(const std::vector<std::string>&) { return run_demo(0, nullptr); }

const Subcommand kSubcommands[] = {
    {"train", "train one architecture on one case (or your own data) into a run folder", run_train},
    {"compare", "run a matrix of architectures x optimizers x cases x seeds, then print the tables", run_compare},
    {"study", "run a named study of the hard examples (cylinder-time, cylinder-param, turbulence), then its table", run_study},
    {"report", "print (and write as CSV) the tables of the finished runs in a folder", run_report},
    {"predict", "evaluate a trained checkpoint on points from .npy/.npz/.csv, in physical units", run_predict},
    {"summary", "print the model summary and parameter counts", run_summary},
    {"baseline", "the POD baseline on a held-out split: errors and stored values per rank", run_baseline},
    {"bench", "training throughput per architecture and case (and the PyTorch reference)", run_bench},
    {"export", "write a trained model as a compact file (fp32, fp16 or int8 weights, pruned zeros left out)", run_export},
    {"compress-study", "dense and pruned runs exported as fp32/fp16/int8: held-out error against bytes, next to POD", run_compress_study},
    {"modes", "write the spatial modes phi(x) of a trained modal model on points from .npy/.npz/.csv", run_modes},
    {"demo", "fit sin(x) with a small MLP on the engine", run_demo_command},
};

void print_usage() {
  fmt::print("usage: nif <command> [options]   (nif <command> --help for its options)\n\ncommands:\n");
  for (const auto& s : kSubcommands) fmt::print("  {:<14} {}\n", s.name, s.summary);
  fmt::print("\narchitectures (--arch):\n");
  for (const auto& name : nif::architecture_names()) {
    const auto& arch = nif::architecture(name);
    fmt::print("  {:<11} {:<13} {}\n", name, arch.family, arch.description);
  }
}

}  // namespace

namespace {

/// Every option the registered architectures declare, once per name (architectures may share one).
std::map<std::string, std::vector<std::pair<std::string, nif::VariantOption>>> declared_variant_options() {
  std::map<std::string, std::vector<std::pair<std::string, nif::VariantOption>>> options;
  for (const auto& name : nif::architecture_names())
    for (const auto& o : nif::architecture(name).options) options[o.name].emplace_back(name, o);
  return options;
}

std::string flag_name(std::string option) {
  std::replace(option.begin(), option.end(), '_', '-');
  return option;
}

template <class F>
auto as_usage_error(F&& f) {
  try {
    return f();
  } catch (const UsageError&) {
    throw;
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

}  // namespace

void ExperimentFlags::add_to(po::options_description& desc, const std::vector<std::string>& owned) {
  auto keep = [this](std::string flag) { return [this, flag](const std::string& v) { given_[flag] = v; }; };
  for (const nif::ConfigField& f : nif::experiment_fields()) {
    if (f.flag.empty() || std::find(owned.begin(), owned.end(), f.flag) != owned.end()) continue;
    if (f.is_switch)
      desc.add_options()(f.flag.c_str(), po::bool_switch()->notifier([this, flag = f.flag](bool on) {
        if (on) given_[flag] = "true";
      }), f.help.c_str());
    else
      desc.add_options()(f.flag.c_str(), po::value<std::string>()->notifier(keep(f.flag)), f.help.c_str());
  }
  desc.add_options()("fix", po::value(&fix_)->multitoken(), "correct seed defects: all, or names (see nif summary --defects)");
  for (const auto& [name, declared] : declared_variant_options()) {
    std::vector<std::string> owners;
    for (const auto& [arch, o] : declared) owners.push_back(arch);
    const std::string help = fmt::format("{} (architecture {}; default {})", declared.front().second.help,
                                         fmt::join(owners, ", "), declared.front().second.default_value);
    desc.add_options()(flag_name(name).c_str(), po::value<std::string>()->notifier(keep(flag_name(name))), help.c_str());
  }
}

namespace {

/// The settings of the --preset among the `given` flags, for their --case (a preset may differ by case).
std::vector<std::pair<std::string, std::string>> preset_settings(const std::map<std::string, std::string>& given) {
  const auto case_name = given.find("case");
  try {
    return nif::preset_settings(given.at("preset"), case_name == given.end() ? "" : case_name->second);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--preset: ") + e.what());
  }
}

}  // namespace

std::map<std::string, std::string> ExperimentFlags::with_preset() const {
  std::map<std::string, std::string> flags = given_;
  if (given("preset"))
    for (auto& [flag, value] : preset_settings(given_)) flags.emplace(flag, value);
  return flags;
}

std::string ExperimentFlags::preset_choices() const {
  if (!given("preset")) return "";
  std::string words;
  for (const auto& [flag, value] : preset_settings(given_))
    if (!given(flag)) words += (words.empty() ? "--" : " --") + flag + " " + value;
  return words;
}

nif::ExperimentConfig ExperimentFlags::config(bool own_data) const {
  const std::map<std::string, std::string> flags = with_preset();
  auto value = [&](const std::string& flag, const std::string& fallback) {
    const auto it = flags.find(flag);
    return it == flags.end() ? fallback : it->second;
  };
  if (own_data && given("case")) throw UsageError("--case does not apply with --data: your data is the case");
  const std::string arch = value("arch", own_data ? "nif" : "upstream");
  return apply(as_usage_error([&] {
    return nif::architecture(arch).defaults(own_data ? "custom" : value("case", "low-frequency"));
  }), flags);
}

nif::ExperimentConfig ExperimentFlags::config_of_run(const nif::ExperimentConfig& recorded) const {
  for (const auto& [flag, name] : {std::pair{"arch", recorded.architecture}, {"case", recorded.case_name}})
    if (given(flag) && given_.at(flag) != name)
      throw UsageError(fmt::format("--{} {}: the run was trained with --{} {}", flag, given_.at(flag), flag, name));
  return apply(recorded, given_);
}

nif::ExperimentConfig ExperimentFlags::apply(nif::ExperimentConfig c, const std::map<std::string, std::string>& flags) const {
  as_usage_error([&] {
    for (const nif::ConfigField& f : nif::experiment_fields()) {
      if (f.flag.empty() || f.flag == "arch" || f.flag == "case" || !flags.contains(f.flag)) continue;
      f.set(c, f.is_switch ? nlohmann::json(f.switch_value) : f.parse(flags.at(f.flag)));
    }
    std::vector<std::string> names;
    for (const auto& item : fix_)
      for (const auto& n : split_list(item, "fix")) names.push_back(n);
    c.defects.fix(names);
    for (const auto& [name, declared] : declared_variant_options()) {
      if (!flags.contains(flag_name(name))) continue;
      if (!c.variant.contains(name))
        throw UsageError(fmt::format("--{} does not apply to architecture {}", flag_name(name), c.architecture));
      const std::string& text = flags.at(flag_name(name));
      char* end = nullptr;
      c.variant[name] = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size())
        throw UsageError(fmt::format("--{} must be a number (got '{}')", flag_name(name), text));
    }
    nif::validate_variant_options(c);
    return 0;
  });
  return c;
}

namespace {

/// Boost.ProgramOptions 1.74 fills the %placeholders% of its error messages (%option%,
/// %invalid_line%, ...) by replacing them until none is left, so an option or config line that
/// itself contains one makes reporting an error loop forever (found by fuzz/fuzz_config_file.cpp).
/// Text with two '%' could hold one, so it is refused before Boost sees it.
void refuse_placeholders(const std::string& text, const std::string& where) {
  if (std::count(text.begin(), text.end(), '%') >= 2)
    throw UsageError(where + ": two '%' characters are not accepted in options or config files");
}

/// Boost ignores words that are not options when a command takes no positional arguments, and
/// reads "-1" into an unsigned option as 2^64 - 1: both are refused here.
void check_parsed(const po::parsed_options& parsed, const po::options_description& desc, bool positional) {
  for (const po::option& o : parsed.options) {
    if (o.position_key >= 0 && !positional)
      throw UsageError(fmt::format("unexpected argument '{}' (options start with --)", o.value.empty() ? "" : o.value.front()));
    const po::option_description* d = desc.find_nothrow(o.string_key, false);
    const bool is_unsigned = d != nullptr && (dynamic_cast<const po::typed_value<std::uint64_t>*>(d->semantic().get()) != nullptr ||
                                              dynamic_cast<const po::typed_value<unsigned>*>(d->semantic().get()) != nullptr);
    for (const std::string& value : o.value)
      if (is_unsigned && value.find('-') != std::string::npos)
        throw UsageError(fmt::format("--{}: '{}' is not a non-negative integer", o.string_key, value));
  }
}

/// The text of a --config file: a regular file of at most 1 MiB (a device or FIFO is refused
/// before it is opened), without '%' placeholders.
std::string read_config_file(const std::string& file) {
  if (file.empty()) throw UsageError("--config: empty file name");
  constexpr std::size_t max_bytes = 1 << 20;
  const std::vector<std::byte> bytes = nn::read_file(file, max_bytes);
  const std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::istringstream in(text);
  int number = 0;
  for (std::string line; std::getline(in, line);) refuse_placeholders(line, fmt::format("{}: line {}", file, ++number));
  return text;
}

}  // namespace

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description* positional) {
  po::variables_map vm;
  for (const auto& a : args) refuse_placeholders(a, "'" + a + "'");
  try {
    po::command_line_parser parser(args);
    parser.options(desc);
    if (positional != nullptr) parser.positional(*positional);
    const po::parsed_options parsed = parser.run();
    check_parsed(parsed, desc, positional != nullptr);
    po::store(parsed, vm);
    if (vm.count("config") && desc.find_nothrow("config", false) != nullptr) {
      const std::string file = vm["config"].as<std::string>();
      std::istringstream lines(read_config_file(file));
      const po::parsed_options from_file = po::parse_config_file(lines, desc);
      check_parsed(from_file, desc, false);
      po::store(from_file, vm);  // command-line values win: stored first
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return vm;
}

std::vector<ad::Index> parse_columns(const std::string& text, const char* flag, const char* what, const char* example) {
  if (text.empty()) throw UsageError(fmt::format("--{}: nothing given", flag));
  std::vector<ad::Index> cols;
  for (const std::string& item : nn::split(text)) {
    std::size_t used = 0;
    long v = -1;
    try {
      v = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || item.empty() || v < 0)
      throw UsageError(fmt::format("--{}: '{}' is not {} (expected e.g. {})", flag, item, what, example));
    cols.push_back(v);
  }
  return cols;
}

namespace {

/// A flag given with an empty value ("--out ''") is a mistake, not a request for the default.
void refuse_empty(const po::variables_map& vm, std::initializer_list<const char*> flags) {
  for (const char* flag : flags)
    if (vm.count(flag) && !vm[flag].defaulted() && vm[flag].as<std::string>().empty())
      throw UsageError(fmt::format("--{}: empty value", flag));
}

/// Whether `dir` holds a run (its manifest, or the checkpoint of a run from before manifests).
bool holds_run(const fs::path& dir) { return fs::exists(dir / RunFolder::kManifest) || fs::exists(dir / "checkpoint.npz"); }

/// The config.json of the run in `out`, or nullopt when `out` holds none (a folder that is not a
/// run is RunFolder's to refuse).
std::optional<nlohmann::json> recorded_run_config(const fs::path& out) {
  const fs::path file = out / "config.json";
  if (!holds_run(out) || !fs::exists(file)) return std::nullopt;
  return read_json_file(file);
}

/// A run's config.json without what it records beside the experiment config (held-out spec, data).
nlohmann::json experiment_part(nlohmann::json recorded) {
  recorded.erase("holdout");
  recorded.erase("data");
  return recorded;
}

/// The items of a column flag: indices ("0,1") or names ("x,y") of the data's columns.
std::vector<std::string> column_list(const std::string& text, const char* flag) {
  try {
    return nif::parse_column_list(text);
  } catch (const std::invalid_argument& e) {
    throw UsageError(fmt::format("--{}: {}", flag, e.what()));
  }
}

/// The data flags of `nif train` as given.
struct DataFlags {
  std::string file, param_cols = "0", input_cols = "1", output_cols = "2", weight_col, derivative_cols, holdout;
};

/// A column flag's items: as given, or for a resumed run the recorded ones (`recorded[key]`, none
/// when absent), which a flag given again must repeat. A flag without a default may be absent: no items.
std::vector<std::string> columns_of(const po::variables_map& vm, const char* flag, const std::string& text,
                                    const nlohmann::json& recorded, const char* key) {
  std::vector<std::string> given = text.empty() ? std::vector<std::string>() : column_list(text, flag);
  if (recorded.is_null()) return given;
  std::vector<std::string> kept = recorded.value(key, std::vector<std::string>());
  if (vm.count(flag) && !vm[flag].defaulted() && given != kept)
    throw UsageError(fmt::format("--{} {}: the run was trained with --{} {}", flag, text, flag, fmt::join(kept, ",")));
  return kept;
}

/// What `nif train` reads: the flags' data (with `own_data`), or for a run continued with
/// --resume whose config.json recorded its data file (`recorded`, its "data"), that file and its
/// columns. A column flag given again must agree; --data given again may name the file where it
/// is now, and run_training compares its content hash with the recorded one.
DataSpec data_spec(const DataFlags& f, const po::variables_map& vm, bool own_data, const nlohmann::json& recorded) {
  DataSpec spec;
  spec.holdout = f.holdout;
  if (!own_data && recorded.is_null()) return spec;
  spec.file = f.file.empty() && !recorded.is_null() ? recorded.at("file").get<std::string>() : f.file;
  spec.columns.params = columns_of(vm, "param-cols", f.param_cols, recorded, "param_cols");
  spec.columns.coords = columns_of(vm, "input-cols", f.input_cols, recorded, "input_cols");
  spec.columns.targets = columns_of(vm, "output-cols", f.output_cols, recorded, "output_cols");
  spec.columns.derivatives = columns_of(vm, "derivative-cols", f.derivative_cols, recorded, "derivative_cols");
  spec.columns.weight = f.weight_col;
  if (!recorded.is_null()) {
    const std::string kept = recorded.value("weight_col", "");
    if (vm.count("weight-col") && f.weight_col != kept)
      throw UsageError(fmt::format("--weight-col {}: the run was trained {}", f.weight_col,
                                   kept.empty() ? "without --weight-col" : "with --weight-col " + kept));
    spec.columns.weight = kept;
  }
  return spec;
}

/// The experiment and data of a run continued with --resume, from its config.json: flags given
/// again override the experiment (run_training then refuses any that change the model or the
/// training but --epochs) and must agree with the recorded data.
TrainRequest resumed_request(const ExperimentFlags& flags, DataFlags data, const po::variables_map& vm,
                             const fs::path& out, const nlohmann::json& recorded, bool table) {
  const fs::path file = out / "config.json";
  try {
    if (data.holdout.empty()) data.holdout = recorded.value("holdout", "");
    nif::ExperimentConfig experiment = flags.config_of_run(nif::experiment_config_from_json(experiment_part(recorded)));
    // A table given from Python replaces the file; an older run recorded no data file.
    const nlohmann::json record = table ? nlohmann::json() : recorded.value("data", nlohmann::json());
    const bool own_data = !data.file.empty() || table;
    if (experiment.case_name == "custom" && !own_data && record.is_null())
      throw UsageError(fmt::format("{} was trained on your data: give --data and its columns again", out.string()));
    return TrainRequest{.config = std::move(experiment), .data = data_spec(data, vm, own_data, record), .out = out.string(), .options = {},
                        .preset_choices = ""};
  } catch (const nlohmann::json::exception& e) {
    throw nn::FileError(file, std::string("malformed run record (") + e.what() + ")");
  }
}

/// Sobolev training needs derivative columns, O·D of them, and they serve nothing else.
void check_derivative_columns(const TrainRequest& request) {
  const nif::ColumnSelection& c = request.data.columns;
  const bool sobolev = request.config.loss.sobolev_weight > 0;
  if (sobolev && c.derivatives.empty())
    throw UsageError("--sobolev-weight needs --derivative-cols (with --data): the columns of the target derivatives");
  if (!sobolev && !c.derivatives.empty()) throw UsageError("--derivative-cols needs --sobolev-weight λ > 0");
  const std::size_t expected = c.targets.size() * c.coords.size();
  if (!c.derivatives.empty() && c.derivatives.size() != expected)
    throw UsageError(fmt::format("--derivative-cols: {} columns for {} output and {} input column(s); expected {} (∂u_o/∂x_j, o major)",
                                 c.derivatives.size(), c.targets.size(), c.coords.size(), expected));
}

}  // namespace

std::optional<TrainRequest> parse_train_request(const std::vector<std::string>& args, bool table) {
  ExperimentFlags flags;
  DataFlags data;
  std::string out, config;
  bool resume = false, force = false, quiet = false;
  po::options_description desc("nif train [options]");
  desc.add_options()("help", "show this help")("config", po::value(&config), "read options from FILE (name = value lines)")(
      "out", po::value(&out), "run folder (default runs/<arch>-<case>-<optimizer>-seed<seed>)")(
      "data", po::value(&data.file), "train on your own points (.npz/.npy/.csv) instead of a case")(
      "param-cols", po::value(&data.param_cols)->default_value(data.param_cols), "columns (indices or names) of the ParameterNet input (with --data)")(
      "input-cols", po::value(&data.input_cols)->default_value(data.input_cols), "columns (indices or names) of the ShapeNet input (with --data)")(
      "output-cols", po::value(&data.output_cols)->default_value(data.output_cols), "target columns (with --data)")(
      "weight-col", po::value(&data.weight_col), "sample-weight column, e.g. cell area (with --data)")(
      "derivative-cols", po::value(&data.derivative_cols),
      "for --sobolev-weight: the columns of ∂u_o/∂x_j in physical units, for each output column o and each input "
      "column j, o major (u_x,u_y,v_x,v_y), as indices or names (with --data)")(
      "holdout", po::value(&data.holdout), "test data kept out of training: every:K, param:NAME=VALUE, file:PATH or points:K")(
      "resume", po::bool_switch(&resume), "continue the run in --out from its last checkpoint")(
      "force", po::bool_switch(&force), "--out holds a run: delete its files and start over")(
      "quiet", po::bool_switch(&quiet), "no per-epoch lines");
  flags.add_to(desc);
  const auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return std::nullopt;
  }
  refuse_empty(vm, {"data", "out", "weight-col", "derivative-cols"});
  const std::optional<nlohmann::json> recorded = resume && !out.empty() ? recorded_run_config(out) : std::nullopt;
  const bool own_data = !data.file.empty() || table;
  TrainRequest request = recorded ? resumed_request(flags, data, vm, out, *recorded, table)
                                  : TrainRequest{.config = flags.config(own_data),
                                                 .data = data_spec(data, vm, own_data, nlohmann::json()),
                                                 .out = out,
                                                 .options = {},
                                                 .preset_choices = flags.preset_choices()};
  request.options = {.resume = resume, .force = force, .quiet = quiet};
  const nif::ExperimentConfig& cfg = request.config;
  if (request.out.empty())
    request.out = fmt::format("runs/{}-{}-{}-seed{}", cfg.architecture, cfg.case_name, cfg.optimizer.name, cfg.train.seed);
  check_derivative_columns(request);
  return request;
}

int run_train(const std::vector<std::string>& args) {
  const std::optional<TrainRequest> request = parse_train_request(args);
  if (!request) return 0;
  // A misspelt or empty folder must not start a new run (library callers may resume-or-start a
  // folder); a non-empty one that is not a run is RunFolder's to refuse.
  std::error_code ec;
  if (request->options.resume && (!fs::exists(request->out, ec) || fs::is_empty(request->out, ec)))
    throw UsageError(fmt::format("{}: no run to resume here (use --out with the run's folder)", request->out));
  const nif::ExperimentConfig& cfg = request->config;
  // The loss terms refuse what the model cannot compute (--jacobian-reg without a latent, …)
  // before the data is read.
  nif::make_loss_terms<float>(cfg);
  const bool quiet = request->options.quiet || nn::ProcessGroup::world().rank() != 0;  // rank 0 speaks for an MPI job
  RunOptions options = request->options;
  // The banner comes once the trainer has accepted the data and the config (e.g. the batch size
  // against the number of points), so a refused run prints only its error.
  options.on_start = [&] {
    if (quiet) return;
    if (!request->preset_choices.empty())
      fmt::print("preset {}: {} (flags given override these)\n", cfg.preset, request->preset_choices);
    fmt::print("training {} on {} with {} for {} epochs (batch {}, seed {}) into {}\n", cfg.architecture,
               request->data.file.empty() ? cfg.case_name : request->data.file, cfg.optimizer.name, cfg.train.epochs,
               cfg.train.batch_size, cfg.train.seed, request->out);
  };
  const nlohmann::json m = run_training(cfg, request->data, request->out, options);
  if (!quiet && m.contains("final_loss"))
    fmt::print("final loss {:.4e}, best (logged) {:.4e}, {:.0f} samples/s, {:.1f} s; results in {}\n",
               m["final_loss"].get<double>(), m["best_loss"].get<double>(), m["samples_per_s"].get<double>(),
               m["wall_s"].get<double>(), request->out);
  return 0;
}

namespace {

/// The generated tensors of a hypernetwork and their total per sample.
void print_generated(const nif::GeneratedLayout& layout) {
  if (layout.empty()) {
    fmt::print("No hypernetwork: 0 generated parameters per sample\n");
    return;
  }
  fmt::print("Generated per sample by the ParameterNet: {} parameters in {} tensors\n", fmt::group_digits(layout.size()),
             layout.tensors().size());
  for (const auto& t : layout.tensors())
    fmt::print("  {:<24} [{} x {}] at {}\n", t.name, t.rows, t.cols, t.offset);
}

}  // namespace

int run_summary(const std::vector<std::string>& args) {
  ExperimentFlags flags;
  bool defects = false;
  po::options_description desc("nif summary [options]");
  desc.add_options()("help", "show this help")("defects", po::bool_switch(&defects), "also list the defect switches");
  flags.add_to(desc);
  const auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  const nif::ExperimentConfig cfg = flags.config();
  auto model = nif::make_model<float>(cfg);
  ad::ParameterBuffer<float> params;
  nn::Rng rng(cfg.train.seed);
  model->bind(params, rng);
  const ad::Matrix<float> p = ad::Matrix<float>::Zero(1, cfg.parameter_net.input_dim);
  const ad::Matrix<float> x = ad::Matrix<float>::Zero(1, cfg.shape_net.input_dim);
  fmt::print("{}", nn::summary(*model,
                               fmt::format("{} / {} ({})", cfg.architecture, cfg.case_name,
                                           nif::architecture(cfg.architecture).description),
                               [&](ad::Tape<float>& tape) { model->forward(tape.constant(p), tape.constant(x)); }));
  print_generated(model->generated());
  const auto active = cfg.defects.active();
  fmt::print("Faithful defects on: {}\n", active.empty() ? "none" : fmt::format("{}", fmt::join(active, ", ")));
  if (defects) {
    fmt::print("Defect switches (--fix NAME or --fix all):\n");
    for (const auto& n : nif::Defects::names()) fmt::print("  {}\n", n);
  }
  return 0;
}

std::vector<std::string> split_list(const std::string& text, const char* flag) {
  std::vector<std::string> items;
  for (std::string& item : nn::split(text))
    if (!item.empty()) items.push_back(std::move(item));
  if (items.empty()) throw UsageError(fmt::format("--{}: empty list", flag));
  return items;
}

namespace {

int print_tables(const fs::path& dir) {
  const auto ours = aggregate_runs(dir);
  if (ours.empty()) throw UsageError(dir.string() + ": no finished runs (folders with metrics.json) found");
  fmt::print("{}", markdown_tables(ours));
  write_table_csvs(dir, ours);
  fmt::print("\nCSV: {}, {}\n", (dir / "best_loss.csv").string(), (dir / "speed.csv").string());
  return 0;
}

}  // namespace

int run_compare(const std::vector<std::string>& args) {
  ExperimentFlags flags;
  std::string archs = "faithful", optimizers = "adam", cases = "low-frequency,high-frequency";
  std::string out = "runs/study", config;
  int seeds = 1;
  po::options_description desc("nif compare [options]");
  desc.add_options()("help", "show this help")("config", po::value(&config), "read options from FILE (name = value lines)")(
      "archs", po::value(&archs)->default_value(archs),
      "comma-separated architectures or families (all, faithful, hypernetwork, baseline)")(
      "optimizers", po::value(&optimizers)->default_value(optimizers), "comma-separated optimizers")(
      "cases", po::value(&cases)->default_value(cases), "comma-separated cases")(
      "seeds", po::value(&seeds)->default_value(seeds), "seeds 1..N per cell")(
      "out", po::value(&out)->default_value(out), "study folder (one sub-folder per run)");
  flags.add_to(desc);
  const auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (seeds <= 0) throw UsageError("--seeds must be positive");
  std::vector<nif::ExperimentConfig> runs;
  const auto arch_names = as_usage_error([&] { return nif::expand_architectures(split_list(archs, "archs")); });
  for (const auto& c : split_list(cases, "cases"))
    for (const auto& a : arch_names)
      for (const auto& o : split_list(optimizers, "optimizers"))
        for (int s = 1; s <= seeds; ++s) {
          ExperimentFlags f = flags;
          f.set("arch", a);
          f.set("case", c);
          f.set("optimizer", o);
          f.set("seed", std::to_string(s));
          runs.push_back(f.config());  // validates every name before anything runs
        }
  int done = 0;
  for (const auto& cfg : runs) {
    const fs::path dir = fs::path(out) / run_name(cfg.architecture, cfg.case_name, cfg.optimizer.name, cfg.train.seed);
    ++done;
    if (!read_metrics(dir).is_null()) {
      fmt::print("[{}/{}] {}: finished earlier, kept\n", done, runs.size(), dir.string());
      continue;
    }
    fmt::print("[{}/{}] {} ...\n", done, runs.size(), dir.string());
    std::fflush(stdout);
    const auto m = run_training(cfg, {}, dir, {.resume = true, .quiet = true});
    fmt::print("        final loss {:.3e}, best {:.3e}, {:.0f} samples/s, {:.1f} s\n", m["final_loss"].get<double>(),
               m["best_loss"].get<double>(), m["samples_per_s"].get<double>(), m["wall_s"].get<double>());
  }
  fmt::print("\n");
  return print_tables(out);
}

int run_report(const std::vector<std::string>& args) {
  std::string dir;
  po::options_description desc("nif report DIR");
  desc.add_options()("help", "show this help")("dir", po::value(&dir), "study folder");
  po::positional_options_description pos;
  pos.add("dir", 1);
  const auto vm = parse(args, desc, &pos);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (dir.empty()) throw UsageError("give the study folder: nif report DIR");
  if (!fs::is_directory(dir)) throw UsageError(dir + ": not a folder");
  return print_tables(dir);
}

namespace {

/// Refuses to write predictions holding NaN or Inf, naming the first row that does.
void check_finite(const ad::Matrix<float>& u, const std::string& checkpoint) {
  for (ad::Index r = 0; r < u.rows(); ++r)
    if (!u.row(r).allFinite())
      throw std::runtime_error(fmt::format("{}: the prediction of row {} is not finite (NaN or Inf); nothing written",
                                           checkpoint, r));
}

/// The names of predict's output columns: the inputs as the data names them (else p0…, x0…),
/// the fields as the training data named them (else u0…), and with derivatives du_dx, d2u_dx2
/// and du_dp for every field u and every coordinate x and parameter p.
std::vector<std::string> predict_header(const nif::Table& table, const nif::Columns& columns,
                                        const std::vector<std::string>& targets, ad::Index outputs, bool derivatives) {
  auto names = [&](const std::vector<ad::Index>& cols, const char* prefix) {
    std::vector<std::string> n;
    for (std::size_t i = 0; i < cols.size(); ++i)
      n.push_back(table.names.empty() ? fmt::format("{}{}", prefix, i) : table.names[std::size_t(cols[i])]);
    return n;
  };
  const std::vector<std::string> p = names(columns.params, "p"), x = names(columns.coords, "x");
  std::vector<std::string> u = targets;
  if (ad::Index(u.size()) != outputs) {
    u.clear();
    for (ad::Index o = 0; o < outputs; ++o) u.push_back(fmt::format("f{}", o));
  }
  std::vector<std::string> header = p;
  header.insert(header.end(), x.begin(), x.end());
  header.insert(header.end(), u.begin(), u.end());
  if (!derivatives) return header;
  for (const auto& k : x)
    for (const auto& f : u) header.push_back(fmt::format("d{}_d{}", f, k));
  for (const auto& k : x)
    for (const auto& f : u) header.push_back(fmt::format("d2{}_d{}2", f, k));
  for (const auto& j : p)
    for (const auto& f : u) header.push_back(fmt::format("d{}_d{}", f, j));
  return header;
}

/// [u, ∂u/∂x_k for every k, ∂²u/∂x_k², ∂u/∂p_j], the column order of predict_header.
ad::Matrix<float> with_derivatives(const ad::Matrix<float>& u, const nif::DerivativeValues& d) {
  std::vector<const ad::Matrix<float>*> blocks{&u};
  for (const auto* list : {&d.du_dx, &d.d2u_dx2, &d.du_dp})
    for (const auto& m : *list) blocks.push_back(&m);
  ad::Matrix<float> all(u.rows(), u.cols() * ad::Index(blocks.size()));
  for (std::size_t b = 0; b < blocks.size(); ++b) all.middleCols(ad::Index(b) * u.cols(), u.cols()) = *blocks[b];
  return all;
}

/// Columns `cols` of `table` (read from `data`), each checked to exist and to hold finite values.
ad::Matrix<float> table_columns(const nif::Table& table, const std::vector<ad::Index>& cols, const std::string& data) {
  ad::Matrix<float> m(table.values.rows(), ad::Index(cols.size()));
  for (std::size_t j = 0; j < cols.size(); ++j) {
    if (cols[j] >= table.values.cols())
      throw nn::FileError(data, fmt::format("column {} requested, the table has {}", cols[j], table.values.cols()));
    m.col(ad::Index(j)) = table.values.col(cols[j]);
    for (ad::Index r = 0; r < table.values.rows(); ++r)
      if (!std::isfinite(m(r, ad::Index(j)))) throw nn::FileError(data, fmt::format("row {}, column {}: value is not finite", r, cols[j]));
  }
  return m;
}

/// `result` as .npy, or as .csv under `header` (predict_header).
void write_predictions(const std::string& out, const ad::Matrix<float>& result, const std::vector<std::string>& header) {
  if (fs::path(out).extension() == ".npy") return nn::write_npy(out, nn::NpyArray::from_matrix(result));
  nif::write_csv(out, result, header);
}

}  // namespace

int run_predict(const std::vector<std::string>& args) {
  std::string checkpoint, data, out, param_cols, input_cols;
  bool derivatives = false;
  po::options_description desc("nif predict --checkpoint FILE --data FILE --out FILE");
  desc.add_options()("help", "show this help")("checkpoint", po::value(&checkpoint), "a checkpoint written by nif train")(
      "data", po::value(&data), "points (.npy/.npz/.csv; FILE.npz:MEMBER picks an array) in physical units")(
      "out", po::value(&out), "predictions: .npy or .csv (columns: inputs, predicted fields, then any derivatives; a CSV header names them)")(
      "param-cols", po::value(&param_cols), "columns (indices or names) of the ParameterNet input (default: the first P)")(
      "input-cols", po::value(&input_cols), "columns (indices or names) of the ShapeNet input (default: the D after them)")(
      "derivatives", po::bool_switch(&derivatives),
      "also write du/dx, d2u/dx2 (per coordinate) and du/dp (per parameter) in physical units");
  const auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (checkpoint.empty() || data.empty() || out.empty()) throw UsageError("--checkpoint, --data and --out are required");
  const std::string ext = fs::path(out).extension().string();
  if (ext != ".npy" && ext != ".csv") throw UsageError("--out must end in .npy or .csv");
  const fs::path out_dir = fs::path(out).parent_path();
  if (!out_dir.empty() && !fs::is_directory(out_dir)) throw UsageError(out_dir.string() + ": no such folder (for --out)");
  SavedModel model(checkpoint);
  const nif::ExperimentConfig& cfg = model.config();
  const nif::Table table = nif::read_table(data);
  const ad::Index P = cfg.parameter_net.input_dim, D = cfg.shape_net.input_dim;
  nif::Columns defaults;
  for (ad::Index i = 0; i < P; ++i) defaults.params.push_back(i);
  for (ad::Index i = 0; i < D; ++i) defaults.coords.push_back(P + i);
  nif::ColumnSelection selection = defaults;
  if (!param_cols.empty()) selection.params = column_list(param_cols, "param-cols");
  if (!input_cols.empty()) selection.coords = column_list(input_cols, "input-cols");
  nif::Columns columns;
  try {
    columns = selection.resolve(table.names);
  } catch (const std::invalid_argument& e) {
    throw nn::FileError(data, e.what());
  }
  if (ad::Index(columns.params.size()) != P || ad::Index(columns.coords.size()) != D)
    throw UsageError(fmt::format("the model takes {} parameter and {} coordinate column(s)", P, D));
  if (table.values.rows() == 0) throw nn::FileError(data, "no points");
  const ad::Matrix<float> p_raw = table_columns(table, columns.params, data), x_raw = table_columns(table, columns.coords, data);
  ad::Matrix<float> u = model.predict(p_raw, x_raw);
  if (derivatives) u = with_derivatives(u, model.derivatives(p_raw, x_raw));
  check_finite(u, checkpoint);
  ad::Matrix<float> result(table.values.rows(), P + D + u.cols());
  result << p_raw, x_raw, u;
  write_predictions(out, result, predict_header(table, columns, model.target_names(), cfg.shape_net.output_dim, derivatives));
  fmt::print("predicted {} points with {} ({}, {} bytes{}), written to {}\n", table.values.rows(), cfg.architecture, checkpoint,
             model.file_bytes(), model.compact() ? ", compact" : "", out);
  return 0;
}

namespace {

/// Writes `message` to stderr and returns `code`. Never throws: stderr may be a file on a full
/// disk, and failing to report must not turn into a crash.
int report(int code, const std::string& message) noexcept {
  // One line of sane length whatever a file or flag put into it (names, JSON errors, ...).
  constexpr std::size_t max_length = 600;
  std::string line;
  try {
    for (const char c : message.substr(0, message.size() - (message.ends_with('\n') ? 1 : 0))) {
      if (line.size() == max_length) {
        line += "...";
        break;
      }
      line += c == '\n' || c == '\r' ? ' ' : c;
    }
    line += '\n';
  } catch (const std::bad_alloc&) {
    line = "(out of memory)\n";
  }
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  return code;
}

}  // namespace

namespace {

/// Runs one subcommand; returns its exit code. Sets `agreed_stop` when it stopped on a stop
/// request every process of an MPI job agreed on (so that no rank is left waiting for it).
int run_subcommand(const Subcommand& s, const std::vector<std::string>& args, bool& agreed_stop) {
  const std::string name = s.name;
  // Exit codes: 2 for bad input (usage, names, values, input files), 1 for runtime failures
  // (training diverged, results could not be written), 130 when interrupted.
  try {
    return s.run(args);
  } catch (const Interrupted& e) {
    agreed_stop = true;
    return report(130, fmt::format("nif {}: {}\n", name, e.what()));
  } catch (const nn::ReadInterrupted& e) {
    return report(130, fmt::format("nif {}: {}\n", name, e.what()));
  } catch (const std::bad_alloc&) {
    return report(1, fmt::format("nif {}: error: out of memory\n", name));
  } catch (const nn::WriteError& e) {
    return report(1, fmt::format("nif {}: error: {}\n", name, e.what()));
  } catch (const nn::FileError& e) {
    return report(2, fmt::format("nif {}: {}\n", name, e.what()));
  } catch (const std::invalid_argument& e) {  // UsageError and invalid data
    return report(2, fmt::format("nif {}: {}\n", name, e.what()));
  } catch (const std::exception& e) {
    return report(1, fmt::format("nif {}: error: {}\n", name, e.what()));
  }
}

}  // namespace

int run_cli(int argc, char** argv) {
  ignore_write_signals();
  const std::vector<std::string> all(argv + 1, argv + argc);
  if (all.empty() || all[0] == "--help" || all[0] == "-h" || all[0] == "help") {
    print_usage();
    return all.empty() ? 2 : 0;
  }
  const std::string name = all[0];
  const std::vector<std::string> args(all.begin() + 1, all.end());
  for (const auto& s : kSubcommands) {
    if (name != s.name) continue;
    bool agreed_stop = false;
    const int code = run_subcommand(s, args, agreed_stop);
    // Under MPI a rank that fails may fail alone, while the others wait for it in the next
    // collective: it ends the whole job (MPI_Abort) instead of leaving them hanging.
    const nn::ProcessGroup& world = nn::ProcessGroup::world();
    if (code != 0 && !agreed_stop && world.distributed()) world.abort(code);
    return code;
  }
  return report(2, fmt::format("nif: unknown command '{}' (see nif --help)\n", name));
}

}  // namespace experiments
