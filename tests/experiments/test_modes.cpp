// `nif modes`: the spatial modes of a trained modal model on given points, and one-line refusals.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nif/csv.hpp"
#include "nif/modal.hpp"
#include "nif/model.hpp"
#include "nn/npy.hpp"
#include "support/cli.hpp"

namespace {

namespace fs = std::filesystem;
using testing::lines_of;
using testing::nif_cli;

const std::string kData = NIF_TEST_DATA_DIR;

/// Trains `arch` for a few epochs into `run`; returns its checkpoint.
std::string tiny_run(const std::string& arch, const fs::path& run) {
  REQUIRE(nif_cli({"train", "--arch", arch, "--epochs", "5", "--checkpoint-every", "0", "--quiet", "--out", run.string()})
              .code == 0);
  return (run / "checkpoint.npz").string();
}

/// A registered architecture with spatial modes (found through the model interface, so that this
/// test names none), and its number of modes in its default configuration.
std::pair<std::string, ad::Index> modal_architecture() {
  for (const std::string& name : nif::architecture_names()) {
    auto model = nif::make_model<float>(nif::architecture(name).defaults("low-frequency"));
    ad::ParameterBuffer<float> params;
    nn::Rng rng(1);
    model->bind(params, rng);
    ad::Tape<float> tape;
    if (auto* modal = dynamic_cast<nif::ModalModel<float>*>(model.get()))
      return {name, modal->spatial_modes(tape.constant(ad::Matrix<float>::Zero(1, 1))).cols()};
  }
  FAIL("no registered architecture has spatial modes");
  return {};
}

}  // namespace

TEST_CASE("modes writes phi(x) of a modal model on the given points, one column per mode, the same wherever x is") {
  testing::ScratchDir tmp;
  const auto [arch, count] = modal_architecture();
  CAPTURE(arch);
  const std::string checkpoint = tiny_run(arch, tmp / "run");
  const fs::path npy = tmp / "modes.npy";
  const testing::CliResult r = nif_cli({"modes", "--checkpoint", checkpoint, "--data", kData + "/traveling_wave.npz",
                                        "--input-cols", "1", "--out", npy.string()});
  REQUIRE(r.code == 0);
  const ad::Matrix<double> modes = nn::read_npy(npy).to_matrix<double>();
  const ad::Matrix<double> table = nif::read_table(kData + "/traveling_wave.npz").values.cast<double>();
  REQUIRE(modes.rows() == table.rows());
  REQUIRE(modes.cols() == 1 + count);
  CHECK(modes.col(0) == table.col(1));
  CHECK(modes.rightCols(count).allFinite());
  CHECK(modes.rightCols(count).cwiseAbs().maxCoeff() > 0);
  // The modes depend on x only: every snapshot (t) sees the same phi at the same x.
  std::map<double, ad::Matrix<double>> first_at;
  ad::Index repeats = 0;
  for (ad::Index b = 0; b < modes.rows(); ++b) {
    const auto [it, inserted] = first_at.emplace(modes(b, 0), modes.row(b));
    if (!inserted) {
      CHECK((it->second - modes.row(b)).cwiseAbs().maxCoeff() < 1e-5);
      ++repeats;
    }
  }
  CHECK(repeats > 0);

  const fs::path csv = tmp / "modes.csv";
  REQUIRE(nif_cli({"modes", "--checkpoint", checkpoint, "--data", kData + "/traveling_wave.npz", "--input-cols", "1",
                   "--out", csv.string()})
              .code == 0);
  const auto lines = lines_of(testing::read_text(csv));
  REQUIRE(lines.size() == std::size_t(table.rows()) + 1);
  CHECK(lines[0].rfind("x0,phi_0_0,phi_0_1,", 0) == 0);
}

TEST_CASE("modes on a model without spatial modes, or with bad flags, exits 2 with one line") {
  testing::ScratchDir tmp;
  const std::string checkpoint = tiny_run("nif", tmp / "run");
  const testing::CliResult r = nif_cli({"modes", "--checkpoint", checkpoint, "--data", kData + "/traveling_wave.npz",
                                        "--out", (tmp / "m.npy").string()});
  CHECK(r.code == 2);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.find("architecture nif has no spatial modes") != std::string::npos);
  CHECK(!fs::exists(tmp / "m.npy"));
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"modes"},
           {"modes", "--checkpoint", checkpoint, "--data", kData + "/traveling_wave.npz", "--out", (tmp / "m.txt").string()},
           {"modes", "--checkpoint", checkpoint, "--data", kData + "/traveling_wave.npz", "--input-cols", "0,1", "--out",
            (tmp / "m.npy").string()}}) {
    const testing::CliResult bad = nif_cli(args);
    CHECK(bad.code == 2);
    CHECK(lines_of(bad.err).size() == 1);
  }
}
