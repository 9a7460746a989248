// Micro-benchmark of the engine: bookkeeping cost per node and one forward+backward of a
// 30-unit hyper layer on 512 samples. Prints figures; never run as a test.

#include <fmt/format.h>

#include <chrono>

#include "autodiff/autodiff.hpp"

using namespace ad;
using Clock = std::chrono::steady_clock;

namespace {

template <class F>
double best_seconds(int repeats, F&& f) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main() {
  Tape<float> tape;

  // Bookkeeping: a chain of 1x1 ops, forward + backward, so arithmetic is negligible.
  constexpr int kChain = 10000;
  auto chain = [&] {
    tape.clear();
    Var<float> v = tape.variable(Matrix<float>::Constant(1, 1, 0.5f));
    for (int i = 0; i < kChain; ++i) v = add_constant(v, 1e-6f);
    tape.backward(v);
  };
  chain();
  const double per_node = best_seconds(20, chain) / kChain;

  // A 30-unit hyper layer (30 -> 30, per-sample weights + bias) on 512 samples.
  constexpr Index kBatch = 512, kUnits = 30;
  const HyperSlice slice{.in = kUnits, .out = kUnits, .weight_offset = 0, .bias_offset = kUnits * kUnits};
  const Matrix<float> X = Matrix<float>::Random(kBatch, kUnits);
  const Matrix<float> P = Matrix<float>::Random(kBatch, kUnits * kUnits + kUnits);
  auto hyper = [&] {
    tape.clear();
    auto y = hyper_affine(tape.variable(X), tape.variable(P), slice);
    tape.backward(sum(y));
  };
  hyper();
  const double hyper_s = best_seconds(200, hyper);

  // The same layer when the batch holds 10 snapshots (runs of samples sharing their weights).
  constexpr Index kRuns = 10;
  Index offsets[kRuns + 1];
  for (Index g = 0; g <= kRuns; ++g) offsets[g] = g * kBatch / kRuns;
  const Matrix<float> P_runs = Matrix<float>::Random(kRuns, kUnits * kUnits + kUnits);
  auto grouped = [&] {
    tape.clear();
    auto y = hyper_affine(tape.variable(X), tape.variable(P_runs), slice, RowGroups{offsets, kRuns});
    tape.backward(sum(y));
  };
  grouped();
  const double grouped_s = best_seconds(200, grouped);
  const double flops = 2.0 * 3 * kBatch * kUnits * kUnits;  // forward + two backward products

  fmt::print("bookkeeping per node (1x1 op, forward + backward): {:.1f} ns\n", per_node * 1e9);
  fmt::print("hyper layer {}x{} on {} samples, forward + backward: {:.1f} us ({:.2f} GFLOP/s)\n", kUnits, kUnits,
             kBatch, hyper_s * 1e6, flops / hyper_s * 1e-9);
  fmt::print("  the same with the batch in {} runs sharing weights (one GEMM each): {:.1f} us ({:.2f} GFLOP/s)\n", kRuns,
             grouped_s * 1e6, flops / grouped_s * 1e-9);
  fmt::print("arena after the hyper step: {} KiB reserved in {} block(s)\n", tape.stats().arena_bytes_reserved / 1024,
             tape.stats().arena_blocks);
}
