// Checkpoints: numpy-readable layout, exact round trips, bit-for-bit resume, refusal of bad files.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "nn/checkpoint.hpp"
#include "nn/files.hpp"
#include "nn/layers.hpp"
#include "nn/npy.hpp"
#include "support/gradcheck.hpp"

using namespace nn;
using ad::Matrix;

namespace {

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("nif_test_checkpoint_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// A small MLP fitting a fixed batch with Adam; everything reproducible from the seed.
struct Fit {
  Sequential<float> net;
  ad::ParameterBuffer<float> params;
  std::unique_ptr<Optimizer<float>> opt;
  Matrix<float> x = testing::random_matrix(32, 2, 1).cast<float>();
  Matrix<float> y = testing::random_matrix(32, 1, 2).cast<float>();
  ad::Tape<float> tape;
  explicit Fit(std::uint64_t seed, Index hidden = 8) {
    net.add("hidden", std::make_shared<Dense<float>>(DenseOptions{.in = 2, .out = hidden, .activation = ad::Activation::tanh}))
        .add("out", std::make_shared<Dense<float>>(DenseOptions{.in = hidden, .out = 1}));
    Rng rng(seed);
    net.bind(params, rng);
    opt = make_optimizer<float>("adam", params, {.learning_rate = 1e-2});
  }
  void steps(int n) {
    for (int i = 0; i < n; ++i) {
      tape.clear();
      params.zero_grad();
      tape.backward(ad::mse(net(tape.constant(x)), tape.constant(y)));
      opt->step();
    }
  }
};

}  // namespace

TEST_CASE("a checkpoint round trip restores parameters, optimizer state and metadata exactly") {
  const auto dir = temp_dir("roundtrip");
  Fit a(1);
  a.steps(5);
  save_checkpoint(dir / "ckpt.npz", a.params, a.opt.get(), {{"epoch", 5}, {"note", "hello"}});
  Fit b(2);
  const auto meta = load_checkpoint(dir / "ckpt.npz", b.params, b.opt.get());
  CHECK(b.params.values() == a.params.values());
  CHECK(b.opt->steps() == 5);
  CHECK(b.opt->state() == a.opt->state());
  CHECK(meta.at("note") == "hello");
  CHECK(read_checkpoint_metadata(dir / "ckpt.npz").at("optimizer").at("name") == "adam");
}

TEST_CASE("resuming from a checkpoint continues bit for bit") {
  const auto dir = temp_dir("resume");
  Fit straight(7);
  straight.steps(30);
  Fit first(7);
  first.steps(12);
  save_checkpoint(dir / "ckpt.npz", first.params, first.opt.get(), {});
  Fit resumed(99);  // different initial weights: everything must come from the checkpoint
  load_checkpoint(dir / "ckpt.npz", resumed.params, resumed.opt.get());
  resumed.steps(18);
  CHECK(resumed.params.values() == straight.params.values());
}

TEST_CASE("the archive is laid out as numpy expects: named .npy members and a JSON member") {
  const auto dir = temp_dir("layout");
  Fit a(3);
  save_checkpoint(dir / "ckpt.npz", a.params, a.opt.get(), {{"epoch", 0}});
  std::vector<std::string> names;
  for (const auto& [name, bytes] : read_zip_members(dir / "ckpt.npz")) names.push_back(name);
  CHECK(names == std::vector<std::string>{"params/hidden.weight.npy", "params/hidden.bias.npy", "params/out.weight.npy",
                                          "params/out.bias.npy", "optimizer/m.npy", "optimizer/v.npy", "metadata.json"});
  const auto arrays = read_npz(dir / "ckpt.npz");
  CHECK(arrays[0].second.shape == std::vector<std::int64_t>{2, 8});
  CHECK(arrays[1].second.shape == std::vector<std::int64_t>{8});
  CHECK(arrays[0].second.dtype == DType::f4);
  if (std::system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") == 0) {
    const std::string cmd = "/usr/bin/python3 -c \"import numpy as np, json; f = np.load('" + (dir / "ckpt.npz").string() +
                            "'); assert f['params/hidden.weight'].shape == (2, 8); "
                            "assert json.loads(f['metadata.json'])['user']['epoch'] == 0\"";
    CHECK(std::system(cmd.c_str()) == 0);
  } else {
    MESSAGE("numpy not installed: skipped the numpy.load cross-check");
  }
}

TEST_CASE("loading a truncated, corrupt or mismatched checkpoint fails with the file named and leaves the model untouched") {
  const auto dir = temp_dir("bad");
  Fit a(4);
  save_checkpoint(dir / "ckpt.npz", a.params, a.opt.get(), {});
  const auto bytes = read_file(dir / "ckpt.npz");

  auto expect_refused = [&](const std::filesystem::path& file, Fit& target, const char* fragment) {
    const ad::Vector<float> before = target.params.values();
    const auto steps = target.opt->steps();
    try {
      load_checkpoint(file, target.params, target.opt.get());
      FAIL("loaded a bad checkpoint: ", file);
    } catch (const FileError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(file.filename().string()) != std::string::npos);
      CHECK(std::string(e.what()).find(fragment) != std::string::npos);
    }
    CHECK(target.params.values() == before);
    CHECK(target.opt->steps() == steps);
  };

  write_file_atomically(dir / "truncated.npz", std::span(bytes.data(), bytes.size() / 2));
  Fit b(5);
  expect_refused(dir / "truncated.npz", b, "");

  // Flip a byte inside the first member's array data (past the 128-byte .npy header): the
  // member's CRC no longer matches.
  auto corrupt = bytes;
  const std::string magic = "\x93NUMPY";
  const auto at = std::search(corrupt.begin(), corrupt.end(), magic.begin(), magic.end(),
                              [](std::byte b, char c) { return b == std::byte(static_cast<unsigned char>(c)); });
  REQUIRE(at != corrupt.end());
  *(at + 130) ^= std::byte{0x5a};
  write_file_atomically(dir / "corrupt.npz", corrupt);
  expect_refused(dir / "corrupt.npz", b, "");

  Fit wider(6, 9);  // other sizes
  expect_refused(dir / "ckpt.npz", wider, "parameter hidden.weight has 16 values, the model expects 18");

  Fit c(7);
  auto sgd = make_optimizer<float>("sgd", c.params, {.learning_rate = 0.1, .momentum = 0.9});
  const ad::Vector<float> before = c.params.values();
  CHECK_THROWS_WITH_AS(load_checkpoint(dir / "ckpt.npz", c.params, sgd.get()), doctest::Contains("optimizer 'adam'"), FileError);
  CHECK(c.params.values() == before);
}
