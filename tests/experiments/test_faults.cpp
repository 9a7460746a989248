// Faults around a training run: output that cannot be written, a disk that fills up, a batch
// larger than the data, kill -9 while checkpoints are being written, a loss that diverges.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <span>
#include <cmath>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "nn/checkpoint.hpp"
#include "nn/files.hpp"
#include "nn/npy.hpp"
#include "support/address_space.hpp"
#include "support/alloc_counter.hpp"
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

/// A trained 2-epoch run's checkpoint (in `dir`/run).
fs::path small_checkpoint(const fs::path& dir) {
  REQUIRE(nif_cli(quiet_train(dir / "run", 2, 0)).code == 0);
  return dir / "run" / "checkpoint.npz";
}

using Arrays = std::vector<std::pair<std::string, nn::NpyArray>>;

/// Copies checkpoint `from` to `to` with `edit` applied to its metadata and arrays; extra raw
/// members are added as given.
void rewrite_checkpoint(const fs::path& from, const fs::path& to, const std::function<void(nlohmann::json&, Arrays&)>& edit,
                        const std::vector<std::pair<std::string, std::vector<std::byte>>>& extra = {}) {
  nlohmann::json meta = nn::read_checkpoint_metadata(from);
  Arrays arrays = nn::read_npz(from);
  edit(meta, arrays);
  nn::NpzWriter writer;
  for (const auto& [name, array] : arrays) writer.add(name, array);
  for (const auto& [name, bytes] : extra) writer.add_raw(name, bytes);
  const std::string text = meta.dump();
  writer.add_raw("metadata.json", std::vector<std::byte>(reinterpret_cast<const std::byte*>(text.data()),
                                                         reinterpret_cast<const std::byte*>(text.data() + text.size())));
  writer.write(to);
}

std::vector<std::string> predict_args(const fs::path& checkpoint, const fs::path& out) {
  return {"predict", "--checkpoint", checkpoint.string(), "--data", std::string(NIF_TEST_DATA_DIR) + "/traveling_wave.npz",
          "--out", out.string()};
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
    if (fs::exists(run / "nif-run.json")) resume.push_back("--resume");  // a run folder exists to resume
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
  // Targets of 1e3 and plain SGD at the largest learning rate: the weights grow by orders of
  // magnitude each step until the loss overflows. One batch per epoch, so epoch 1 is finite.
  std::string csv = "t,x,u\n";
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < 20; ++j) csv += fmt::format("{},{},{}\n", i, j / 20.0, 1e3 * std::sin(j / 3.0 + i));
  nn::write_file_atomically(data, csv);
  const auto r = nif_cli({"train", "--data", data.string(), "--arch", "upstream", "--param-cols", "0", "--input-cols", "1",
                          "--output-cols", "2", "--batch-size", "200", "--normalization", "none", "--optimizer", "sgd",
                          "--lr", "10", "--schedule", "constant", "--epochs", "50", "--checkpoint-every", "1", "--quiet",
                          "--out", run.string()});
  CHECK(r.code == 1);
  int diverged = 0;
  REQUIRE(std::sscanf(r.err.c_str(), "nif train: error: training diverged: the loss of epoch %d is", &diverged) == 1);
  CHECK(diverged >= 2);
  CHECK(checkpoint_epochs(run / "checkpoint.npz") == diverged - 1);
}

