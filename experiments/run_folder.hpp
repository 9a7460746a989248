#pragma once
// A run folder is owned: marked by a manifest, locked while a process writes it, and only the
// files a run writes are ever deleted from it.

#include <filesystem>
#include <string_view>

namespace experiments {

/// What to do with a folder that already holds a run.
enum class ExistingRun {
  refuse,  ///< exit 2: "use --resume to continue or --force to start over"
  resume,  ///< continue it
  replace  ///< --force: delete the run's own files and start over
};

/// Takes `dir` for one run for the lifetime of the object:
///  * creates it when missing; an existing folder must be a run (it holds the manifest
///    nif-run.json, or config.json and checkpoint.npz of a run from before manifests) or empty,
///    otherwise nn::FileError (exit 2) — a user's folder is never written into;
///  * holds an advisory flock on dir/nif-run.lock, which records the holder's PID, so a second
///    process gets nn::FileError naming that PID instead of deleting the first one's temporaries;
///  * applies `existing` to a folder that holds a run;
///  * writes the manifest and removes temporaries a killed writer left.
/// A folder it cannot write into is nn::FileError; a folder it created is then removed again.
class RunFolder {
 public:
  RunFolder(const std::filesystem::path& dir, ExistingRun existing);
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  /// Whether this object created the folder.
  bool created() const { return created_; }
  /// Removes the manifest this object wrote, and the folder with its lock file if it created it
  /// (used when the run cannot start); releases the lock.
  void abandon() noexcept;

  static constexpr std::string_view kManifest = "nif-run.json";
  static constexpr std::string_view kLock = "nif-run.lock";

 private:
  void lock();
  void check_contents(ExistingRun existing);

  std::filesystem::path dir_;
  bool created_ = false;
  bool wrote_manifest_ = false;
  int lock_fd_ = -1;
};

/// Whether `name` is a file a run writes (config.json, log.csv, metrics.json, checkpoint.npz,
/// checkpoint-<epoch>.npz, loss.svg, fields.png, the manifest and the lock file).
bool is_run_file(std::string_view name);

}  // namespace experiments
