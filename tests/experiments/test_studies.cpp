// `nif study NAME`: each study definition runs at a tiny budget on the shipped data (a few of
// its cells, one epoch), prints its table and CSV, keeps finished cells, and refuses bad names.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support/cli.hpp"
#include "support/scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::lines_of;
using testing::nif_cli;
using testing::read_json;
using testing::read_text;
using testing::ScratchDir;

const fs::path kDataDir = fs::path(NIF_TEST_DATA_DIR) / ".." / ".." / "data";

/// `nif study NAME` on the shipped data at one epoch of large batches, only `cells`.
std::vector<std::string> tiny(const std::string& name, const fs::path& out, const std::string& cells, const char* epochs = "1") {
  return {"study", name, "--out", out.string(), "--cells", cells, "--epochs", epochs, "--batch-size", "65536",
          "--data-dir", kDataDir.string()};
}

CliResult run_ok(const std::vector<std::string>& args) {
  const CliResult r = nif_cli(args);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return r;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("nif study cylinder-time at a tiny budget prints NIF and POD rows, writes the CSV, keeps finished cells and resumes stopped ones") {
  ScratchDir tmp;
  const fs::path out = tmp / "time";
  const CliResult r = run_ok(tiny("cylinder-time", out, "nif-32,pod-cubic-r8"));
  CHECK(has(r.out, "held-out rel. L2 %"));
  CHECK(has(r.out, "| POD, cubic coefficients | rank 8 | 143,008 | – | 0.563 |"));  // the reference figure
  CHECK(has(r.out, "| nif | ShapeNet 32 x 2, latent 8 |"));
  const auto m = read_json(out / "nif-32-seed1" / "metrics.json");
  CHECK(m["holdout"] == "every:3");
  CHECK(m["test_points"] == 27 * 7920);
  CHECK(m.contains("test_rel_l2_v"));
  CHECK(m.contains("train_rel_l2_u"));
  const auto csv = lines_of(read_text(out / "results.csv"));
  REQUIRE(csv.size() == 3);
  CHECK(csv[0] == "study,cell,method,size,stored_values,runs,rel_l2_median,rel_l2_min,rel_l2_max,rel_l2_u_median,"
                  "rel_l2_v_median,train_s_median,paper_percent");

  const CliResult again = run_ok(tiny("cylinder-time", out, "nif-32,pod-cubic-r8"));
  CHECK(has(again.out, "nif-32-seed1: finished earlier, kept"));
  CHECK(read_json(out / "nif-32-seed1" / "metrics.json") == m);  // not trained again

  // A cell that stopped after its checkpoint (no metrics.json yet) resumes from it: nothing is
  // trained again, so the recorded training time is the checkpoint's.
  fs::remove(out / "nif-32-seed1" / "metrics.json");
  const CliResult resumed = run_ok(tiny("cylinder-time", out, "nif-32"));
  CHECK(!has(resumed.out, "finished earlier"));
  const auto m2 = read_json(out / "nif-32-seed1" / "metrics.json");
  CHECK(m2["epochs"] == 1);
  CHECK(m2["train_s"].get<double>() == doctest::Approx(m["train_s"].get<double>()).epsilon(1e-12));
  CHECK(m2["test_rel_l2"].get<double>() == doctest::Approx(m["test_rel_l2"].get<double>()).epsilon(1e-6));
  CHECK(lines_of(read_text(out / "results.csv")).size() == 3);  // --cells nif-32 keeps the POD row

  const CliResult report = run_ok({"study", "cylinder-time", "--out", out.string(), "--report"});
  CHECK(has(report.out, "| POD, cubic coefficients | rank 8 |"));
  CHECK(has(report.out, "Not run yet: nif-64, nif-128, linear-nif-64, pod-linear-r2"));
  CHECK(!has(report.out, "..."));  // nothing trained

  const CliResult other = nif_cli(tiny("cylinder-time", out, "nif-32", "2"));
  CHECK(other.code == 2);
  CHECK(lines_of(other.err).size() == 1);
  CHECK(has(other.err, "holds a finished run with another configuration (/train/epochs: 2)"));
}

TEST_CASE("nif study cylinder-param builds the (t, Re) table from the three files and tests on all of Re 100") {
  ScratchDir tmp;
  const CliResult r = run_ok(tiny("cylinder-param", tmp / "param", "linear-nif-64,pod-linear-r2"));
  CHECK(has(r.out, "| POD, linear coefficients | rank 2 |"));
  const auto m = read_json(tmp / "param" / "linear-nif-64-seed1" / "metrics.json");
  CHECK(m["holdout"] == "param:Re=100");
  CHECK(m["test_points"] == 83 * 7920);
  REQUIRE(m["test_snapshots"].size() == 83);
  CHECK(m["test_snapshots"][0]["params"]["Re"] == 100.0);
  const auto config = read_json(tmp / "param" / "linear-nif-64-seed1" / "config.json");
  CHECK(config["parameter_net"]["input_dim"] == 2);
}

TEST_CASE("nif study turbulence measures the error on the training video and shows the paper's figures") {
  ScratchDir tmp;
  const CliResult r = run_ok(tiny("turbulence", tmp / "hit", "siren-36,nif-36"));
  CHECK(has(r.out, "training rel. L2 %"));
  CHECK(has(r.out, "paper % |"));
  CHECK(has(r.out, "| SIREN | width 36 |"));
  CHECK(has(r.out, "| 12.1 |"));
  const auto m = read_json(tmp / "hit" / "nif-36-seed1" / "metrics.json");
  CHECK(m["train_rel_l2"].get<double>() > 0);
  CHECK(m["train_rel_l2"] == m["train_rel_l2_w"]);
  CHECK(!m.contains("test_rel_l2"));
}

TEST_CASE("nif study refuses an unknown study or cell with one line (exit 2) and lists the cells") {
  const CliResult bad = nif_cli({"study", "cylinder"});
  CHECK(bad.code == 2);
  CHECK(lines_of(bad.err).size() == 1);
  CHECK(has(bad.err, "unknown study 'cylinder' (expected cylinder-time, cylinder-param, turbulence)"));
  ScratchDir tmp;
  const CliResult cell = nif_cli(tiny("turbulence", tmp / "x", "siren-36,siren-37"));
  CHECK(cell.code == 2);
  CHECK(has(cell.err, "study turbulence has no cell 'siren-37'"));
  CHECK(!fs::exists(tmp / "x"));
  CHECK(nif_cli({"study"}).code == 2);
  const CliResult list = run_ok({"study", "turbulence", "--list"});
  CHECK(has(list.out, "fourier-100-150"));
  CHECK(has(list.out, "--epochs"));
}
