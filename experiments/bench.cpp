// `nif bench`: training throughput of every architecture on both cases, and the PyTorch
// reference when python3-torch is installed. Prints figures; it is never run as a test.

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "experiments/cli.hpp"
#include "experiments/statistics.hpp"
#include "nif/model.hpp"
#include "nif/trainer.hpp"

namespace experiments {

namespace {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;
}

/// The machine's CPU time so far, all CPUs, in clock ticks: in total and stolen by the hypervisor
/// for other guests (the "steal" column of /proc/stat; zero on bare metal).
struct CpuTicks {
  std::uint64_t total = 0, stolen = 0;
};

std::optional<CpuTicks> read_cpu_ticks() {
  std::ifstream in("/proc/stat");
  std::string label;
  if (!(in >> label) || label != "cpu") return std::nullopt;
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  CpuTicks ticks;
  for (int field = 0; field < 8; ++field) {
    std::uint64_t value = 0;
    if (!(in >> value)) return std::nullopt;
    ticks.total += value;
    if (field == 7) ticks.stolen = value;
  }
  return ticks;
}

struct Measurement {
  double samples_per_s = 0;  ///< median epoch
  CpuTicks ticks;            ///< CPU ticks that passed while measuring (when /proc/stat is readable)
};

/// Median true samples/s over `epochs` epochs after `warmup` epochs.
Measurement measure(nif::ExperimentConfig cfg, int warmup, int epochs) {
  cfg.train.epochs = warmup + epochs;
  PreparedData data = prepare_data(cfg, {});
  nif::Trainer trainer(cfg, data.normalized);
  std::vector<double> rates;
  std::optional<CpuTicks> start;
  for (int e = 0; e < warmup + epochs; ++e) {
    if (e == warmup) start = read_cpu_ticks();
    const auto& log = trainer.train_epoch();
    if (e >= warmup) rates.push_back(log.samples_per_s);
  }
  Measurement m;
  const std::optional<CpuTicks> end = read_cpu_ticks();
  // Some counters (iowait) may run backwards: a total that did not grow is no measurement.
  if (start && end && end->total > start->total && end->stolen >= start->stolen)
    m.ticks = {end->total - start->total, end->stolen - start->stolen};
  std::sort(rates.begin(), rates.end());
  m.samples_per_s = rates[rates.size() / 2];
  return m;
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
  std::string archs = "faithful", cases = "low-frequency,high-frequency";
  std::string threads_list = cores > 1 ? fmt::format("1,{}", cores) : "1";
  std::string torch_script = "bench/torch_reference.py";
  int epochs = 200, warmup = 20, rounds = 3, torch_steps = 1000;
  bool no_grouping = false, keep_subnormals = false, balance_threads = false, no_torch = false;
  po::options_description desc("nif bench [options]");
  desc.add_options()("help", "show this help")("archs", po::value(&archs)->default_value(archs),
                                                 "architectures or families (all, faithful, hypernetwork, baseline)")(
      "cases", po::value(&cases)->default_value(cases), "cases")(
      "threads", po::value(&threads_list)->default_value(threads_list), "comma-separated thread counts")(
      "epochs", po::value(&epochs)->default_value(epochs), "measured epochs per configuration")(
      "warmup", po::value(&warmup)->default_value(warmup), "epochs before measuring")(
      "rounds", po::value(&rounds)->default_value(rounds), "measurements of every configuration (median taken)")(
      "no-grouping", po::bool_switch(&no_grouping), "evaluate the ParameterNet per sample")(
      "keep-subnormals", po::bool_switch(&keep_subnormals), "do not flush subnormal floats to zero")(
      "balance-threads", po::bool_switch(&balance_threads), "cut batches by the threads' measured speeds")(
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
  std::vector<int> thread_counts;
  for (ad::Index t : parse_columns(threads_list, "threads", "a thread count", "1,2")) {
    if (t < 1 || t > 1024) throw UsageError(fmt::format("--threads: {} is not between 1 and 1024", t));
    if (std::find(thread_counts.begin(), thread_counts.end(), int(t)) != thread_counts.end())
      throw UsageError(fmt::format("--threads: {} is listed twice", t));
    thread_counts.push_back(int(t));
  }
  // Every name is checked before anything runs.
  auto flags_of = [&](const std::string& arch, const std::string& case_name, int threads) {
    ExperimentFlags flags;
    flags.set("arch", arch);
    flags.set("case", case_name);
    flags.set("threads", std::to_string(threads));
    for (auto [flag, on] : {std::pair{"no-grouping", no_grouping}, {"keep-subnormals", keep_subnormals},
                            {"balance-threads", balance_threads}})
      if (on) flags.set(flag, "true");
    return flags.config();
  };
  const std::vector<std::string> case_names = split_list(cases, "cases");
  std::vector<std::string> arch_names;
  try {
    arch_names = nif::expand_architectures(split_list(archs, "archs"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  for (const auto& c : case_names)
    for (const auto& a : arch_names) flags_of(a, c, 1);
  fmt::print("Training throughput, batch 512, Adam, true samples/s: median over {} round(s) of the median epoch of {} "
             "epochs after {} warm-up{}\n\n",
             rounds, epochs, warmup,
             std::string(no_grouping ? ", ParameterNet per sample" : "") + (keep_subnormals ? ", subnormals kept" : "") +
                 (balance_threads ? ", batches cut by thread speed" : ""));
  fmt::print("| case | architecture | threads | samples/s | spread | vs 1 thread | CPU stolen | PyTorch reference | ratio |\n"
             "|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& c : case_names) {
    std::map<int, double> torch;
    for (int threads : thread_counts) torch[threads] = no_torch ? -1 : torch_reference(torch_script, c, threads, torch_steps, false);
    for (const auto& a : arch_names) {
      // Thread counts alternate within each round, so a slow phase of a shared machine hits all of
      // them alike; the speed-up is the median of the per-round ratios.
      std::map<int, std::vector<double>> rates;
      std::map<int, CpuTicks> ticks;
      for (int r = 0; r < rounds; ++r) {
        for (int threads : thread_counts) {
          const Measurement m = measure(flags_of(a, c, threads), warmup, epochs);
          rates[threads].push_back(m.samples_per_s);
          ticks[threads].total += m.ticks.total;
          ticks[threads].stolen += m.ticks.stolen;
        }
      }
      for (int threads : thread_counts) {
        const double rate = median(rates[threads]);
        const auto [slowest, fastest] = std::minmax_element(rates[threads].begin(), rates[threads].end());
        const std::string spread = fmt::format("{:.0f}%", 100.0 * (*fastest - *slowest) / rate);
        std::string speedup = "-";
        if (const auto one = rates.find(1); one != rates.end()) {
          std::vector<double> ratios;
          for (int r = 0; r < rounds; ++r) ratios.push_back(rates[threads][std::size_t(r)] / one->second[std::size_t(r)]);
          speedup = fmt::format("{:.2f}x", median(ratios));
        }
        const CpuTicks& t = ticks[threads];
        // /proc/stat counts in 10 ms ticks per CPU: fewer than 20 say nothing.
        const std::string stolen = t.total >= 20 ? fmt::format("{:.0f}%", 100.0 * double(t.stolen) / double(t.total)) : "n/a";
        const bool have_torch = torch[threads] > 0;
        fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", c, a, threads,
                   fmt::group_digits(static_cast<long long>(rate)), spread, speedup, stolen,
                   have_torch ? fmt::format("{}", fmt::group_digits(static_cast<long long>(torch[threads]))) : "n/a",
                   have_torch ? fmt::format("{:.1f}x", rate / torch[threads]) : "-");
        std::fflush(stdout);
      }
    }
  }
  fmt::print("\nPeak resident memory: {:.1f} MB\n", peak_rss_mb());
  fmt::print("spread: (fastest - slowest round) / median. CPU stolen: the share of the machine's CPU time that a\n"
             "hypervisor gave to other guests while the configuration was measured (/proc/stat). A thread stalled\n"
             "or slowed by the host stalls every thread of the step: with a large spread or a few percent stolen,\n"
             "the thread scaling shown is the host's, not the program's.\n");
  return 0;
}

}  // namespace experiments
