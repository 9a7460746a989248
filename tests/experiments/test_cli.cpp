// The `nif` command line run in-process through experiments::run_cli: exit codes and one-line
// errors for bad input, config files, the files a training run writes, resuming, predict and
// report.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "experiments/cli.hpp"
#include "experiments/plot.hpp"
#include "experiments/saved_model.hpp"
#include "nif/csv.hpp"
#include "nif/data.hpp"
#include "nn/checkpoint.hpp"
#include "nn/npy.hpp"
#include "support/cli.hpp"
#include "support/scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::lines_of;
using testing::nif_cli;
using testing::read_text;
using testing::ScratchDir;

using testing::read_json;

/// The loss column of a run's log.csv (header skipped), as written.
std::vector<std::string> loss_column(const fs::path& run_dir) {
  const auto lines = lines_of(read_text(run_dir / "log.csv"));
  REQUIRE(!lines.empty());
  CHECK(lines[0].rfind("epoch,loss,", 0) == 0);
  std::vector<std::string> losses;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::stringstream ss(lines[i]);
    std::string epoch, loss;
    std::getline(ss, epoch, ',');
    std::getline(ss, loss, ',');
    losses.push_back(loss);
  }
  return losses;
}

const std::string kData = NIF_TEST_DATA_DIR;

/// Flags of a tiny, quiet training run into `out`.
std::vector<std::string> tiny_train(const fs::path& out, int epochs, int checkpoint_every = 2) {
  return {"train", "--epochs", std::to_string(epochs), "--log-every", "1", "--checkpoint-every",
          std::to_string(checkpoint_every), "--quiet", "--out", out.string()};
}

void check_usage_error(const std::vector<std::string>& args) {
  std::string shown;
  for (const auto& a : args) shown += a + " ";
  CAPTURE(shown);
  const CliResult r = nif_cli(args);
  CHECK(r.code == 2);
  // One line naming the problem, prefixed by the program.
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.rfind("nif", 0) == 0);
  CHECK(r.out.empty());  // no banner announces a run that is refused
}

}  // namespace

TEST_CASE("bad commands, flags, names, values and files exit 2 with one line on stderr") {
  ScratchDir tmp;
  const std::string out = (tmp / "run").string();
  check_usage_error({"frobnicate"});
  check_usage_error({"train", "--colour", "blue", "--out", out});
  check_usage_error({"train", "--arch", "keras", "--out", out});
  check_usage_error({"train", "--case", "medium", "--out", out});
  check_usage_error({"train", "--optimizer", "rmsprop", "--out", out});
  check_usage_error({"train", "--epochs", "-1", "--out", out});
  check_usage_error({"train", "--epochs=-1", "--out", out});
  check_usage_error({"train", "--batch-size", "0", "--out", out});
  check_usage_error({"train", "--batch-size", "99999", "--out", out});  // more than the case's 2000 points
  check_usage_error({"train", "--fix", "nonsense", "--out", out});
  check_usage_error({"train", "--data", (tmp / "missing.csv").string(), "--out", out});
  check_usage_error({"train", "--data", kData + "/csv/nan.csv", "--epochs", "1", "--out", out});
  check_usage_error({"predict"});
  check_usage_error({"predict", "--checkpoint", (tmp / "missing.npz").string(), "--data", kData + "/traveling_wave.npz",
                     "--out", (tmp / "y.csv").string()});
  check_usage_error({"report", (tmp / "missing").string()});
  check_usage_error({"report", tmp.path().string()});  // a folder without finished runs
  check_usage_error({"summary", "--arch", "keras"});
  // Nothing above got far enough to create a run folder.
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("a bad value's message names the problem") {
  ScratchDir tmp;
  const CliResult r = nif_cli({"train", "--epochs=-1", "--out", (tmp / "run").string()});
  CHECK(r.code == 2);
  CHECK(r.err == "nif train: --epochs must be an integer from 0 to 100000000 (got -1)\n");
}

TEST_CASE("compare validates every name before running anything") {
  ScratchDir tmp;
  const fs::path study = tmp / "study";
  const CliResult r = nif_cli({"compare", "--archs", "upstream,bogus", "--cases", "low-frequency", "--epochs", "1",
                               "--out", study.string()});
  CHECK(r.code == 2);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.find("bogus") != std::string::npos);
  CHECK_FALSE(fs::exists(study));
}

