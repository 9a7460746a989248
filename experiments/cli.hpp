#pragma once
// The `nif` command line: subcommands, shared flags, error reporting and exit codes.

#include <boost/program_options.hpp>

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

/// The experiment flags every training subcommand shares (--arch, --case, --optimizer, ...).
struct ExperimentFlags {
  std::string arch = "upstream";
  std::string case_name = "low-frequency";
  std::string optimizer = "adam";
  int epochs = 5000;
  long batch_size = 512;
  std::uint64_t seed = 0;
  int threads = 1;
  std::vector<std::string> fix;  ///< defects to correct ("all" or names)
  std::string schedule = "seed";
  double lr = 1e-4;
  std::string normalization = "auto";
  int log_every = 100;
  int checkpoint_every = 1000;
  bool no_grouping = false;
  bool keep_subnormals = false;
  bool balance_threads = false;
  std::string precision = "auto";

  /// Adds the flags to `desc`, bound to this object's fields.
  void add_to(po::options_description& desc);
  /// The architecture's faithful config for the case with these flags applied.
  nif::ExperimentConfig config() const;
};

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

/// A `nif train` command line, parsed: everything run_training needs.
struct TrainRequest {
  nif::ExperimentConfig config;
  DataSpec data;  ///< the case, or --data with the --*-cols columns (which also apply to a table set later)
  std::string out;
  RunOptions options;
  std::string help;  ///< the option list when --help was given (nothing else is then filled in)
};

/// Parses the arguments of `nif train` (without the program and subcommand names); UsageError
/// for bad flags, names or values. The Python module parses its keywords through this too.
TrainRequest parse_train_request(const std::vector<std::string>& args);

int run_train(const std::vector<std::string>& args);
int run_summary(const std::vector<std::string>& args);
int run_compare(const std::vector<std::string>& args);
int run_report(const std::vector<std::string>& args);
int run_predict(const std::vector<std::string>& args);
int run_bench(const std::vector<std::string>& args);

/// Runs `nif <subcommand> ...`; returns the exit code (0 ok, 2 bad input, 1 runtime failure).
int run_cli(int argc, char** argv);

}  // namespace experiments