TEST_CASE("inputs that are not regular files (FIFO, device, directory) exit 2 with one line, without blocking") {
  ScratchDir tmp;
  const fs::path fifo = tmp / "points.csv";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  fs::create_symlink("/dev/zero", tmp / "zero.npy");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"train", "--data", fifo.string(), "--quiet", "--out", (tmp / "a").string()}, "is a FIFO, not a regular file"},
      {{"train", "--data", (tmp / "zero.npy").string(), "--quiet", "--out", (tmp / "b").string()}, "is a device, not a regular file"},
      {{"train", "--config", tmp.path().string(), "--quiet", "--out", (tmp / "c").string()}, "is a directory, not a regular file"},
      {{"train", "--config", "/dev/zero", "--quiet", "--out", (tmp / "d").string()}, "is a device, not a regular file"},
      {predict_args("/dev/zero", tmp / "p.npy"), "/dev/zero: is a device, not a regular file"},
      {predict_args(tmp.path(), tmp / "p.npy"), "is a directory, not a regular file"}};
  for (const auto& [args, message] : cases) {
    CAPTURE(args[2]);
    const auto r = nif_cli(args);
    CHECK(r.code == 2);
    CHECK(lines_of(r.err).size() == 1);
    CHECK(r.err.find(message) != std::string::npos);
  }
}

TEST_CASE("predict checks a checkpoint's model sizes against its arrays before building the model") {
  ScratchDir tmp;
  const fs::path forged = tmp / "forged.npz";
  rewrite_checkpoint(small_checkpoint(tmp.path()), forged,
                     [](nlohmann::json& meta, Arrays&) {
                       // Within the config's own bounds, but terabytes of weights.
                       meta["user"]["config"]["parameter_net"]["units"] = 65536;
                       meta["user"]["config"]["parameter_net"]["nlayers"] = 256;
                     });
  const auto r = nif_cli(predict_args(forged, tmp / "p.npy"));
  CHECK(r.code == 2);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.find("metadata.json describes a model of at least 16777216 parameters") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp / "p.npy"));
}

TEST_CASE("predict never inflates a checkpoint member it does not use") {
  ScratchDir tmp;
  const fs::path with_junk = tmp / "junk.npz";
  rewrite_checkpoint(small_checkpoint(tmp.path()), with_junk, [](nlohmann::json&, Arrays&) {},
                     {{"junk.bin", std::vector<std::byte>(4096, std::byte{'J'})}});
  // Corrupt the unused member: reading it would fail its CRC-32.
  std::vector<std::byte> bytes = nn::read_file(with_junk);
  const auto junk = std::search_n(bytes.begin(), bytes.end(), 4096, std::byte{'J'});
  REQUIRE(junk != bytes.end());
  *junk = std::byte{'K'};
  nn::write_file_atomically(with_junk, bytes);
  const auto r = nif_cli(predict_args(with_junk, tmp / "p.npy"));
  CHECK(r.err == "");
  CHECK(r.code == 0);
}

TEST_CASE("predict refuses to write NaN predictions, exit 1 naming the first bad row, and writes nothing") {
  ScratchDir tmp;
  const fs::path poisoned = tmp / "nan.npz";
  rewrite_checkpoint(small_checkpoint(tmp.path()), poisoned, [](nlohmann::json&, Arrays& arrays) {
    for (auto& [name, array] : arrays)
      if (name.starts_with("params/")) {
        std::vector<float> values = array.to_vector<float>();
        std::fill(values.begin(), values.end(), std::numeric_limits<float>::quiet_NaN());
        const auto shape = array.shape;
        array = nn::NpyArray::from_vector(std::span<const float>(values));
        array.shape = shape;
      }
  });
  const auto r = nif_cli(predict_args(poisoned, tmp / "p.npy"));
  CHECK(r.code == 1);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.find("the prediction of row 0 is not finite") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp / "p.npy"));
}

TEST_CASE("predict --out into a missing folder exits 2 before any work") {
  ScratchDir tmp;
  const auto r = nif_cli(predict_args(tmp / "absent.npz", tmp / "missing" / "p.npy"));
  CHECK(r.code == 2);
  CHECK(r.err.find("no such folder (for --out)") != std::string::npos);
}

