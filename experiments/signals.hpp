#pragma once
// How `nif` treats signals: a stop request (SIGINT, SIGTERM, SIGHUP) ends a run after a checkpoint,
// a second one ends it at once, and signals that would kill it for its output (SIGPIPE on a
// closed progress pipe, SIGXFSZ past `ulimit -f`) become ordinary write errors.

#include <string_view>

namespace experiments {

/// Routes SIGINT, SIGTERM and SIGHUP to a stop flag for the lifetime of one run (and makes long
/// reads poll it, see nn::watch_stop_flag). A second stop signal before the run has stopped
/// exits the process at once with status 130: the last checkpoint, written atomically, is
/// intact, and temporaries of a write cut short are removed when the folder is next used.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
};

/// Whether a stop signal arrived since the current StopSignals was installed.
bool stop_requested();

/// Ignores SIGPIPE and SIGXFSZ for the whole process, so a write to a closed pipe fails with
/// EPIPE and a write past the file size limit with EFBIG, each reported like any write failure.
void ignore_write_signals();

/// Writes progress text to stdout and flushes it. Progress is a courtesy: when stdout fails
/// (the reader of a pipe has gone, `nif train | head -1`), it is pointed at /dev/null and
/// training goes on without it.
void print_progress(std::string_view text);

}  // namespace experiments
