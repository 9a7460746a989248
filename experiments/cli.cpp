#include "experiments/cli.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "experiments/demo.hpp"
#include "nif/model.hpp"
#include "nn/files.hpp"
#include "nn/summary.hpp"

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
    {"summary", "print the model summary and parameter counts", run_summary},
    {"demo", "fit sin(x) with a small MLP on the engine", run_demo_command},
};

void print_usage() {
  fmt::print("usage: nif <command> [options]   (nif <command> --help for its options)\n\ncommands:\n");
  for (const auto& s : kSubcommands) fmt::print("  {:<10} {}\n", s.name, s.summary);
}

}  // namespace

void ExperimentFlags::add_to(po::options_description& desc) {
  desc.add_options()
      ("arch", po::value(&arch)->default_value(arch), "architecture: upstream, functional, pytorch")
      ("case", po::value(&case_name)->default_value(case_name), "low-frequency or high-frequency")
      ("optimizer", po::value(&optimizer)->default_value(optimizer), "adam, adabelief or sgd")
      ("epochs", po::value(&epochs)->default_value(epochs), "number of epochs")
      ("batch-size", po::value(&batch_size)->default_value(batch_size), "points per optimizer step")
      ("seed", po::value(&seed)->default_value(seed), "seed of initialisation and shuffling")
      ("threads", po::value(&threads)->default_value(threads), "worker threads")
      ("fix", po::value(&fix)->multitoken(), "correct seed defects: all, or names (see nif summary --defects)")
      ("schedule", po::value(&schedule)->default_value(schedule), "learning rate: seed, constant or cosine")
      ("lr", po::value(&lr)->default_value(lr), "base learning rate of the constant and cosine schedules")
      ("normalization", po::value(&normalization)->default_value(normalization), "auto, standard, minmax or none")
      ("log-every", po::value(&log_every)->default_value(log_every), "epochs between log lines")
      ("checkpoint-every", po::value(&checkpoint_every)->default_value(checkpoint_every), "epochs between checkpoints")
      ("no-grouping", po::bool_switch(&no_grouping), "evaluate the ParameterNet per sample, not once per distinct input");
}

