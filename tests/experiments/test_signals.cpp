// Interrupting a run: SIGINT finishes the epoch, checkpoints it, and --resume continues exactly;
// SIGHUP, a second signal, a closed progress pipe and the file size limit.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>
#include <csignal>
#include <filesystem>
#include <thread>

#include "experiments/cli.hpp"
#include "experiments/run.hpp"
#include "experiments/signals.hpp"
#include "nif/model.hpp"
#include "nn/npy.hpp"
#include "support/cli.hpp"
#include "support/scratch_dir.hpp"

using namespace experiments;

TEST_CASE("SIGINT during training checkpoints the last finished epoch and --resume reaches the uninterrupted result") {
  const testing::ScratchDir scratch("nif_test_signals");  // concurrent test runs stay apart
  const std::filesystem::path& root = scratch.path();
  nif::ExperimentConfig cfg = nif::architecture("pytorch").defaults("low-frequency");
  cfg.train.epochs = 3000;
  cfg.train.checkpoint_every = 0;
  const RunOptions quiet{.quiet = true, .pictures = false};
  const auto straight = run_training(cfg, {}, root / "straight", quiet);

  // Raise SIGINT once the interrupted run has started (its config.json exists).
  std::thread sender([&] {
    while (!std::filesystem::exists(root / "interrupted" / "config.json"))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::raise(SIGINT);
  });
  bool interrupted = false;
  try {
    run_training(cfg, {}, root / "interrupted", quiet);
  } catch (const Interrupted&) {
    interrupted = true;
  }
  sender.join();
  REQUIRE(interrupted);
  CHECK(std::filesystem::exists(root / "interrupted" / "checkpoint.npz"));
  CHECK_FALSE(std::filesystem::exists(root / "interrupted" / "metrics.json"));

  const auto resumed = run_training(cfg, {}, root / "interrupted", {.resume = true, .quiet = true, .pictures = false});
  CHECK(resumed.at("final_loss").get<double>() == straight.at("final_loss").get<double>());
  const auto a = nn::read_npz(root / "straight" / "checkpoint.npz");
  const auto b = nn::read_npz(root / "interrupted" / "checkpoint.npz");
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CAPTURE(a[i].first);
    CHECK(a[i] == b[i]);
  }
}

namespace {

/// Runs `body` in a child process with stderr going to `err`; returns the wait status.
template <class F>
int in_child(const std::filesystem::path& err, F&& body) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
    body();
    ::_exit(99);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  return status;
}

std::vector<std::string> train_args(const std::filesystem::path& out, bool quiet) {
  std::vector<std::string> args{"nif", "train", "--epochs", "3", "--log-every", "1", "--checkpoint-every", "0", "--out", out.string()};
  if (quiet) args.push_back("--quiet");
  return args;
}

int run_cli_with(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return experiments::run_cli(int(args.size()), argv.data());
}

}  // namespace

TEST_CASE("SIGHUP stops a run like SIGTERM: the last finished epoch is checkpointed") {
  const testing::ScratchDir scratch("nif_test_sighup");
  nif::ExperimentConfig cfg = nif::architecture("pytorch").defaults("low-frequency");
  cfg.train.epochs = 100000;
  cfg.train.checkpoint_every = 0;
  std::thread sender([&] {
    while (!std::filesystem::exists(scratch / "run" / "config.json")) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::raise(SIGHUP);
  });
  bool interrupted = false;
  try {
    run_training(cfg, {}, scratch / "run", {.quiet = true, .pictures = false});
  } catch (const Interrupted&) {
    interrupted = true;
  }
  sender.join();
  CHECK(interrupted);
  CHECK(std::filesystem::exists(scratch / "run" / "checkpoint.npz"));
}

TEST_CASE("a second stop signal ends the process at once with status 130 and says so") {
  const testing::ScratchDir scratch("nif_test_second_signal");
  const int status = in_child(scratch / "err.txt", [] {
    const StopSignals signals;
    std::raise(SIGINT);  // the first only asks the run to stop
    if (!stop_requested()) ::_exit(5);
    std::raise(SIGINT);
    ::_exit(6);
  });
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK(testing::read_text(scratch / "err.txt").find("stopped at once by a second signal") != std::string::npos);
}

TEST_CASE("a closed progress pipe (nif train | head -1) does not stop training") {
  const testing::ScratchDir scratch("nif_test_sigpipe");
  const int status = in_child(scratch / "err.txt", [&] {
    std::signal(SIGPIPE, SIG_DFL);  // as in a fresh process
    int ends[2];
    if (::pipe(ends) != 0) ::_exit(7);
    ::close(ends[0]);  // the reader has gone
    ::dup2(ends[1], STDOUT_FILENO);
    ::_exit(run_cli_with(train_args(scratch / "run", false)));
  });
  REQUIRE(WIFEXITED(status));  // not killed by SIGPIPE
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(std::filesystem::exists(scratch / "run" / "metrics.json"));
}

TEST_CASE("the file size limit (ulimit -f) is a write failure: exit 1 with a message, no temporaries left") {
  const testing::ScratchDir scratch("nif_test_sigxfsz");
  const int status = in_child(scratch / "err.txt", [&] {
    std::signal(SIGXFSZ, SIG_DFL);  // as in a fresh process
    const rlimit limit{8192, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(8);
    ::_exit(run_cli_with(train_args(scratch / "run", true)));
  });
  REQUIRE(WIFEXITED(status));  // not killed by SIGXFSZ
  CHECK(WEXITSTATUS(status) == 1);
  const std::string err = testing::read_text(scratch / "err.txt");
  CHECK(err.find("error:") != std::string::npos);
  for (const auto& entry : std::filesystem::directory_iterator(scratch / "run"))
    CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
}
