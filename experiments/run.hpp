#pragma once
// One training run in a run folder: data preparation, training loop with logs and checkpoints,
// metrics. `nif train` runs one; `nif compare` runs a matrix of them.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "nif/config.hpp"
#include "nif/data.hpp"

namespace experiments {

namespace fs = std::filesystem;

/// Where the points come from: a traveling-wave case (file empty) or a user's file.
struct DataSpec {
  std::string file;
  nif::ColumnSelection columns;  ///< by index or by the file's column names
};

/// The data of a run: raw points, the normaliser fitted on them and the normalised points.
struct PreparedData {
  nif::PointDataset raw;
  nif::Normalizer normalizer;
  nif::PointDataset normalized;
};

/// Loads (or generates) the points, fits the normaliser named by cfg.train.normalization ("auto":
/// the seed's choice for the case, standard for a user's file) and sets the config's input/output
/// widths from the data's column counts.
PreparedData prepare_data(nif::ExperimentConfig& cfg, const DataSpec& spec);

struct RunOptions {
  bool resume = false;   ///< continue from DIR/checkpoint.npz if it exists
  bool force = false;    ///< DIR holds a run: delete its files and start over (else it is refused)
  bool quiet = false;    ///< no per-epoch lines on stdout
  bool pictures = true;  ///< loss curve and field panels at the end
};

/// Trains `cfg` on `spec` into `out`, a RunFolder (owned and locked while it runs): config.json, log.csv, checkpoint.npz (latest) and
/// checkpoint-<epoch>.npz every checkpoint_every epochs, metrics.json, and pictures. Returns the
/// metrics. Throws std::invalid_argument for bad input and std::runtime_error when training fails.
/// SIGINT, SIGTERM or SIGHUP during the run make it finish the current epoch, write checkpoint.npz
/// and log.csv, and throw Interrupted (while the data loads: nn::ReadInterrupted); `--resume` then
/// continues exactly where it stopped. A second signal ends the process at once (StopSignals).
nlohmann::json run_training(nif::ExperimentConfig cfg, const DataSpec& spec, const fs::path& out, const RunOptions& options);

/// Training was stopped by SIGINT/SIGTERM/SIGHUP after a checkpoint of the last finished epoch.
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads metrics.json of a finished run, or null when the run is not finished.
nlohmann::json read_metrics(const fs::path& run_dir);

}  // namespace experiments