TEST_CASE("train --config reads name = value lines; command-line flags win; unknown keys exit 2") {
  ScratchDir tmp;
  const fs::path file = tmp / "run.ini";
  std::ofstream(file) << "arch = functional\nepochs = 3\ncase = high-frequency\nout = " << (tmp / "from-file").string()
                      << "\n";

  SUBCASE("the file's values reach config.json") {
    REQUIRE(nif_cli({"train", "--config", file.string(), "--quiet"}).code == 0);
    const auto cfg = read_json(tmp / "from-file" / "config.json");
    CHECK(cfg["architecture"] == "functional");
    CHECK(cfg["case"] == "high-frequency");
    CHECK(cfg["train"]["epochs"] == 3);
    CHECK(read_json(tmp / "from-file" / "metrics.json")["epochs"] == 3);
  }
  SUBCASE("a command-line flag overrides the file") {
    REQUIRE(nif_cli({"train", "--config", file.string(), "--quiet", "--epochs", "1", "--out", (tmp / "flag").string()})
                .code == 0);
    CHECK_FALSE(fs::exists(tmp / "from-file"));
    const auto cfg = read_json(tmp / "flag" / "config.json");
    CHECK(cfg["architecture"] == "functional");
    CHECK(cfg["case"] == "high-frequency");
    CHECK(cfg["train"]["epochs"] == 1);
  }
  SUBCASE("an unknown key exits 2") {
    const fs::path bad = tmp / "bad.ini";
    std::ofstream(bad) << "epochs = 1\ncolour = blue\nout = " << (tmp / "bad-run").string() << "\n";
    const CliResult r = nif_cli({"train", "--config", bad.string(), "--quiet"});
    CHECK(r.code == 2);
    CHECK(lines_of(r.err).size() == 1);
    CHECK_FALSE(fs::exists(tmp / "bad-run"));
  }
  SUBCASE("a missing config file exits 2") {
    CHECK(nif_cli({"train", "--config", (tmp / "missing.ini").string(), "--quiet"}).code == 2);
  }
}

TEST_CASE("train writes config, log, metrics, checkpoints and pictures into its run folder") {
  ScratchDir tmp;
  const fs::path run = tmp / "run";
  REQUIRE(nif_cli(tiny_train(run, 3)).code == 0);

  CHECK(read_json(run / "config.json")["train"]["epochs"] == 3);
  const auto log = lines_of(read_text(run / "log.csv"));
  CHECK(log.size() == 4);  // header + 3 epochs

  const auto m = read_json(run / "metrics.json");
  CHECK(m["epochs"] == 3);
  for (const char* key : {"final_loss", "best_loss", "samples_per_s", "wall_s"}) {
    CAPTURE(key);
    REQUIRE(m.contains(key));
    CHECK(m[key].get<double>() > 0);
  }
  CHECK(m["best_loss"].get<double>() <= m["final_loss"].get<double>());

  CHECK(fs::file_size(run / "checkpoint.npz") > 0);
  CHECK(fs::file_size(run / "checkpoint-2.npz") > 0);
  CHECK_FALSE(fs::exists(run / "checkpoint-3.npz"));  // the final epoch goes to checkpoint.npz only

  CHECK(read_text(run / "loss.svg").rfind("<svg", 0) == 0);
  CHECK(read_text(run / "fields.png").rfind("\x89PNG\r\n\x1a\n", 0) == 0);
  const auto [w, h] = experiments::png_size(run / "fields.png");
  CHECK(w >= 100);
  CHECK(h >= 100);
}

TEST_CASE("the same seed gives the same loss history; another seed does not") {
  ScratchDir tmp;
  REQUIRE(nif_cli(tiny_train(tmp / "a", 3)).code == 0);
  REQUIRE(nif_cli(tiny_train(tmp / "b", 3)).code == 0);
  auto other = tiny_train(tmp / "c", 3);
  other.insert(other.end(), {"--seed", "7"});
  REQUIRE(nif_cli(other).code == 0);
  const auto a = loss_column(tmp / "a");
  CHECK(a.size() == 3);
  CHECK(a == loss_column(tmp / "b"));
  CHECK(a != loss_column(tmp / "c"));
}