TEST_CASE("bad values and stray arguments exit 2 with one line, before a run starts") {
  ScratchDir tmp;
  const std::string out = (tmp / "run").string();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"train", "--resume", "runs/x"}, "unexpected argument 'runs/x'"},
      {{"summary", "extra"}, "unexpected argument 'extra'"},
      {{"predict", "stray", "--checkpoint", "c.npz"}, "unexpected argument 'stray'"},
      {{"train", "--seed", "-1", "--out", out}, "--seed"},
      {{"train", "--data", "", "--out", out}, "--data: empty value"},
      {{"train", "--out", ""}, "--out: empty value"},
      {{"train", "--config", "", "--out", out}, "--config: empty file name"}};
  for (const auto& [args, message] : cases) {
    CAPTURE(args[1]);
    const auto r = nif_cli(args);
    CHECK(r.code == 2);
    CHECK(lines_of(r.err).size() == 1);
    CHECK(r.err.find(message) != std::string::npos);
  }
  CHECK_FALSE(fs::exists(tmp / "run"));
}

TEST_CASE("an error message is one line of bounded length whatever the input put into it") {
  ScratchDir tmp;
  const std::string long_name(5000, 'q');
  const auto r = nif_cli({"train", "--data", std::string(NIF_TEST_DATA_DIR) + "/npz/named_columns.npz", "--output-cols",
                          long_name + "\nsecond line", "--quiet", "--out", (tmp / "run").string()});
  CHECK(r.code == 2);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.size() < 700);
}

TEST_CASE("train reads data as people write it: npz members and columns by name; overflow and ambiguity exit 2") {
  ScratchDir tmp;
  const std::string data = std::string(NIF_TEST_DATA_DIR) + "/npz/";
  const std::vector<std::string> named_cols{"--param-cols", "t", "--input-cols", "x", "--output-cols", "u", "--weight-col",
                                            "area", "--epochs", "2", "--batch-size", "4", "--quiet"};
  auto train = [&](const std::string& file, const std::string& out, std::vector<std::string> cols) {
    std::vector<std::string> args{"train", "--data", file, "--out", (tmp / out).string()};
    args.insert(args.end(), cols.begin(), cols.end());
    return nif_cli(args);
  };
  const auto named = train(data + "named_columns.npz", "named", named_cols);
  CHECK(named.err == "");
  CHECK(named.code == 0);
  const std::vector<std::string> index_cols{"--param-cols", "0", "--input-cols", "1", "--output-cols", "2", "--epochs", "2", "--batch-size", "4", "--quiet"};
  CHECK(train(data + "two_tables.npz:train", "member", index_cols).code == 0);

  const auto ambiguous = train(data + "two_tables.npz", "ambiguous", index_cols);
  CHECK(ambiguous.code == 2);
  CHECK(ambiguous.err.find("arrays: train (12, 4) <f4, test (4, 4) <f4") != std::string::npos);
  const auto wide = train(data + "beyond_float.npz", "wide", index_cols);
  CHECK(wide.code == 2);
  CHECK(wide.err.find("row 2, column 1: value 1e+300 is beyond float range") != std::string::npos);
  nn::write_file_atomically(tmp / "big.csv", std::string_view("t,x,u\n0,1,1e400\n1,2,3\n"));
  const auto big = train((tmp / "big.csv").string(), "big", {"--param-cols", "t", "--input-cols", "x", "--output-cols", "u", "--quiet"});
  CHECK(big.code == 2);
  CHECK(big.err.find("big.csv: line 2, column 3: out of float range: '1e400'") != std::string::npos);
}

TEST_CASE("trainer-state counters out of int range in a checkpoint are refused on --resume, exit 2") {
  ScratchDir tmp;
  const fs::path checkpoint = small_checkpoint(tmp.path());
  rewrite_checkpoint(checkpoint, checkpoint, [](nlohmann::json& meta, Arrays&) { meta["user"]["trainer"]["epochs_done"] = 1e300; });
  std::vector<std::string> args = quiet_train(tmp / "run", 4, 0);
  args.push_back("--resume");
  const auto r = nif_cli(args);
  CHECK(r.code == 2);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.find("the trainer state's epochs_done is not an integer in range (1e+300)") != std::string::npos);
}

