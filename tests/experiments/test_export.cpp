// `nif export` and pruning from the command line: compact models that `nif predict` reads, int8
// within the bound its scales imply, masks held through training, resume and export, and
// one-line refusals.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/saved_model.hpp"
#include "nif/model.hpp"
#include "nn/checkpoint.hpp"
#include "nn/compact.hpp"
#include "nn/npy.hpp"
#include "nn/random.hpp"
#include "support/cli.hpp"

namespace {

namespace fs = std::filesystem;
using testing::lines_of;
using testing::nif_cli;

const std::string kWave = std::string(NIF_TEST_DATA_DIR) + "/traveling_wave.npz";

void train(std::vector<std::string> flags, const fs::path& run) {
  std::vector<std::string> args{"train", "--checkpoint-every", "0", "--quiet", "--out", run.string()};
  args.insert(args.end(), flags.begin(), flags.end());
  const testing::CliResult r = nif_cli(args);
  REQUIRE_MESSAGE(r.code == 0, r.err);
}

fs::path export_as(const fs::path& checkpoint, const std::string& format, const fs::path& out) {
  const testing::CliResult r = nif_cli({"export", "--checkpoint", checkpoint.string(), "--format", format, "--out", out.string()});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  return out;
}

ad::Matrix<double> predict(const fs::path& model, const fs::path& out) {
  const testing::CliResult r = nif_cli({"predict", "--checkpoint", model.string(), "--data", kWave, "--out", out.string()});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find(std::to_string(fs::file_size(model)) + " bytes") != std::string::npos);
  const ad::Matrix<double> table = nn::read_npy(out).to_matrix<double>();
  return table.rightCols(1);
}

double relative_difference(const ad::Matrix<double>& a, const ad::Matrix<double>& b) { return (a - b).norm() / b.norm(); }

/// Whether every value pruned by `mask` is exactly zero in `values`.
bool zero_where_pruned(const nn::PruneMask<float>& mask, const ad::Vector<float>& values) {
  return ((mask.keep().array() == 0) <= (values.array() == 0)).all();
}

}  // namespace

TEST_CASE("export then predict round-trips on every registered architecture: fp32 exactly, fp16 and int8 closely") {
  testing::ScratchDir tmp;
  for (const std::string& arch : nif::architecture_names()) {
    CAPTURE(arch);
    train({"--arch", arch, "--epochs", "2"}, tmp / arch);
    const fs::path checkpoint = tmp / arch / "checkpoint.npz";
    const ad::Matrix<double> reference = predict(checkpoint, tmp / "ref.npy");
    CHECK(predict(export_as(checkpoint, "fp32", tmp / "m.fp32"), tmp / "p.npy") == reference);
    CHECK(relative_difference(predict(export_as(checkpoint, "fp16", tmp / "m.fp16"), tmp / "p.npy"), reference) < 0.03);  // film: 0.9%
    CHECK(relative_difference(predict(export_as(checkpoint, "int8", tmp / "m.int8"), tmp / "p.npy"), reference) < 0.1);
    CHECK(fs::file_size(tmp / "m.fp16") < fs::file_size(tmp / "m.fp32"));
  }
}

TEST_CASE("an int8 export predicts within the bound its per-channel scales imply, on random inputs") {
  // A linear two-layer MLP u = (v·W0 + b0)·W1 + b1 (no normalisation): with |ΔW| ≤ E = scale/2
  // per output channel and fp16 biases (|Δb| ≤ |b|·2⁻¹¹), the first layer's error is at most
  // G = |v|·E0 + |Δb0| and |Δu| ≤ G·|W1| + |h|·E1 + G·E1 + |Δb1|, h = v·W0 + b0.
  testing::ScratchDir tmp;
  train({"--arch", "mlp", "--shape-activation", "identity", "--shape-layers", "0", "--normalization", "none", "--epochs", "3"},
        tmp / "run");
  experiments::SavedModel exact(tmp / "run" / "checkpoint.npz");
  experiments::SavedModel quantised(export_as(tmp / "run" / "checkpoint.npz", "int8", tmp / "m.int8"));
  std::vector<ad::Matrix<double>> w, b, e;
  for (const auto& entry : exact.parameters().entries()) {
    const ad::Matrix<double> value =
        Eigen::Map<const ad::Matrix<float>>(exact.parameters().values().data() + entry.offset, entry.rows, entry.cols).cast<double>();
    if (!entry.is_matrix) {
      b.push_back(value);
      continue;
    }
    w.push_back(value);
    // The scale as stored: fp16, rounded up (at most 2⁻¹⁰ above max|W|/127).
    const Eigen::RowVectorXd half_step = value.cwiseAbs().colwise().maxCoeff() / 127 / 2 * (1 + std::ldexp(1.0, -10));
    e.push_back(half_step.replicate(entry.rows, 1));
  }
  REQUIRE(w.size() == 2);
  nn::Rng rng(5);
  ad::Matrix<float> p(200, 1), x(200, 1);
  for (ad::Index i = 0; i < 200; ++i) {
    p(i, 0) = float(rng.uniform(0, 100));
    x(i, 0) = float(rng.uniform(-1, 1));
  }
  const ad::Matrix<double> u = exact.predict(p, x).cast<double>(), uq = quantised.predict(p, x).cast<double>();
  ad::Matrix<double> v(200, 2);
  v << p.cast<double>(), x.cast<double>();
  const ad::Matrix<double> h = (v * w[0]).rowwise() + b[0].row(0);
  const double half_ulp = std::ldexp(1.0, -11);
  const ad::Matrix<double> g = (v.cwiseAbs() * e[0]).rowwise() + b[0].row(0).cwiseAbs() * half_ulp;
  const ad::Matrix<double> bound =
      ((g * w[1].cwiseAbs() + h.cwiseAbs() * e[1] + g * e[1]).rowwise() + b[1].row(0).cwiseAbs() * half_ulp);
  const ad::Matrix<double> slack = 1e-5 * (u.cwiseAbs().array() + 1).matrix();  // float32 rounding of both evaluations
  CHECK(((uq - u).cwiseAbs().array() <= (bound + slack).array()).all());
  CHECK((uq - u).cwiseAbs().maxCoeff() > 0);  // quantisation did change something
}