TEST_CASE("--resume continues a finished run to more epochs exactly like one straight run") {
  ScratchDir tmp;
  const fs::path resumed = tmp / "resumed", straight = tmp / "straight";
  REQUIRE(nif_cli(tiny_train(resumed, 3)).code == 0);
  auto more = tiny_train(resumed, 5);
  more.push_back("--resume");
  const CliResult r = nif_cli(more);
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(nif_cli(tiny_train(straight, 5)).code == 0);

  const auto m = read_json(resumed / "metrics.json");
  CHECK(m["epochs"] == 5);
  CHECK(loss_column(resumed).size() == 5);
  CHECK(m["final_loss"].get<double>() == read_json(straight / "metrics.json")["final_loss"].get<double>());
  CHECK(loss_column(resumed) == loss_column(straight));
}

TEST_CASE("--resume finishes an interrupted run from its last checkpoint exactly like the uninterrupted run") {
  ScratchDir tmp;
  const fs::path run = tmp / "run";
  auto flags = tiny_train(run, 5, 3);  // checkpoint-3.npz holds the state after epoch 3
  REQUIRE(nif_cli(flags).code == 0);
  const double final_loss = read_json(run / "metrics.json")["final_loss"].get<double>();
  const auto losses = loss_column(run);

  // Back to the state of a run killed after epoch 3.
  fs::copy_file(run / "checkpoint-3.npz", run / "checkpoint.npz", fs::copy_options::overwrite_existing);
  fs::remove(run / "metrics.json");
  fs::remove(run / "log.csv");
  flags.push_back("--resume");
  REQUIRE(nif_cli(flags).code == 0);
  const auto m = read_json(run / "metrics.json");
  CHECK(m["epochs"] == 5);
  CHECK(m["final_loss"].get<double>() == final_loss);
  CHECK(loss_column(run) == losses);
}

TEST_CASE("--resume refuses a checkpoint written with another config") {
  ScratchDir tmp;
  const fs::path run = tmp / "run";
  REQUIRE(nif_cli(tiny_train(run, 2)).code == 0);
  auto other = tiny_train(run, 2);
  other.insert(other.end(), {"--resume", "--batch-size", "256"});
  const CliResult r = nif_cli(other);
  CHECK(r.code == 2);
  CHECK(r.err.find("another config") != std::string::npos);
}

TEST_CASE("predict maps a checkpoint's predictions back to physical units") {
  ScratchDir tmp;
  const fs::path run = tmp / "run";
  REQUIRE(nif_cli({"train", "--epochs", "20", "--checkpoint-every", "0", "--quiet", "--out", run.string()}).code == 0);
  const double eval_loss = read_json(run / "metrics.json")["final_eval_loss"].get<double>();

  const fs::path npy = tmp / "pred.npy";
  REQUIRE(nif_cli({"predict", "--checkpoint", (run / "checkpoint.npz").string(), "--data", kData + "/traveling_wave.npz",
                   "--out", npy.string()})
              .code == 0);
  const ad::Matrix<double> pred = nn::read_npy(npy).to_matrix<double>();
  REQUIRE(pred.rows() == 2000);
  REQUIRE(pred.cols() == 3);
  const ad::Matrix<double> truth = nif::read_table(kData + "/traveling_wave.npz").values.cast<double>();
  CHECK(pred.col(0) == truth.col(0));  // t and x are copied through
  CHECK(pred.col(1) == truth.col(1));

  // Low-frequency training uses standard normalisation, so the physical MSE divided by std(u)^2
  // is the trainer's MSE on the normalised data.
  const auto meta = nn::read_checkpoint_metadata(run / "checkpoint.npz");
  const nif::Normalizer normalizer = nif::normalizer_from_json(meta.at("user").at("normalizer"));
  REQUIRE(normalizer.kind == nif::Normalization::standard);
  const double std_u = normalizer.targets.scale.at(0);
  CHECK(std_u == doctest::Approx(0.0125658).epsilon(1e-5));
  const double mse = (pred.col(2) - truth.col(2)).squaredNorm() / double(pred.rows());
  CHECK(mse / (std_u * std_u) == doctest::Approx(eval_loss).epsilon(1e-4));

  const fs::path csv = tmp / "pred.csv";
  REQUIRE(nif_cli({"predict", "--checkpoint", (run / "checkpoint.npz").string(), "--data", kData + "/traveling_wave.npz",
                   "--out", csv.string()})
              .code == 0);
  const auto lines = lines_of(read_text(csv));
  REQUIRE(lines.size() == 2001);
  CHECK(lines[0] == "p0,x0,u");  // the data names no columns; training named its field u
  // The CSV holds the same predictions as the .npy (write_csv round-trips floats exactly).
  const ad::Matrix<double> from_csv = nif::read_table(csv).values.cast<double>();
  REQUIRE(from_csv.rows() == 2000);
  REQUIRE(from_csv.cols() == 3);
  CHECK(from_csv == pred);

  // An output that is neither .npy nor .csv is refused.
  CHECK(nif_cli({"predict", "--checkpoint", (run / "checkpoint.npz").string(), "--data", kData + "/traveling_wave.npz",
                 "--out", (tmp / "pred.txt").string()})
            .code == 2);
}

