#pragma once
// The `nif` command line: subcommands, shared flags, error reporting and exit codes.

#include <boost/program_options.hpp>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/run.hpp"
#include "nif/config.hpp"

namespace experiments {

namespace po = boost::program_options;

/// Bad flags, names or values: reported on one line, exit code 2.
class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The experiment flags every training subcommand shares, generated from the config's field table
/// (nif::experiment_fields), the options the registered architectures declare, and --fix. Only
/// the flags given change the configuration; the rest are the architecture's defaults for the
/// case (`upstream` on a seed case, `nif` on a user's data).
class ExperimentFlags {
 public:
  /// Adds every flag to `desc`, bound to this object (which must outlive the parse), but those in
  /// `owned`: flags the command defines itself (bench takes lists of threads, architectures, cases).
  void add_to(po::options_description& desc, const std::vector<std::string>& owned = {});
  /// Sets `flag` (without "--") as if given: compare and bench vary arch, case, seed, threads.
  void set(const std::string& flag, std::string value) { given_[flag] = std::move(value); }
  bool given(const std::string& flag) const { return given_.contains(flag); }
  /// The configuration; `own_data` selects the case "custom" and the default architecture `nif`.
  /// UsageError naming the flag for a bad name or value.
  nif::ExperimentConfig config(bool own_data = false) const;
  /// The configuration of a recorded run with the given flags applied; UsageError when --arch or
  /// --case names another than the run's.
  nif::ExperimentConfig config_of_run(const nif::ExperimentConfig& recorded) const;
  /// The settings of --preset that no explicit flag overrides, as "--flag value" words ("" when
  /// no preset is given); UsageError for an unknown preset.
  std::string preset_choices() const;

 private:
  /// The flags given, plus the settings of --preset that none of them overrides.
  std::map<std::string, std::string> with_preset() const;
  /// `c` with every flag of `flags` (but --arch and --case) set, --fix and the variant options applied.
  nif::ExperimentConfig apply(nif::ExperimentConfig c, const std::map<std::string, std::string>& flags) const;

  std::map<std::string, std::string> given_;  ///< flag → its text
  std::vector<std::string> fix_;              ///< defects to correct ("all" or names)
};

/// What `nif train` was asked to do.
struct TrainRequest {
  nif::ExperimentConfig config;
  DataSpec data;
  std::string out;
  RunOptions options;
  std::string preset_choices;  ///< what --preset chose, as flags (see ExperimentFlags::preset_choices)
};

/// Parses `nif train` arguments; nullopt after printing the help for --help. With `table`, the
/// points will come from a table the caller sets in data.table (the Python module's arrays): the
/// column flags apply to it and the config is the one for own data, as with --data.
std::optional<TrainRequest> parse_train_request(const std::vector<std::string>& args, bool table = false);

/// Parses `args` (without the program and subcommand names) against `desc`; a `--config FILE`
/// option, when present in `desc`, reads more values from FILE (INI style: name = value).
po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description* positional = nullptr);

/// Splits "a,b" into its non-empty items; UsageError naming `flag` when there are none.
std::vector<std::string> split_list(const std::string& text, const char* flag);

/// Splits "0,1,2" into non-negative integers (column indices unless `what` names other ones, as
/// "a thread count", with `example` a valid list); UsageError naming `flag` otherwise.
std::vector<ad::Index> parse_columns(const std::string& text, const char* flag, const char* what = "a column index",
                                     const char* example = "0,1");

int run_train(const std::vector<std::string>& args);
int run_summary(const std::vector<std::string>& args);
int run_compare(const std::vector<std::string>& args);
int run_report(const std::vector<std::string>& args);
int run_predict(const std::vector<std::string>& args);
int run_bench(const std::vector<std::string>& args);
int run_modes(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);
int run_compress_study(const std::vector<std::string>& args);

int run_baseline(const std::vector<std::string>& args);
int run_study(const std::vector<std::string>& args);

/// Runs `nif <subcommand> ...`; returns the exit code (0 ok, 2 bad input, 1 runtime failure).
int run_cli(int argc, char** argv);

}  // namespace experiments
