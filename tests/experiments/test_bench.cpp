// What `nif bench` measures: wall-clock and process CPU time of the same region, and the
// throughput of one configuration from them. Only ratios of one run are asserted, never times.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "experiments/bench.hpp"
#include "nif/layout.hpp"
#include "nif/model.hpp"

namespace {

/// Busy work the compiler cannot drop, for about `seconds` of this thread's CPU time.
double spin_for(double seconds) {
  const double t0 = experiments::cpu_seconds(true);
  volatile double sink = 0;
  while (experiments::cpu_seconds(true) - t0 < seconds)
    for (int k = 0; k < 1000; ++k) sink = sink + 1e-9 * k;
  return experiments::cpu_seconds(true) - t0;
}

}  // namespace

TEST_CASE("RegionClock counts CPU time, not waiting: a sleeping region uses almost no CPU") {
  experiments::RegionClock clock;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto s = clock.elapsed();
  CHECK(s.wall >= 0.049);
  CHECK(s.cpu < 0.5 * s.wall);
}

TEST_CASE("RegionClock counts the CPU time of every thread of the process, over the region only") {
  spin_for(0.02);  // CPU time before the region must not count
  experiments::RegionClock clock;
  double worker_cpu = 0;
  std::thread worker([&] { worker_cpu = spin_for(0.03); });
  worker.join();
  const auto s = clock.elapsed();
  CHECK(worker_cpu >= 0.03);
  CHECK(s.cpu >= 0.99 * worker_cpu);
  CHECK(s.cpu < worker_cpu + 0.015);
}

TEST_CASE("nif bench on one thread: samples per CPU-second are never below samples per wall second") {
  // Both figures come from the same epochs; one thread cannot use more CPU time than wall time.
  nif::ExperimentConfig cfg = nif::architecture("nif").defaults("low-frequency");
  cfg.train.threads = 1;
  const experiments::Throughput m = experiments::measure_throughput(cfg, experiments::Grid{}, 1, 20);
  CHECK(m.samples_per_s > 0);
  CHECK(m.samples_per_cpu_s >= 0.99 * m.samples_per_s);
}

TEST_CASE("the PyTorch reference trains a widened port whose ShapeNet has the C++ layout's size (skipped without torch)") {
  const std::string script = std::string(NIF_TEST_DATA_DIR) + "/../../bench/torch_reference.py";
  FILE* pipe = popen(("/usr/bin/python3 " + script +
                      " --case low-frequency --threads 1 --steps 10 --grouped --units 8 --layers 3 --snapshots 4 --points 16"
                      " --batch-size 32 2>&1")
                         .c_str(),
                     "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
    MESSAGE("python3-torch is not installed: " << output);
    return;
  }
  INFO(output);
  REQUIRE(status == 0);
  nif::ShapeNetConfig shape;
  shape.units = 8;
  shape.nlayers = 3;
  CHECK(output.find(fmt::format("ShapeNet 8x3 ({} parameters), 4 x 16 points", nif::ShapeNetLayout(shape).size())) != std::string::npos);
  CHECK(output.find("samples_per_s=") != std::string::npos);
}