TEST_CASE("predict --derivatives writes du/dx, d2u/dx2 and du/dt in physical units under a header naming them") {
  ScratchDir tmp;
  const fs::path run = tmp / "run";
  REQUIRE(nif_cli({"train", "--arch", "nif", "--epochs", "20", "--checkpoint-every", "0", "--quiet", "--out", run.string()})
              .code == 0);
  const fs::path points = tmp / "points.csv", csv = tmp / "pred.csv";
  nif::write_csv(points, nif::read_table(kData + "/traveling_wave.npz").values, {"t", "x", "u"});
  REQUIRE(nif_cli({"predict", "--checkpoint", (run / "checkpoint.npz").string(), "--data", points.string(), "--out",
                   csv.string(), "--derivatives"})
              .code == 0);
  CHECK(lines_of(read_text(csv))[0] == "t,x,u,du_dx,d2u_dx2,du_dt");
  const ad::Matrix<float> table = nif::read_table(csv).values;
  REQUIRE(table.cols() == 6);

  // Against central differences of the model's physical predictions, on a few interior points.
  experiments::SavedModel model(run / "checkpoint.npz");
  const ad::Matrix<float> t = table.block(500, 0, 100, 1), x = table.block(500, 1, 100, 1);
  // Steps large enough that float32 rounding of u stays far below the tolerance.
  const float hx = 2e-2f, ht = 0.5f;
  auto u = [&](const ad::Matrix<float>& tt, const ad::Matrix<float>& xx) -> ad::Vector<double> {
    return model.predict(tt, xx).col(0).cast<double>();
  };
  const ad::Matrix<float> x_up = x.array() + hx, x_down = x.array() - hx, t_up = t.array() + ht, t_down = t.array() - ht;
  const ad::Vector<double> du_dx = (u(t, x_up) - u(t, x_down)) / (2.0 * hx);
  const ad::Vector<double> d2u_dx2 = (u(t, x_up) - 2 * u(t, x) + u(t, x_down)) / (double(hx) * hx);
  const ad::Vector<double> du_dt = (u(t_up, x) - u(t_down, x)) / (2.0 * ht);
  auto close = [](const ad::Matrix<float>& analytic, const ad::Vector<double>& numeric) {
    return (analytic.cast<double>() - numeric).cwiseAbs().maxCoeff() <= 5e-2 * numeric.cwiseAbs().maxCoeff();
  };
  CHECK(close(table.block(500, 3, 100, 1), du_dx));
  CHECK(close(table.block(500, 4, 100, 1), d2u_dx2));
  CHECK(close(table.block(500, 5, 100, 1), du_dt));
}