TEST_CASE("pruned weights stay exactly zero through training, resume and export") {
  testing::ScratchDir tmp;
  const std::vector<std::string> flags{"--arch", "pytorch", "--prune", "0.8", "--prune-begin", "1", "--prune-end", "3"};
  std::vector<std::string> first = flags, more = flags;
  first.insert(first.end(), {"--epochs", "4"});
  more.insert(more.end(), {"--epochs", "6", "--resume"});
  train(first, tmp / "run");
  train(more, tmp / "run");
  const fs::path checkpoint = tmp / "run" / "checkpoint.npz";
  experiments::SavedModel saved(checkpoint);
  ad::ParameterBuffer<float> params = saved.parameters();
  nn::PruneMask<float> mask;
  nn::load_checkpoint(checkpoint, params, static_cast<nn::Optimizer<float>*>(nullptr), &mask);
  REQUIRE(mask.active());
  CHECK(mask.sparsity(params) == doctest::Approx(0.8).epsilon(0.01));
  CHECK(zero_where_pruned(mask, params.values()));
  CHECK(testing::read_json(tmp / "run" / "metrics.json")["sparsity"].get<double>() == doctest::Approx(0.8).epsilon(0.01));
  for (const std::string format : {"fp32", "fp16", "int8"}) {
    experiments::SavedModel exported(export_as(checkpoint, format, tmp / ("m." + format)));
    CHECK(zero_where_pruned(mask, exported.parameters().values()));
  }
  // int8 is not smaller than fp16 here: the 1-wide bottleneck gives the output layer one weight
  // per channel, each with its 2-byte scale (see README, "NIF as compression").
  CHECK(fs::file_size(tmp / "m.fp16") < fs::file_size(tmp / "m.fp32"));
}

TEST_CASE("bad sparsities, schedules, scopes and formats, and a pruned run's checkpoint without masks exit 2 with one line") {
  testing::ScratchDir tmp;
  auto refused = [](std::vector<std::string> args, const std::string& words) {
    CAPTURE(args);
    const testing::CliResult r = nif_cli(args);
    CHECK(r.code == 2);
    CHECK(lines_of(r.err).size() == 1);
    CHECK_MESSAGE(r.err.find(words) != std::string::npos, r.err);
  };
  const std::string out = (tmp / "bad").string();
  refused({"train", "--prune", "1", "--prune-end", "1", "--epochs", "2", "--out", out}, "--prune must be a number in [0, 1)");
  refused({"train", "--prune", "-0.1", "--prune-end", "1", "--epochs", "2", "--out", out}, "--prune must be a number in [0, 1)");
  refused({"train", "--prune", "0.5", "--epochs", "2", "--out", out}, "--prune needs --prune-end");
  refused({"train", "--prune", "0.5", "--prune-end", "9", "--epochs", "2", "--out", out}, "beyond --epochs");
  refused({"train", "--prune", "0.5", "--prune-end", "1", "--prune-scope", "row", "--epochs", "2", "--out", out}, "--prune-scope");

  train({"--arch", "pytorch", "--epochs", "3", "--prune", "0.5", "--prune-end", "2"}, tmp / "run");
  const fs::path checkpoint = tmp / "run" / "checkpoint.npz";
  refused({"export", "--checkpoint", checkpoint.string(), "--format", "int4", "--out", (tmp / "m").string()}, "unknown format 'int4'");
  refused({"export", "--checkpoint", checkpoint.string(), "--format", "int8", "--out", checkpoint.string()}, "not a compact model");
  refused({"predict", "--checkpoint", (tmp / "run" / "config.json").string(), "--data", kWave, "--out", (tmp / "p.npy").string()},
          "config.json");

  // The run's checkpoint with its masks taken out: resuming it asks for them.
  nn::NpzWriter stripped;
  for (auto [name, bytes] : nn::read_zip_members(checkpoint))
    if (!name.starts_with("masks/")) stripped.add_raw(name, bytes);
  stripped.write(checkpoint);
  refused({"train", "--arch", "pytorch", "--epochs", "4", "--prune", "0.5", "--prune-end", "2", "--resume", "--quiet", "--out",
           (tmp / "run").string()},
          "has no masks");
}
