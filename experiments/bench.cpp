// `nif bench`: training throughput of every architecture on both cases, and the PyTorch
// reference when python3-torch is installed. Its clock and measurement are tested (bench.hpp);
// its figures never are.

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
#include <chrono>
#include <functional>
#include <thread>
#include <time.h>

#include "experiments/bench.hpp"
#include "experiments/cli.hpp"
#include "experiments/statistics.hpp"
#include "nif/layout.hpp"
#include "nif/model.hpp"
#include "nif/trainer.hpp"

namespace experiments {

namespace {

using ad::Index;

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;
}

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

PreparedData bench_data(nif::ExperimentConfig& cfg, const Grid& grid, ad::Matrix<float>& table) {
  const nif::WaveCase wave = nif::parse_wave_case(cfg.case_name);
  table = nif::traveling_wave(wave, grid.snapshots, grid.points);
  DataSpec spec;
  spec.table.emplace(table.data(), table.rows(), table.cols());
  spec.columns = nif::traveling_wave_columns();
  if (cfg.train.normalization == "auto") cfg.train.normalization = std::string(nif::name(nif::default_normalization(wave)));
  return prepare_data(cfg, spec);
}

}  // namespace

void RegionClock::restart() {
  wall0_ = std::chrono::steady_clock::now();
  cpu0_ = experiments::cpu_seconds();
}

// The CPU clock is read inside the wall clock's bracket: its region is never the longer one.
RegionClock::Seconds RegionClock::elapsed() const {
  const double cpu = experiments::cpu_seconds() - cpu0_;
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count(), cpu};
}

