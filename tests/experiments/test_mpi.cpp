// `mpirun -np 2 nif train`: the single-process loss history, and a rank killed mid-run ends the job
// with a checkpoint that loads and resumes under mpirun. Built when the build found MPI
// (NIF_TEST_MPIEXEC is its mpirun, NIF_TEST_BIN the nif program).

#ifdef NIF_TEST_MPIEXEC

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "experiments/saved_model.hpp"
#include "nn/checkpoint.hpp"
#include "support/cli.hpp"
#include "support/scratch_dir.hpp"

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

/// `nif train` on the low-frequency wave with `extra` flags, quietly into `out`.
std::vector<std::string> train_command(const fs::path& out, const std::vector<std::string>& extra) {
  std::vector<std::string> args{NIF_TEST_BIN, "train", "--arch", "pytorch", "--quiet", "--log-every", "1", "--out", out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<std::string> under_mpirun(int ranks, const std::vector<std::string>& command) {
  std::vector<std::string> args{NIF_TEST_MPIEXEC, "--allow-run-as-root", "--oversubscribe", "-np", std::to_string(ranks)};
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

/// Starts `args` with stdout and stderr into `log`; returns its pid.
pid_t start(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::FILE* out = std::fopen(log.c_str(), "w");
    if (out == nullptr) ::_exit(98);
    ::dup2(::fileno(out), STDOUT_FILENO);
    ::dup2(::fileno(out), STDERR_FILENO);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(97);
  }
  return pid;
}

/// The exit status of `pid` once it has ended, or -1 when it is still running after `limit`.
int wait_for(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  int status = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

/// Runs `args` to the end (at most two minutes); returns its exit status, printing its output when not 0.
int run(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = start(args, log);
  const int code = wait_for(pid, std::chrono::seconds(120));
  if (code == -1) ::kill(pid, SIGKILL);
  if (code != 0) MESSAGE(testing::read_text(log));
  return code;
}

std::vector<double> losses(const fs::path& log_csv) {
  std::vector<double> out;
  const auto lines = testing::lines_of(testing::read_text(log_csv));
  for (std::size_t i = 1; i < lines.size(); ++i) out.push_back(std::stod(lines[i].substr(lines[i].find(',') + 1)));
  return out;
}

/// The pid of the process launched by `parent` as MPI rank `rank` (from its environment).
pid_t rank_pid(pid_t parent, int rank) {
  const std::string wanted = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat"), environ(entry.path() / "environ");
    std::string pid, comm, state;
    pid_t ppid = 0;
    if (!(stat >> pid >> comm >> state >> ppid) || ppid != parent) continue;
    for (std::string variable; std::getline(environ, variable, '\0');)
      if (variable == wanted) return std::stoi(name);
  }
  return -1;
}

/// Whether `pid` is a process that still runs (a zombie waiting for a parent to reap it has ended).
bool running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string id, comm, state;
  return static_cast<bool>(stat >> id >> comm >> state) && state != "Z";
}

}  // namespace

TEST_CASE("mpirun -np 2 nif train gives the single-process loss history to relative 1e-5 over 100 epochs") {
  const testing::ScratchDir scratch("nif_test_mpi_history");
  const std::vector<std::string> flags{"--epochs", "100", "--checkpoint-every", "0", "--seed", "3"};
  REQUIRE(run(train_command(scratch.path() / "single", flags), scratch.path() / "single.log") == 0);
  REQUIRE(run(under_mpirun(2, train_command(scratch.path() / "mpi", flags)), scratch.path() / "mpi.log") == 0);
  const std::vector<double> single = losses(scratch.path() / "single" / "log.csv");
  const std::vector<double> mpi = losses(scratch.path() / "mpi" / "log.csv");
  REQUIRE(single.size() == 100);
  REQUIRE(mpi.size() == single.size());
  for (std::size_t e = 0; e < single.size(); ++e) {
    CAPTURE(e);
    CHECK(std::abs(mpi[e] - single[e]) <= 1e-5 * std::abs(single[e]));
  }
  // Rank 0 alone writes: one run, finished, in one folder.
  CHECK(fs::exists(scratch.path() / "mpi" / "metrics.json"));
}

TEST_CASE("killing one rank of mpirun -np 2 nif train ends the other within 10 s and its last checkpoint loads and resumes under mpirun") {
  const testing::ScratchDir scratch("nif_test_mpi_kill");
  const fs::path out = scratch.path() / "run";
  const std::vector<std::string> flags{"--epochs", "100000", "--checkpoint-every", "20"};
  const pid_t mpirun = start(under_mpirun(2, train_command(out, flags)), scratch.path() / "killed.log");
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!fs::exists(out / "checkpoint-40.npz") && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const pid_t victim = rank_pid(mpirun, 1), survivor = rank_pid(mpirun, 0);
  REQUIRE_MESSAGE(fs::exists(out / "checkpoint-40.npz"), testing::read_text(scratch.path() / "killed.log"));
  REQUIRE(victim > 0);
  REQUIRE(survivor > 0);
  REQUIRE(::kill(victim, SIGKILL) == 0);
  const int code = wait_for(mpirun, std::chrono::seconds(10));
  if (code == -1) ::kill(mpirun, SIGKILL);
  REQUIRE_MESSAGE(code != -1, "mpirun still running 10 s after a rank was killed");
  CHECK(code != 0);
  CHECK_FALSE(running(survivor));  // rank 0 has ended too

  experiments::SavedModel saved(out / "checkpoint.npz");  // throws if it does not load
  const int done = nn::read_checkpoint_metadata(out / "checkpoint.npz").at("user").at("trainer").at("epochs_done").get<int>();
  CHECK(done >= 40);
  const std::vector<std::string> more{"--epochs", std::to_string(done + 5), "--checkpoint-every", "20", "--resume"};
  REQUIRE(run(under_mpirun(2, train_command(out, more)), scratch.path() / "resumed.log") == 0);
  CHECK(losses(out / "log.csv").size() == std::size_t(done + 5));
  CHECK(fs::exists(out / "metrics.json"));
}

#endif