nif::ExperimentConfig ExperimentFlags::config() const {
  nif::ExperimentConfig c;
  try {
    c = nif::architecture(arch).defaults(case_name);
    std::vector<std::string> names;
    for (const auto& f : fix) {
      std::stringstream ss(f);
      for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) names.push_back(item);
    }
    c.defects.fix(names);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (optimizer != "adam" && optimizer != "adabelief" && optimizer != "sgd")
    throw UsageError("unknown optimizer '" + optimizer + "' (expected adam, adabelief or sgd)");
  if (epochs < 0) throw UsageError("--epochs must not be negative");
  if (batch_size <= 0) throw UsageError("--batch-size must be positive");
  if (threads <= 0) throw UsageError("--threads must be positive");
  if (log_every <= 0) throw UsageError("--log-every must be positive");
  if (checkpoint_every < 0) throw UsageError("--checkpoint-every must not be negative");
  if (!(lr > 0)) throw UsageError("--lr must be positive");
  if (schedule != "seed" && schedule != "constant" && schedule != "cosine")
    throw UsageError("unknown schedule '" + schedule + "' (expected seed, constant or cosine)");
  if (normalization != "auto") {
    try {
      nif::parse_normalization(normalization);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  c.optimizer.name = optimizer;
  c.train.epochs = epochs;
  c.train.batch_size = batch_size;
  c.train.seed = seed;
  c.train.threads = threads;
  c.train.schedule = schedule;
  c.train.base_lr = lr;
  c.train.normalization = normalization;
  c.train.log_every = log_every;
  c.train.checkpoint_every = checkpoint_every;
  c.train.group_by_params = !no_grouping;
  return c;
}

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description* positional) {
  po::variables_map vm;
  try {
    po::command_line_parser parser(args);
    parser.options(desc);
    if (positional != nullptr) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("config") && desc.find_nothrow("config", false) != nullptr) {
      const std::string file = vm["config"].as<std::string>();
      std::ifstream in(file);
      if (!in) throw UsageError(file + ": cannot read the config file");
      po::store(po::parse_config_file(in, desc), vm);  // command-line values win: stored first
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return vm;
}

std::vector<ad::Index> parse_columns(const std::string& text, const char* flag) {
  std::vector<ad::Index> cols;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    std::size_t used = 0;
    long v = -1;
    try {
      v = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || item.empty() || v < 0)
      throw UsageError(fmt::format("--{}: '{}' is not a column index (expected e.g. 0,1)", flag, item));
    cols.push_back(v);
  }
  if (cols.empty()) throw UsageError(fmt::format("--{}: no columns given", flag));
  return cols;
}

int run_train(const std::vector<std::string>& args) {
  ExperimentFlags flags;
  std::string out, data, param_cols = "0", input_cols = "1", output_cols = "2", weight_col, config;
  bool resume = false, quiet = false;
  po::options_description desc("nif train [options]");
  desc.add_options()("help", "show this help")("config", po::value(&config), "read options from FILE (name = value lines)")(
      "out", po::value(&out), "run folder (default runs/<arch>-<case>-<optimizer>-seed<seed>)")(
      "data", po::value(&data), "train on your own points (.npz/.npy/.csv) instead of a case")(
      "param-cols", po::value(&param_cols)->default_value(param_cols), "columns of the ParameterNet input (with --data)")(
      "input-cols", po::value(&input_cols)->default_value(input_cols), "columns of the ShapeNet input (with --data)")(
      "output-cols", po::value(&output_cols)->default_value(output_cols), "target columns (with --data)")(
      "weight-col", po::value(&weight_col), "sample-weight column, e.g. cell area (with --data)")(
      "resume", po::bool_switch(&resume), "continue the run in --out from its last checkpoint")(
      "quiet", po::bool_switch(&quiet), "no per-epoch lines");
  flags.add_to(desc);
  const auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  nif::ExperimentConfig cfg = flags.config();
  DataSpec spec;
  if (!data.empty()) {
    spec.file = data;
    spec.columns.params = parse_columns(param_cols, "param-cols");
    spec.columns.coords = parse_columns(input_cols, "input-cols");
    spec.columns.targets = parse_columns(output_cols, "output-cols");
    if (!weight_col.empty()) spec.columns.weight = parse_columns(weight_col, "weight-col").front();
  }
  if (out.empty()) out = fmt::format("runs/{}-{}-{}-seed{}", cfg.architecture, cfg.case_name, cfg.optimizer.name, cfg.train.seed);
  if (!quiet)
    fmt::print("training {} on {} with {} for {} epochs (batch {}, seed {}) into {}\n", cfg.architecture,
               data.empty() ? cfg.case_name : data, cfg.optimizer.name, cfg.train.epochs, cfg.train.batch_size,
               cfg.train.seed, out);
  const nlohmann::json m = run_training(cfg, spec, out, {.resume = resume, .quiet = quiet});
  if (!quiet && m.contains("final_loss"))
    fmt::print("final loss {:.4e}, best (logged) {:.4e}, {:.0f} samples/s, {:.1f} s; results in {}\n",
               m["final_loss"].get<double>(), m["best_loss"].get<double>(), m["samples_per_s"].get<double>(),
               m["wall_s"].get<double>(), out);
  return 0;
}

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
  ad::Tape<float> tape;
  ad::NoGradGuard<float> guard(tape);
  const ad::Matrix<float> p = ad::Matrix<float>::Zero(1, cfg.parameter_net.input_dim);
  const ad::Matrix<float> x = ad::Matrix<float>::Zero(1, cfg.shape_net.input_dim);
  model->forward(tape.constant(p), tape.constant(x));
  fmt::print("{}", nn::summary(*model, fmt::format("{} / {} ({})", cfg.architecture, cfg.case_name,
                                                   nif::architecture(cfg.architecture).description)));
  fmt::print("ShapeNet: {} generated parameters per sample ({} weights, {} biases), {} layers\n",
             model->layout().size(), model->layout().weight_count(), model->layout().size() - model->layout().weight_count(),
             model->layout().layers());
  const auto active = cfg.defects.active();
  std::string list;
  for (const auto& d : active) list += (list.empty() ? "" : ", ") + d;
  fmt::print("Faithful defects on: {}\n", list.empty() ? "none" : list);
  if (defects) {
    fmt::print("Defect switches (--fix NAME or --fix all):\n");
    for (const auto& n : nif::Defects::names()) fmt::print("  {}\n", n);
  }
  return 0;
}

int run_cli(int argc, char** argv) {
  const std::vector<std::string> all(argv + 1, argv + argc);
  if (all.empty() || all[0] == "--help" || all[0] == "-h" || all[0] == "help") {
    print_usage();
    return all.empty() ? 2 : 0;
  }
  const std::string name = all[0];
  const std::vector<std::string> args(all.begin() + 1, all.end());
  for (const auto& s : kSubcommands) {
    if (name != s.name) continue;
    try {
      return s.run(args);
    } catch (const nn::FileError& e) {
      fmt::print(stderr, "nif {}: {}\n", name, e.what());
      return 2;
    } catch (const std::invalid_argument& e) {  // UsageError and invalid data
      fmt::print(stderr, "nif {}: {}\n", name, e.what());
      return 2;
    } catch (const std::exception& e) {
      fmt::print(stderr, "nif {}: error: {}\n", name, e.what());
      return 1;
    }
  }
  fmt::print(stderr, "nif: unknown command '{}' (expected train, predict, summary or demo; see nif --help)\n", name);
  return 2;
}

}  // namespace experiments