double cpu_seconds(bool thread) {
  timespec t{};
  clock_gettime(thread ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

Throughput measure_throughput(nif::ExperimentConfig cfg, const Grid& grid, int warmup, int epochs) {
  cfg.train.epochs = warmup + epochs;
  ad::Matrix<float> table;
  PreparedData data = bench_data(cfg, grid, table);
  nif::Trainer trainer(cfg, data.normalized);
  for (int e = 0; e < warmup; ++e) trainer.train_epoch();
  const double samples = double(data.normalized.size());
  std::vector<double> rates, cpu_rates;
  const std::optional<CpuTicks> start = read_cpu_ticks();
  RegionClock clock;
  for (int e = 0; e < epochs; ++e) {
    clock.restart();
    trainer.train_epoch();
    const RegionClock::Seconds s = clock.elapsed();
    cpu_rates.push_back(samples / std::max(s.cpu, 1e-9));
    rates.push_back(samples / std::max(s.wall, 1e-9));
  }
  Throughput m;
  const std::optional<CpuTicks> end = read_cpu_ticks();
  // Some counters (iowait) may run backwards: a total that did not grow is no measurement.
  if (start && end && end->total > start->total && end->stolen >= start->stolen)
    m.ticks = {end->total - start->total, end->stolen - start->stolen};
  m.samples_per_s = median(rates);
  m.samples_per_cpu_s = median(cpu_rates);
  return m;
}

namespace {

/// The single-core FP32 limit of a training step, in samples/s: one batch's ShapeNet GEMMs timed
/// with Eigen on this thread (the batch cut into `groups` equal runs, as grouping by snapshot
/// cuts it; per layer Y = X·W, dW = Xᵀ·dY and, but for the first layer, dX = dY·Wᵀ). Everything
/// else a step does (activations, the ParameterNet, Adam) counts as overhead against it. Timed in
/// the thread's CPU time, so that on a shared machine it is the core's speed while it runs.
double gemm_roof(const nif::ShapeNetConfig& shape, Index batch, Index groups) {
  const nif::ShapeNetLayout layout(shape);
  const Index rows = std::max<Index>(batch / std::max<Index>(groups, 1), 1);
  std::vector<ad::Matrix<float>> x, y, w;
  for (Index k = 0; k < layout.layers(); ++k) {
    x.push_back(ad::Matrix<float>::Random(rows, layout.in(k)));
    y.push_back(ad::Matrix<float>::Random(rows, layout.out(k)));
    w.push_back(ad::Matrix<float>::Random(layout.in(k), layout.out(k)));
  }
  std::vector<ad::Matrix<float>> dx = x, dw = w;
  auto one_batch = [&] {
    for (Index g = 0; g < batch / rows; ++g)
      for (std::size_t k = 0; k < x.size(); ++k) {
        y[k].noalias() = x[k] * w[k];
        dw[k].noalias() = x[k].transpose() * y[k];
        if (k > 0) dx[k].noalias() = y[k] * w[k].transpose();
      }
  };
  one_batch();  // warm-up: caches, page faults
  // At least 0.3 s of GEMMs and 3 batches; the fastest batch is the limit.
  double best = 1e30, spent = 0;
  for (int reps = 0; reps < 3 || spent < 0.3; ++reps) {
    const double t0 = cpu_seconds(true);
    one_batch();
    const double s = cpu_seconds(true) - t0;
    best = std::min(best, s);
    spent += s;
  }
  return double(batch / rows * rows) / best;
}

/// Runs bench/torch_reference.py (the seed's PyTorch port) with the ShapeNet shapes, grid, batch
/// and grouping of `cfg`; nullopt when unavailable. `setup` receives the script's first line (torch
/// version and BLAS, which changes its figures several times over).
std::optional<Throughput> torch_reference(const std::string& script, const nif::ExperimentConfig& cfg, const Grid& grid, int threads,
                                          int steps, std::string& setup) {
  const std::string cmd = fmt::format(
      "/usr/bin/python3 {} --case {} --threads {} --steps {} --units {} --layers {} --snapshots {} --points {} --batch-size {}{} "
      "2>/dev/null",
      script, cfg.case_name, threads, steps, cfg.shape_net.units, cfg.shape_net.nlayers, grid.snapshots, grid.points,
      cfg.train.batch_size, cfg.train.group_by_params ? " --grouped" : "");
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  if (pclose(pipe) != 0) return std::nullopt;
  setup = output.substr(0, output.find('\n'));
  const auto value = [&](const std::string& key) {
    const auto at = output.rfind(" " + key + "=");
    return at == std::string::npos ? -1.0 : std::stod(output.substr(at + key.size() + 2));
  };
  Throughput t;
  t.samples_per_s = value("samples_per_s");
  t.samples_per_cpu_s = value("samples_per_cpu_s");
  if (t.samples_per_s <= 0 || t.samples_per_cpu_s <= 0) return std::nullopt;
  return t;
}

/// What `nif bench` was asked to measure.
struct BenchPlan {
  std::vector<std::string> archs, cases;
  std::vector<int> threads;
  Grid grid;
  int epochs = 200, warmup = 20, rounds = 3, torch_steps = 1000;
  bool torch = true;
  std::string torch_script = "bench/torch_reference.py";
};

/// Every round's figures of one architecture on one case, by thread count.
struct Rounds {
  std::map<int, std::vector<double>> rates, cpu_rates, roofs;
  std::map<int, CpuTicks> ticks;
};

Rounds measure_rounds(const BenchPlan& plan, const std::function<nif::ExperimentConfig(int)>& config_of) {
  // Thread counts alternate within each round, so a slow phase of a shared machine hits all of
  // them alike; the speed-up is the median of the per-round ratios.
  Rounds r;
  for (int round = 0; round < plan.rounds; ++round) {
    for (int threads : plan.threads) {
      const nif::ExperimentConfig cfg = config_of(threads);
      const Throughput m = measure_throughput(cfg, plan.grid, plan.warmup, plan.epochs);
      r.rates[threads].push_back(m.samples_per_s);
      r.cpu_rates[threads].push_back(m.samples_per_cpu_s);
      r.ticks[threads].total += m.ticks.total;
      r.ticks[threads].stolen += m.ticks.stolen;
      const Index groups = cfg.train.group_by_params ? plan.grid.snapshots : 1;
      r.roofs[threads].push_back(gemm_roof(cfg.shape_net, std::min<Index>(cfg.train.batch_size, Index(plan.grid.snapshots) * plan.grid.points),
                                           groups));
    }
  }
  return r;
}

/// The PyTorch reference's cells of a row: its samples/s and per CPU-s, and ours over each.
std::string torch_columns(double rate, double cpu_rate, const std::optional<Throughput>& torch) {
  if (!torch) return "n/a | n/a | - | -";
  return fmt::format("{} | {} | {:.1f}x | {:.1f}x", fmt::group_digits(static_cast<long long>(torch->samples_per_s)),
                     fmt::group_digits(static_cast<long long>(torch->samples_per_cpu_s)), rate / torch->samples_per_s,
                     cpu_rate / torch->samples_per_cpu_s);
}

void print_rows(const BenchPlan& plan, const std::string& case_name, const nif::ExperimentConfig& cfg, const Rounds& r,
                const std::map<int, std::optional<Throughput>>& torch) {
  for (int threads : plan.threads) {
    const std::vector<double>& rates = r.rates.at(threads);
    const double rate = median(rates);
    const auto [slowest, fastest] = std::minmax_element(rates.begin(), rates.end());
    const std::string spread = fmt::format("{:.0f}%", 100.0 * (*fastest - *slowest) / rate);
    std::string speedup = "-";
    if (const auto one = r.rates.find(1); one != r.rates.end()) {
      std::vector<double> ratios;
      for (std::size_t k = 0; k < rates.size(); ++k) ratios.push_back(rates[k] / one->second[k]);
      speedup = fmt::format("{:.2f}x", median(ratios));
    }
    const CpuTicks& t = r.ticks.at(threads);
    // /proc/stat counts in 10 ms ticks per CPU: fewer than 20 say nothing.
    const std::string stolen = t.total >= 20 ? fmt::format("{:.0f}%", 100.0 * double(t.stolen) / double(t.total)) : "n/a";
    // The limit of T threads is T cores at the single-core GEMM rate; of a CPU-second, one core's.
    const double roof = median(r.roofs.at(threads)), cpu_rate = median(r.cpu_rates.at(threads));
    fmt::print("| {} | {} | {}x{} | {} | {} | {} | {} | {:.0f}% | {:.0f}% | {} | {} | {} | {} |\n", case_name,
               cfg.architecture, cfg.shape_net.units, cfg.shape_net.nlayers, threads,
               fmt::group_digits(static_cast<long long>(rate)), fmt::group_digits(static_cast<long long>(cpu_rate)),
               fmt::group_digits(static_cast<long long>(roof)), 100.0 * rate / (roof * threads), 100.0 * cpu_rate / roof, spread,
               speedup, stolen, torch_columns(rate, cpu_rate, torch.at(threads)));
    std::fflush(stdout);
  }
}

/// Parses the thread counts of --threads ("1,2"): each from 1 to 1024, none twice.
std::vector<int> thread_counts(const std::string& list) {
  std::vector<int> counts;
  for (ad::Index t : parse_columns(list, "threads", "a thread count", "1,2")) {
    if (t < 1 || t > 1024) throw UsageError(fmt::format("--threads: {} is not between 1 and 1024", t));
    if (std::find(counts.begin(), counts.end(), int(t)) != counts.end())
      throw UsageError(fmt::format("--threads: {} is listed twice", t));
    counts.push_back(int(t));
  }
  return counts;
}

/// Parses `nif bench` arguments into `plan` and `flags` (the experiment flags of the config table
/// but --arch, --case and --threads, which bench takes as lists, and --epochs, which it measures);
/// false after printing the help.
bool parse_bench(const std::vector<std::string>& args, BenchPlan& plan, ExperimentFlags& flags) {
  const unsigned cores = std::thread::hardware_concurrency();
  std::string archs = "faithful", cases = "low-frequency,high-frequency";
  std::string threads_list = cores > 1 ? fmt::format("1,{}", cores) : "1";
  po::options_description desc("nif bench [options]");
  desc.add_options()("help", "show this help")("archs", po::value(&archs)->default_value(archs),
                                                 "architectures or families (all, faithful, hypernetwork, baseline)")(
      "cases", po::value(&cases)->default_value(cases), "cases")(
      "threads", po::value(&threads_list)->default_value(threads_list), "comma-separated thread counts")(
      "snapshots", po::value(&plan.grid.snapshots)->default_value(plan.grid.snapshots), "snapshots (t values) of the generated wave")(
      "points", po::value(&plan.grid.points)->default_value(plan.grid.points), "points (x values) per snapshot")(
      "epochs", po::value(&plan.epochs)->default_value(plan.epochs), "measured epochs per configuration")(
      "warmup", po::value(&plan.warmup)->default_value(plan.warmup), "epochs before measuring")(
      "rounds", po::value(&plan.rounds)->default_value(plan.rounds), "measurements of every configuration (median taken)")(
      "torch-script", po::value(&plan.torch_script)->default_value(plan.torch_script), "the PyTorch reference script")(
      "torch-steps", po::value(&plan.torch_steps)->default_value(plan.torch_steps), "optimizer steps of the PyTorch reference")(
      "no-torch", po::bool_switch(), "skip the PyTorch reference");
  po::options_description experiment("experiment options (as nif train)");
  flags.add_to(experiment, {"arch", "case", "threads", "epochs"});
  desc.add(experiment);
  const auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return false;
  }
  if (plan.epochs <= 0 || plan.warmup < 0 || plan.rounds <= 0)
    throw UsageError("--epochs and --rounds must be positive and --warmup not negative");
  if (plan.grid.snapshots < 1 || plan.grid.points < 1 || std::int64_t(plan.grid.snapshots) * plan.grid.points > (std::int64_t(1) << 31))
    throw UsageError("--snapshots and --points must be positive, their product at most 2^31");
  plan.torch = !vm["no-torch"].as<bool>();
  plan.threads = thread_counts(threads_list);
  plan.cases = split_list(cases, "cases");
  try {
    plan.archs = nif::expand_architectures(split_list(archs, "archs"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  return true;
}

}  // namespace

int run_bench(const std::vector<std::string>& args) {
  BenchPlan plan;
  ExperimentFlags flags;
  if (!parse_bench(args, plan, flags)) return 0;
  auto config_of = [&](const std::string& arch, const std::string& case_name, int threads) {
    ExperimentFlags f = flags;
    f.set("arch", arch);
    f.set("case", case_name);
    f.set("threads", std::to_string(threads));
    return f.config();
  };
  // Every name and value is checked before anything runs.
  for (const auto& c : plan.cases)
    for (const auto& a : plan.archs) (void)nif::parse_wave_case(config_of(a, c, 1).case_name);
  const nif::ExperimentConfig first = config_of(plan.archs.front(), plan.cases.front(), 1);
  const nif::TrainConfig& train = first.train;
  fmt::print("Training throughput on {} x {} points, batch {}, Adam, true samples/s: median over {} round(s) of the median "
             "epoch of {} epochs after {} warm-up{}\n\n",
             plan.grid.snapshots, plan.grid.points, train.batch_size, plan.rounds, plan.epochs, plan.warmup,
             std::string(!train.group_by_params ? ", ParameterNet per sample" : "") +
                 (!train.flush_subnormals ? ", subnormals kept" : "") + (train.balance_threads ? ", batches cut by thread speed" : ""));
  fmt::print("| case | architecture | ShapeNet | threads | samples/s | per CPU-s | GEMM roof | of roof | of roof per CPU-s | spread | "
             "vs 1 thread | CPU stolen | PyTorch reference | PyTorch per CPU-s | ratio | ratio per CPU-s |\n"
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::string torch_setup;
  for (const auto& c : plan.cases) {
    std::map<int, std::optional<Throughput>> torch;
    for (int threads : plan.threads)
      torch[threads] = plan.torch ? torch_reference(plan.torch_script, config_of(plan.archs.front(), c, threads), plan.grid, threads,
                                                    plan.torch_steps, torch_setup)
                                  : std::nullopt;
    for (const auto& a : plan.archs) {
      const Rounds r = measure_rounds(plan, [&](int threads) { return config_of(a, c, threads); });
      print_rows(plan, c, config_of(a, c, 1), r, torch);
    }
  }
  fmt::print("\nPeak resident memory: {:.1f} MB\n", peak_rss_mb());
  if (!torch_setup.empty()) fmt::print("PyTorch reference: {}\n", torch_setup);
  fmt::print("per CPU-s: samples per second of CPU time the process used (all threads, spinning included) over the\n"
             "same epochs as the wall-clock figure (median epoch of each). GEMM roof: the same machine's single-core\n"
             "FP32 limit measured in this run, an Eigen GEMM of the step's ShapeNet shapes (forward, weight and input gradients per layer, the batch cut into one run per\n"
             "snapshot) in samples per second of the thread's CPU time; \"of roof\" is samples/s over threads x roof,\n"
             "\"of roof per CPU-s\" is per CPU-s over roof (what a shared machine's noise affects least).\n"
             "spread: (fastest - slowest round) / median. CPU stolen: the share of the machine's CPU time that a\n"
             "hypervisor gave to other guests while the configuration was measured (/proc/stat). A thread stalled\n"
             "or slowed by the host stalls every thread of the step: with a large spread or a few percent stolen,\n"
             "the thread scaling shown is the host's, not the program's. PyTorch reference: bench/torch_reference.py,\n"
             "the seed's PyTorch port (architecture pytorch) in eager mode with the same ShapeNet shapes, grid, batch and\n"
             "grouping, measured in this run before the case's rows (n/a without python3-torch); ratio: samples/s over its\n"
             "samples/s, ratio per CPU-s: per CPU-s over its per CPU-s (process CPU time of its timed steps).\n");
  return 0;
}

}  // namespace experiments