TEST_CASE("report prints the tables of a study folder and writes them as CSV") {
  ScratchDir tmp;
  const fs::path study = tmp / "study";
  fs::copy(kData + "/runs/study", study, fs::copy_options::recursive);
  fs::create_directories(study / "upstream-low-frequency-adam-seed9");  // unfinished: no metrics.json
  REQUIRE(nif_cli({"report", study.string()}).code == 0);

  const auto loss = lines_of(read_text(study / "best_loss.csv"));
  REQUIRE(loss.size() == 3);  // header + two cells; the unfinished runs are ignored
  CHECK(loss[0].rfind("case,architecture,optimizer,runs,trainable_parameters,generated_parameters,best_loss,", 0) == 0);
  CHECK(loss[1] == "low-frequency,pytorch,adam,3,0,0,9.000000e-05,2.000000e-04,1.000000e-04,1.5490e-04,1.7940e-04");
  CHECK(loss[2] == "high-frequency,functional,adam,2,0,0,4.000000e-04,7.000000e-04,6.000000e-04,5.4150e-04,6.8170e-04");

  const auto speed = lines_of(read_text(study / "speed.csv"));
  REQUIRE(speed.size() == 3);
  CHECK(speed[1] == "low-frequency,pytorch,adam,3,110000,28160,12000-15000,56900");
  CHECK(speed[2] == "high-frequency,functional,adam,2,85000,21760,11500-16000,53000");
}

TEST_CASE("summary prints the model of an architecture and case") {
  CHECK(nif_cli({"summary", "--arch", "upstream", "--case", "low-frequency"}).code == 0);
  CHECK(nif_cli({"summary", "--arch", "pytorch", "--case", "high-frequency", "--defects"}).code == 0);
}

TEST_CASE("options and config lines that would hang Boost's error messages are refused with exit 2") {
  // Inputs fuzz/fuzz_config_file.cpp found: Boost 1.74 loops forever filling in a %placeholder%
  // that the offending text itself contains.
  for (const auto& entry : fs::directory_iterator(kData + "/fuzz/config_file")) {
    CAPTURE(entry.path());
    const CliResult r = nif_cli({"train", "--config", entry.path().string(), "--epochs", "1"});
    CHECK(r.code == 2);
    CHECK(r.err.find("two '%' characters are not accepted") != std::string::npos);
  }
  check_usage_error({"train", "--%canonical_option%"});
  check_usage_error({"train", "--epochs=%value%"});
}

TEST_CASE("bench prints a row per case, architecture and thread count, the speed-up against one thread") {
  const CliResult r = nif_cli({"bench", "--no-torch", "--archs", "pytorch,upstream", "--cases", "low-frequency", "--threads",
                               "1,2", "--epochs", "2", "--warmup", "0", "--rounds", "1"});
  REQUIRE(r.code == 0);
  std::vector<std::vector<std::string>> rows;
  for (const auto& line : lines_of(r.out)) {
    if (line.rfind("| low-frequency |", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    for (std::string cell; std::getline(ss, cell, '|');) cells.push_back(cell.substr(1, cell.size() - 2));
    rows.push_back(cells);
  }
  REQUIRE(rows.size() == 4);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(i);
    CHECK(rows[i][1] == (i < 2 ? "pytorch" : "upstream"));
    CHECK(rows[i][2] == "30x2");  // the seed's ShapeNet
    CHECK(rows[i][3] == (i % 2 == 0 ? "1" : "2"));
    CHECK(std::stod(rows[i][4]) > 0);  // samples/s, digits grouped with commas: the leading group
    CHECK(std::stod(rows[i][6]) > 0);  // the GEMM roof measured in the same run
    CHECK(rows[i][9] == "0%");  // one round: no spread
    if (i % 2 == 0) CHECK(rows[i][10] == "1.00x");
    CHECK(rows[i][12] == "n/a");  // no PyTorch reference asked for
  }
}

TEST_CASE("bench refuses bad thread counts and names before measuring anything") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"bench", "--threads", "0"}, {"bench", "--threads", "1,x"}, {"bench", "--threads", ""}, {"bench", "--threads", "2,2"},
        {"bench", "--archs", "pytorch,keras"}, {"bench", "--cases", "medium"}, {"bench", "--rounds", "0"}}) {
    check_usage_error(args);
    CHECK(nif_cli(args).out.empty());
  }
}
