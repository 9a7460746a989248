// Interrupting a run: SIGINT finishes the epoch, checkpoints it, and --resume continues exactly.

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "experiments/run.hpp"
#include "nif/model.hpp"
#include "nn/npy.hpp"
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
