// `nif bench`: training throughput of every architecture on both cases, and the PyTorch
// reference when python3-torch is installed. Prints figures; it is never run as a test.

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "experiments/cli.hpp"
#include "nif/model.hpp"
#include "nif/trainer.hpp"

namespace experiments {

namespace {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;
}

/// Median true samples/s over `epochs` epochs after `warmup` epochs.
double measure(nif::ExperimentConfig cfg, int warmup, int epochs) {
  cfg.train.epochs = warmup + epochs;
  PreparedData data = prepare_data(cfg, {});
  nif::Trainer trainer(cfg, data.normalized);
  std::vector<double> rates;
  for (int e = 0; e < warmup + epochs; ++e) {
    const auto& log = trainer.train_epoch();
    if (e >= warmup) rates.push_back(log.samples_per_s);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

/// Runs bench/torch_reference.py; returns samples/s, or a negative value when unavailable.
double torch_reference(const std::string& script, const std::string& case_name, int threads, int steps, bool grouped) {
  const std::string cmd = fmt::format("/usr/bin/python3 {} --case {} --threads {} --steps {}{} 2>/dev/null", script, case_name,
                                      threads, steps, grouped ? " --grouped" : "");
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  if (pclose(pipe) != 0) return -1;
  const auto at = output.rfind("samples_per_s=");
  return at == std::string::npos ? -1 : std::stod(output.substr(at + 14));
}

}  // namespace

int run_bench(const std::vector<std::string>& args) {
  const unsigned cores = std::thread::hardware_concurrency();
  std::string archs = "upstream,functional,pytorch", cases = "low-frequency,high-frequency";
  std::string threads_list = cores > 1 ? fmt::format("1,{}", cores) : "1";
  std::string torch_script = "bench/torch_reference.py";
  int epochs = 200, warmup = 20, rounds = 3, torch_steps = 1000;
  bool no_grouping = false, keep_subnormals = false, no_torch = false;
  po::options_description desc("nif bench [options]");
  desc.add_options()("help", "show this help")("archs", po::value(&archs)->default_value(archs), "architectures")(
      "cases", po::value(&cases)->default_value(cases), "cases")(
      "threads", po::value(&threads_list)->default_value(threads_list), "comma-separated thread counts")(
      "epochs", po::value(&epochs)->default_value(epochs), "measured epochs per configuration")(
      "warmup", po::value(&warmup)->default_value(warmup), "epochs before measuring")(
      "rounds", po::value(&rounds)->default_value(rounds), "measurements of every configuration (median taken)")(
      "no-grouping", po::bool_switch(&no_grouping), "evaluate the ParameterNet per sample")(
      "keep-subnormals", po::bool_switch(&keep_subnormals), "do not flush subnormal floats to zero")(
      "torch-script", po::value(&torch_script)->default_value(torch_script), "the PyTorch reference script")(
      "torch-steps", po::value(&torch_steps)->default_value(torch_steps), "optimizer steps of the PyTorch reference")(
      "no-torch", po::bool_switch(&no_torch), "skip the PyTorch reference");
  const auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (epochs <= 0 || warmup < 0 || rounds <= 0)
    throw UsageError("--epochs and --rounds must be positive and --warmup not negative");
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');) v.push_back(item);
    return v;
  };
  std::vector<int> thread_counts;
  for (const auto& t : split(threads_list)) thread_counts.push_back(int(parse_columns(t, "threads").front()));
  fmt::print("Training throughput, batch 512, Adam, true samples/s: median over {} round(s) of the median epoch of {} "
             "epochs after {} warm-up{}\n\n",
             rounds, epochs, warmup,
             std::string(no_grouping ? ", ParameterNet per sample" : "") + (keep_subnormals ? ", subnormals kept" : ""));
  fmt::print("| case | architecture | threads | samples/s | vs 1 thread | PyTorch reference | ratio |\n"
             "|---|---|---|---|---|---|---|\n");
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  for (const auto& c : split(cases)) {
    std::map<int, double> torch;
    for (int threads : thread_counts) torch[threads] = no_torch ? -1 : torch_reference(torch_script, c, threads, torch_steps, false);
    for (const auto& a : split(archs)) {
      // Thread counts alternate within each round, so a slow phase of a shared machine hits all of
      // them alike; the speed-up is the median of the per-round ratios.
      std::map<int, std::vector<double>> rates;
      for (int r = 0; r < rounds; ++r) {
        for (int threads : thread_counts) {
          ExperimentFlags flags;
          flags.arch = a;
          flags.case_name = c;
          flags.threads = threads;
          flags.no_grouping = no_grouping;
          flags.keep_subnormals = keep_subnormals;
          rates[threads].push_back(measure(flags.config(), warmup, epochs));
        }
      }
      for (int threads : thread_counts) {
        const double rate = median(rates[threads]);
        std::string speedup = "-";
        if (const auto one = rates.find(1); one != rates.end()) {
          std::vector<double> ratios;
          for (int r = 0; r < rounds; ++r) ratios.push_back(rates[threads][std::size_t(r)] / one->second[std::size_t(r)]);
          speedup = fmt::format("{:.2f}x", median(ratios));
        }
        fmt::print("| {} | {} | {} | {} | {} | {} | {} |\n", c, a, threads, fmt::group_digits(static_cast<long long>(rate)),
                   speedup, torch[threads] > 0 ? fmt::format("{}", fmt::group_digits(static_cast<long long>(torch[threads]))) : "n/a",
                   torch[threads] > 0 ? fmt::format("{:.1f}x", rate / torch[threads]) : "-");
        std::fflush(stdout);
      }
    }
  }
  fmt::print("\nPeak resident memory: {:.1f} MB\n", peak_rss_mb());
  return 0;
}

}  // namespace experiments