TEST_CASE("out of memory while reading data is one line naming the file, exit 1" * doctest::skip(testing::kAddressSanitizer)) {
  ScratchDir tmp;
  const fs::path big = tmp / "big.npy";
  { std::ofstream create(big); }
  fs::resize_file(big, std::uintmax_t{4} << 30);  // sparse: 4 GiB that take no disk space
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Room for what the process uses now and a little more, not for 4 GiB.
    testing::cap_address_space(rlim_t{256} << 20);
    const auto r = nif_cli({"train", "--data", big.string(), "--quiet", "--out", (tmp / "run").string()});
    const bool named = r.err.find(big.string() + ": out of memory for its 4294967296 bytes") != std::string::npos;
    ::_exit(r.code == 1 && lines_of(r.err).size() == 1 && named ? 0 : 3);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a finished run is not replaced without --resume or --force; --force deletes only the run's files") {
  ScratchDir tmp;
  const fs::path run = tmp / "run";
  REQUIRE(nif_cli(quiet_train(run, 4, 2)).code == 0);
  REQUIRE(fs::exists(run / "checkpoint-2.npz"));
  nn::write_file_atomically(run / "notes.txt", std::string_view("mine"));
  const auto refused = nif_cli(quiet_train(run, 2, 0));
  CHECK(refused.code == 2);
  CHECK(lines_of(refused.err).size() == 1);
  CHECK(refused.err.find("holds a run; use --resume to continue or --force to start over") != std::string::npos);
  CHECK(checkpoint_epochs(run / "checkpoint.npz") == 4);

  std::vector<std::string> force = quiet_train(run, 2, 0);
  force.push_back("--force");
  CHECK(nif_cli(force).code == 0);
  CHECK(checkpoint_epochs(run / "checkpoint.npz") == 2);
  CHECK_FALSE(fs::exists(run / "checkpoint-2.npz"));  // the old run's, gone
  CHECK(testing::read_text(run / "notes.txt") == "mine");
}

TEST_CASE("train into a non-empty folder that is not a run exits 2 and touches nothing in it") {
  ScratchDir tmp;
  const fs::path mine = tmp / "mine";
  fs::create_directories(mine);
  nn::write_file_atomically(mine / "config.json", std::string_view("{\"my\": \"settings\"}"));
  nn::write_file_atomically(mine / ".notes.tmp-123", std::string_view("kept"));
  for (const bool resume : {false, true}) {
    std::vector<std::string> args = quiet_train(mine, 2, 0);
    if (resume) args.push_back("--resume");
    const auto r = nif_cli(args);
    CHECK(r.code == 2);
    CHECK(r.err.find("not empty and holds no nif run") != std::string::npos);
  }
  CHECK(testing::read_text(mine / "config.json") == "{\"my\": \"settings\"}");
  CHECK(fs::exists(mine / ".notes.tmp-123"));
  CHECK_FALSE(fs::exists(mine / "log.csv"));
}

TEST_CASE("a second writer of a run folder exits 2 naming the process that holds it") {
  ScratchDir tmp;
  const fs::path run = tmp / "run";
  REQUIRE(nif_cli(quiet_train(run, 2, 0)).code == 0);
  // Another process's lock: flock locks belong to the open file, so a second open() conflicts.
  const int fd = ::open((run / "nif-run.lock").c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  REQUIRE(::ftruncate(fd, 0) == 0);
  REQUIRE(::pwrite(fd, "424242", 6, 0) == 6);
  std::vector<std::string> args = quiet_train(run, 4, 0);
  args.push_back("--resume");
  const auto r = nif_cli(args);
  ::close(fd);
  CHECK(r.code == 2);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.find("in use by process 424242") != std::string::npos);
  CHECK(checkpoint_epochs(run / "checkpoint.npz") == 2);
  CHECK(nif_cli(args).code == 0);  // once released
}
