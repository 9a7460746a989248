#include "experiments/signals.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "nn/files.hpp"

namespace experiments {

namespace {

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the flag is set from a signal handler");

extern "C" void on_stop_signal(int) {
  if (!g_stop_requested.exchange(true)) return;
  // Only async-signal-safe calls from here on.
  static constexpr char message[] = "\nnif: stopped at once by a second signal; the last checkpoint is kept\n";
  [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
  ::_exit(130);
}

struct sigaction previous[std::size(kStopSignals)];

}  // namespace

StopSignals::StopSignals() {
  g_stop_requested.store(false);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (std::size_t i = 0; i < std::size(kStopSignals); ++i) ::sigaction(kStopSignals[i], &action, &previous[i]);
  nn::watch_stop_flag(&g_stop_requested);
}

StopSignals::~StopSignals() {
  nn::watch_stop_flag(nullptr);
  for (std::size_t i = 0; i < std::size(kStopSignals); ++i) ::sigaction(kStopSignals[i], &previous[i], nullptr);
}

bool stop_requested() { return g_stop_requested.load(); }

void ignore_write_signals() {
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);
}

void print_progress(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) == text.size() && std::fflush(stdout) == 0) return;
  // What could not be written is dropped with the rest of the progress.
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDOUT_FILENO);
    ::close(null);
  }
  std::clearerr(stdout);
}

}  // namespace experiments
