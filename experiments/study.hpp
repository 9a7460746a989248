#pragma once
// Comparison studies: a matrix of runs in one folder, and the seed study's two tables from them.

#include <filesystem>
#include <string>
#include <vector>

#include "experiments/run.hpp"

namespace experiments {

/// One row of the seed study's published results (experiments/data/seed_results.csv).
struct SeedResult {
  std::string case_name, architecture, optimizer;
  double best_loss = 0, median_final_loss = 0;
  std::string paper_points_per_s;  ///< the paper's range of "points/sec" (batch size / epoch time)
  double median_reported_points_per_s = 0, median_true_samples_per_s = 0;
};

/// The seed's results, parsed from the CSV compiled into the program.
const std::vector<SeedResult>& seed_results();

/// Our results for one (case, architecture, optimizer) over its seeds.
struct Aggregate {
  std::string case_name, architecture, optimizer;
  int runs = 0;
  double best_loss = 0;          ///< min over runs of the best logged loss (the seed's "best")
  double median_final_loss = 0;  ///< median over runs of the final epoch loss
  double best_final_loss = 0;    ///< min over runs of the final epoch loss
  double median_samples_per_s = 0, median_seed_points_per_s = 0;
  long long trainable_parameters = 0;  ///< of the model (the same in every run of the cell)
  long long generated_parameters = 0;  ///< per sample by the ParameterNet (0 without a hypernetwork)
};

/// Aggregates every finished run (a sub-folder with metrics.json) of `dir`.
std::vector<Aggregate> aggregate_runs(const std::filesystem::path& dir);

/// The two tables (best loss; processing speed) as Markdown, ours next to the seed's.
std::string markdown_tables(const std::vector<Aggregate>& ours);

/// Writes DIR/best_loss.csv and DIR/speed.csv.
void write_table_csvs(const std::filesystem::path& dir, const std::vector<Aggregate>& ours);

/// The run folder name of one cell of a study.
std::string run_name(const std::string& arch, const std::string& case_name, const std::string& optimizer, std::uint64_t seed);

}  // namespace experiments
