#include "experiments/study.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <tuple>

#include "experiments/seed_results_csv.hpp"
#include "experiments/statistics.hpp"
#include "nn/files.hpp"
#include "nn/text.hpp"

namespace experiments {

namespace {

const SeedResult* find_seed(const Aggregate& a) {
  for (const auto& s : seed_results())
    if (s.case_name == a.case_name && s.architecture == a.architecture && s.optimizer == a.optimizer) return &s;
  return nullptr;
}

std::string sci(double v) { return fmt::format("{:.3e}", v); }
std::string thousands(double v) { return fmt::format("{}", fmt::group_digits(static_cast<long long>(v + 0.5))); }

}  // namespace

const std::vector<SeedResult>& seed_results() {
  static const std::vector<SeedResult> rows = [] {
    std::vector<SeedResult> out;
    std::stringstream in{std::string(kSeedResultsCsv)};
    bool header = true;
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      if (header) {
        header = false;
        continue;
      }
      const auto c = nn::split(line);
      if (c.size() != 8) throw std::logic_error("seed_results.csv: malformed line: " + line);
      out.push_back({c[0], c[1], c[2], std::stod(c[3]), std::stod(c[4]), c[5], std::stod(c[6]), std::stod(c[7])});
    }
    return out;
  }();
  return rows;
}

std::string run_name(const std::string& arch, const std::string& case_name, const std::string& optimizer, std::uint64_t seed) {
  return fmt::format("{}-{}-{}-seed{}", arch, case_name, optimizer, seed);
}

std::vector<Aggregate> aggregate_runs(const std::filesystem::path& dir) {
  struct Runs {
    std::vector<double> best, final, rate, seed_rate;
    long long trainable = 0, generated = 0;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Runs> groups;
  std::error_code ec;
  std::vector<std::filesystem::path> folders;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.is_directory()) folders.push_back(entry.path());
  if (ec) throw nn::FileError(dir, "cannot list the folder (" + ec.message() + ")");
  std::sort(folders.begin(), folders.end());
  for (const auto& folder : folders) {
    const nlohmann::json m = read_metrics(folder);
    if (m.is_null() || !m.contains("final_loss")) continue;
    try {
      auto& r = groups[{m.at("case").get<std::string>(), m.at("architecture").get<std::string>(),
                        m.at("optimizer").get<std::string>()}];
      r.best.push_back(m.at("best_loss").get<double>());
      r.final.push_back(m.at("final_loss").get<double>());
      r.rate.push_back(m.at("samples_per_s").get<double>());
      r.seed_rate.push_back(m.at("seed_points_per_s").get<double>());
      // Runs written before the counts were recorded show 0.
      r.trainable = m.value("trainable_parameters", 0LL);
      r.generated = m.value("generated_parameters", 0LL);
    } catch (const nlohmann::json::exception& e) {
      throw nn::FileError(folder / "metrics.json", std::string("missing or malformed field (") + e.what() + ")");
    }
  }
  std::vector<Aggregate> out;
  for (const auto& [key, r] : groups) {
    const auto& [c, a, o] = key;
    out.push_back({c, a, o, int(r.final.size()), *std::min_element(r.best.begin(), r.best.end()), median(r.final),
                   *std::min_element(r.final.begin(), r.final.end()), median(r.rate), median(r.seed_rate), r.trainable,
                   r.generated});
  }
  // Seed table order: case (low first), then architecture, then optimizer.
  std::sort(out.begin(), out.end(), [](const Aggregate& x, const Aggregate& y) {
    return std::tuple(x.case_name != "low-frequency", x.case_name, x.architecture, x.optimizer) <
           std::tuple(y.case_name != "low-frequency", y.case_name, y.architecture, y.optimizer);
  });
  return out;
}

std::string markdown_tables(const std::vector<Aggregate>& ours) {
  std::string s = "### Best loss (normalised training MSE)\n\n"
                  "| case | architecture | optimizer | runs | trainable params | generated per sample | ours: best | "
                  "ours: best final | ours: median final | seed: best (paper) | seed: median final |\n"
                  "|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& a : ours) {
    const SeedResult* seed = find_seed(a);
    s += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", a.case_name, a.architecture, a.optimizer,
                     a.runs, thousands(double(a.trainable_parameters)), thousands(double(a.generated_parameters)),
                     sci(a.best_loss), sci(a.best_final_loss), sci(a.median_final_loss),
                     seed ? sci(seed->best_loss) : "not run", seed ? sci(seed->median_final_loss) : "not run");
  }
  s += "\n### Processing speed\n\n"
       "| case | architecture | optimizer | ours: samples/s | ours: seed-style points/s | seed: paper points/sec | "
       "seed: true samples/s (median) | speed-up |\n"
       "|---|---|---|---|---|---|---|---|\n";
  for (const auto& a : ours) {
    const SeedResult* seed = find_seed(a);
    s += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", a.case_name, a.architecture, a.optimizer,
                     thousands(a.median_samples_per_s), thousands(a.median_seed_points_per_s),
                     seed ? seed->paper_points_per_s : "not run", seed ? thousands(seed->median_true_samples_per_s) : "-",
                     seed ? fmt::format("{:.1f}x", a.median_samples_per_s / seed->median_true_samples_per_s) : "-");
  }
  s += "\nThe seed's \"points/sec\" is batch size / epoch time; true samples/s = 2000 / epoch time = 3.906 x that.\n";
  return s;
}

void write_table_csvs(const std::filesystem::path& dir, const std::vector<Aggregate>& ours) {
  std::string loss =
      "case,architecture,optimizer,runs,trainable_parameters,generated_parameters,best_loss,median_final_loss,best_final_loss,"
      "seed_best_loss,seed_median_final_loss\n";
  std::string speed =
      "case,architecture,optimizer,runs,samples_per_s,seed_style_points_per_s,seed_paper_points_per_s,seed_true_samples_per_s\n";
  for (const auto& a : ours) {
    const SeedResult* seed = find_seed(a);
    loss += fmt::format("{},{},{},{},{},{},{:.6e},{:.6e},{:.6e},{},{}\n", a.case_name, a.architecture, a.optimizer, a.runs,
                        a.trainable_parameters, a.generated_parameters, a.best_loss, a.median_final_loss, a.best_final_loss, seed ? fmt::format("{:.4e}", seed->best_loss) : "",
                        seed ? fmt::format("{:.4e}", seed->median_final_loss) : "");
    speed += fmt::format("{},{},{},{},{:.0f},{:.0f},{},{}\n", a.case_name, a.architecture, a.optimizer, a.runs,
                         a.median_samples_per_s, a.median_seed_points_per_s, seed ? seed->paper_points_per_s : "",
                         seed ? fmt::format("{:.0f}", seed->median_true_samples_per_s) : "");
  }
  nn::write_file_atomically(dir / "best_loss.csv", loss);
  nn::write_file_atomically(dir / "speed.csv", speed);
}

}  // namespace experiments
