// Faults around a training run: output that cannot be written, a disk that fills up, a batch
// larger than the data, kill -9 while checkpoints are being written, a loss that diverges.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "nn/checkpoint.hpp"
#include "nn/files.hpp"
#include "nn/npy.hpp"
#include "support/cli.hpp"
#include "support/file_size_limit.hpp"
#include "support/scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;
using testing::lines_of;
using testing::nif_cli;
using testing::ScratchDir;

std::vector<std::string> quiet_train(const fs::path& out, int epochs, int checkpoint_every) {
  return {"train", "--epochs", std::to_string(epochs), "--checkpoint-every", std::to_string(checkpoint_every),
          "--quiet", "--out", out.string()};
}

/// Files write_file_atomically left behind (".<name>.tmp-<digits>").
std::vector<std::string> temporaries_in(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) found.push_back(entry.path().filename());
  return found;
}

/// The number of epochs stored in a run's checkpoint, reading it completely (every member
/// decompressed and checked), so a torn file fails here.
int checkpoint_epochs(const fs::path& checkpoint) {
  const auto arrays = nn::read_npz(checkpoint);
  CHECK_FALSE(arrays.empty());
  return nn::read_checkpoint_metadata(checkpoint).at("user").at("trainer").at("epochs_done").get<int>();
}

}  // namespace

TEST_CASE("an --out that cannot be a folder exits 2 with one line and creates nothing") {
  ScratchDir tmp;
  nn::write_file_atomically(tmp / "file", std::string_view("not a folder"));
  const auto r = nif_cli(quiet_train(tmp / "file" / "run", 2, 0));
  CHECK(r.code == 2);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.find("cannot create the run folder") != std::string::npos);
}

TEST_CASE("a run folder that cannot be written exits 2 and leaves nothing behind") {
  ScratchDir tmp;
  testing::CliResult r;
  {
    // Room for the one-line error on the captured stderr, not for config.json.
    const testing::FileSizeLimit nothing_fits(512);
    r = nif_cli(quiet_train(tmp / "run", 2, 0));
  }
  CHECK(r.code == 2);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.find("cannot write into the run folder") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp / "run"));
}

TEST_CASE("a disk filling up during training exits 1; the previous checkpoint stays loadable and no temporary is left") {
  ScratchDir tmp;
  const fs::path run = tmp / "run";
  REQUIRE(nif_cli(quiet_train(run, 4, 2)).code == 0);
  REQUIRE(checkpoint_epochs(run / "checkpoint.npz") == 4);
  auto more = quiet_train(run, 8, 2);
  more.push_back("--resume");
  testing::CliResult r;
  {
    // config.json (a few kB) still fits, a checkpoint (tens of kB) does not.
    const testing::FileSizeLimit almost_full(16 * 1024);
    r = nif_cli(more);
  }
  CHECK(r.code == 1);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.find("checkpoint") != std::string::npos);
  CHECK(checkpoint_epochs(run / "checkpoint.npz") == 4);
  CHECK(temporaries_in(run).empty());
  CHECK(testing::read_text(run / "metrics.json").find("\"epochs\": 4") != std::string::npos);
}

TEST_CASE("a batch larger than the dataset is refused with exit 2") {
  ScratchDir tmp;
  auto args = quiet_train(tmp / "run", 1, 0);
  args.insert(args.end(), {"--batch-size", "2001"});
  const auto r = nif_cli(args);
  CHECK(r.code == 2);
  CHECK(r.err == "nif train: the batch size 2001 is larger than the dataset (2000 points); pass --batch-size 2000 or less\n");
  CHECK_FALSE(fs::exists(tmp / "run"));
}

TEST_CASE("kill -9 while checkpoints are written leaves the previous checkpoint loadable, and --resume carries on") {
  ScratchDir tmp;
  const fs::path run = tmp / "run";
  // A checkpoint every epoch: most of the run's time is spent writing checkpoints.
  const auto args = quiet_train(run, 100000, 1);
  int killed_with_checkpoint = 0;
  for (int attempt = 0; attempt < 6; ++attempt) {
    auto resume = args;
    if (attempt > 0) resume.push_back("--resume");
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::_exit(nif_cli(resume).code);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + 70 * attempt));
    REQUIRE(::kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    if (!fs::exists(run / "checkpoint.npz")) continue;  // killed before the first epoch ended
    ++killed_with_checkpoint;
    CHECK(checkpoint_epochs(run / "checkpoint.npz") >= 1);
  }
  CHECK(killed_with_checkpoint >= 3);
  // Resuming loads the last checkpoint and clears the temporaries the kills left behind.
  const int done = checkpoint_epochs(run / "checkpoint.npz");
  auto finish = quiet_train(run, done + 2, 1);
  finish.push_back("--resume");
  const auto r = nif_cli(finish);
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK(checkpoint_epochs(run / "checkpoint.npz") == done + 2);
  CHECK(temporaries_in(run).empty());
}

TEST_CASE("a loss that stops being finite ends training with exit 1 and keeps the last good checkpoint") {
  ScratchDir tmp;
  const fs::path data = tmp / "points.csv", run = tmp / "run";
  auto write_points = [&](double poisoned_target) {
    std::string csv = "t,x,u\n";
    for (int i = 0; i < 10; ++i)
      for (int j = 0; j < 20; ++j) csv += fmt::format("{},{},{}\n", i, j / 20.0, i == 0 && j == 3 ? poisoned_target : std::sin(j / 3.0 + i));
    nn::write_file_atomically(data, csv);
  };
  auto args = [&](int epochs) {
    return std::vector<std::string>{"train", "--data", data.string(), "--arch", "upstream", "--param-cols", "0", "--input-cols", "1",
                                    "--output-cols", "2", "--batch-size", "50", "--normalization", "none", "--epochs",
                                    std::to_string(epochs), "--checkpoint-every", "1", "--quiet", "--out", run.string()};
  };
  write_points(0.5);
  REQUIRE(nif_cli(args(2)).code == 0);
  // The same file now holds a finite target whose square overflows float: the next epoch's loss is inf.
  write_points(1e30);
  auto resume = args(4);
  resume.push_back("--resume");
  const auto r = nif_cli(resume);
  CHECK(r.code == 1);
  CHECK(r.err == "nif train: error: training diverged: the loss of epoch 3 is inf\n");
  CHECK(checkpoint_epochs(run / "checkpoint.npz") == 2);
}
