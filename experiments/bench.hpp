#pragma once
// What `nif bench` measures of one training configuration, and the clock it measures with.

#include <chrono>
#include <cstdint>

#include "nif/config.hpp"

namespace experiments {

/// Wall-clock and CPU time of one region of code. The CPU time is the whole process's (every
/// thread, spinning included), read inside the same bracket as the wall clock, so on one thread
/// it never exceeds the wall time and samples per CPU-second are never below samples per second.
class RegionClock {
 public:
  struct Seconds {
    double wall = 0, cpu = 0;
  };
  RegionClock() { restart(); }
  void restart();
  /// The time since the last restart.
  Seconds elapsed() const;

 private:
  std::chrono::steady_clock::time_point wall0_;
  double cpu0_ = 0;
};

/// CPU time of the process (all threads) or, with `thread`, of the calling thread, in seconds.
double cpu_seconds(bool thread = false);

/// The machine's CPU time so far, all CPUs, in clock ticks: in total and stolen by the hypervisor
/// for other guests (the "steal" column of /proc/stat; zero on bare metal).
struct CpuTicks {
  std::uint64_t total = 0, stolen = 0;
};

/// The bench's data: the traveling wave of the config's case on a `grid` of snapshots x points
/// (10 x 200 is the seed's table), normalised as the case is.
struct Grid {
  int snapshots = 10, points = 200;
};

struct Throughput {
  double samples_per_s = 0;      ///< median over the measured epochs of samples / wall time
  double samples_per_cpu_s = 0;  ///< median over the same epochs of samples / process CPU time
  CpuTicks ticks;                ///< CPU ticks that passed while measuring (when /proc/stat is readable)
};

/// Trains `cfg` on the `grid` for `warmup` epochs, then times each of `epochs` epochs, wall clock
/// and CPU time over the same region (one whole epoch).
Throughput measure_throughput(nif::ExperimentConfig cfg, const Grid& grid, int warmup, int epochs);

}  // namespace experiments
