#pragma once
// One training run in a run folder: data preparation, training loop with logs and checkpoints,
// metrics. `nif train` runs one; `nif compare` runs a matrix of them.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/held_out.hpp"
#include "nif/config.hpp"
#include "nif/data.hpp"
#include "nif/trainer.hpp"

namespace experiments {

namespace fs = std::filesystem;

/// Where the points come from: a traveling-wave case (no file, no table), a user's file, or a
/// user's table in memory.
struct DataSpec {
  std::string file;
  /// Points in memory used instead of a file (not owned: it must outlive the run). Set it with
  /// emplace: assigning to an engaged Map would copy values into the viewed memory.
  std::optional<Eigen::Map<const ad::Matrix<float>>> table;
  nif::ColumnSelection columns;  ///< by index or by the file's column names
  std::vector<std::string> table_names;  ///< the column names of `table` (empty: select by index)
  std::string holdout;  ///< `--holdout SPEC` (see nif::parse_holdout), "" when nothing is held out

  bool user_data() const { return !file.empty() || table.has_value(); }
};

/// The data of a run: raw training points, the normaliser fitted on them, the normalised
/// points, and the held-out test points; or, with a memory budget, the stream that reads the
/// training points part by part (raw and normalized are then empty).
struct PreparedData {
  nif::PointDataset raw;
  nif::Normalizer normalizer;
  nif::PointDataset normalized;
  std::unique_ptr<nif::PointStream> stream;
  HeldOut held_out;
  std::vector<std::string> field_labels;  ///< the target columns' names (f0, f1, … when unnamed)
};

/// Loads (or generates) the points, holds out the test part of spec.holdout, fits the
/// normaliser named by cfg.train.normalization ("auto": the seed's choice for the case, standard
/// for a user's file) on the training part and sets the config's input/output widths from the
/// data's column counts. With cfg.train.memory_budget_mb the file is opened for reading in parts
/// that fit the budget and the normaliser is fitted in one pass over it (nif/point_stream.hpp);
/// options that need every point in memory at once are then refused (std::invalid_argument).
PreparedData prepare_data(nif::ExperimentConfig& cfg, const DataSpec& spec);

struct RunOptions {
  bool resume = false;   ///< continue from DIR/checkpoint.npz if it exists
  bool force = false;    ///< DIR holds a run: delete its files and start over (else it is refused)
  bool quiet = false;    ///< no per-epoch lines on stdout
  bool pictures = true;  ///< loss curve and field panels at the end
  /// Called after every epoch with the history so far (a resumed run's included), e.g. to show
  /// progress; an exception from it ends the run.
  std::function<void(const std::vector<nif::EpochLog>&)> on_epoch = {};
  /// Called once the data, the config and the folder have been accepted, before the first epoch,
  /// so that a banner announcing the run is not printed before an error refusing it.
  std::function<void()> on_start = {};
};

/// Trains `cfg` on `spec` into `out`, a RunFolder (owned and locked while it runs): config.json, log.csv, checkpoint.npz (latest) and
/// checkpoint-<epoch>.npz every checkpoint_every epochs, metrics.json, and pictures. Returns the
/// metrics. Throws std::invalid_argument for bad input and std::runtime_error when training fails.
/// SIGINT, SIGTERM or SIGHUP during the run make it finish the current epoch, write checkpoint.npz
/// and log.csv, and throw Interrupted (while the data loads: nn::ReadInterrupted); `--resume` then
/// continues exactly where it stopped. A second signal ends the process at once (StopSignals).
/// Under mpirun (nn::ProcessGroup::world()) every rank trains its share of each batch and rank 0
/// alone writes the folder and returns the metrics (the others return an empty object); a stop
/// signal on any rank stops them all after the same epoch.
nlohmann::json run_training(nif::ExperimentConfig cfg, const DataSpec& spec, const fs::path& out, const RunOptions& options);

/// Training was stopped by SIGINT/SIGTERM/SIGHUP after a checkpoint of the last finished epoch.
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads metrics.json of a finished run, or null when the run is not finished.
nlohmann::json read_metrics(const fs::path& run_dir);

/// The JSON a run wrote (config.json, metrics.json): nn::FileError when it is not valid JSON or
/// larger than kMaxRecordBytes.
nlohmann::json read_json_file(const fs::path& file);
inline constexpr std::size_t kMaxRecordBytes = std::size_t{16} << 20;

}  // namespace experiments
