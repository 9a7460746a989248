#include "nn/parallel.hpp"

#include <stdexcept>
#include <string>
#include <system_error>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace nn {

namespace {

// About 0.2 ms of pause instructions (26 ns each here): longer than a worker waits at a barrier
// or between two steps of a training run, so it never sleeps mid-run. On a VM a sleeping vCPU
// halts, the hypervisor hands its physical CPU to another guest, and waking it again costs far
// more than the spin saved. Measured on the 2-core KVM machine (2 threads, pytorch LF):
// 2.36–2.43M samples/s with 8192 pauses and 0–7% of CPU time stolen; 0.75–1.97M and 2–27%
// stolen with 1024 or fewer.
constexpr int kSpinLimit = 1 << 13;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

/// Waits until `value` differs from `old`: spins first, then sleeps in the kernel.
template <class V>
V wait_for_change(const std::atomic<V>& value, V old) {
  for (int i = 0; i < kSpinLimit; ++i) {
    const V now = value.load(std::memory_order_acquire);
    if (now != old) return now;
    cpu_relax();
  }
  value.wait(old, std::memory_order_acquire);
  return value.load(std::memory_order_acquire);
}

}  // namespace

WorkerTeam::WorkerTeam(int threads) {
  if (threads < 1) throw std::invalid_argument("nn::WorkerTeam: the number of threads must be at least 1");
  errors_.resize(static_cast<std::size_t>(threads));
  threads_.reserve(static_cast<std::size_t>(threads - 1));
  try {
    for (int w = 1; w < threads; ++w) threads_.emplace_back([this, w] { worker_loop(w); });
  } catch (const std::system_error& e) {
    // Under a process or memory limit: the threads already running must be joined, or their
    // std::thread destructors would terminate the program.
    stop_threads();
    throw std::runtime_error("cannot start " + std::to_string(threads) + " worker threads (only " +
                             std::to_string(threads_.size() + 1) + " started: " + e.what() + "); use fewer --threads");
  }
}

WorkerTeam::~WorkerTeam() { stop_threads(); }

void WorkerTeam::stop_threads() {
  stopping_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WorkerTeam::call(int index) {
  try {
    fn_(job_, index);
  } catch (const TeamAborted&) {
    // Only a consequence: the worker that threw first has recorded the cause.
  } catch (...) {
    errors_[static_cast<std::size_t>(index)] = std::current_exception();
    // Opens every barrier of this job for good, so no worker waits for this one.
    aborted_.store(true, std::memory_order_release);
    open_barrier();
  }
}

void WorkerTeam::open_barrier() {
  barrier_phase_.fetch_add(1, std::memory_order_acq_rel);
  barrier_phase_.notify_all();
}

void WorkerTeam::barrier() {
  if (threads_.empty()) return;
  // Read the phase before arriving: it cannot open before this worker has arrived.
  const std::uint64_t phase = barrier_phase_.load(std::memory_order_acquire);
  if (aborted_.load(std::memory_order_acquire)) throw TeamAborted{};
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == size()) {
    arrived_.store(0, std::memory_order_relaxed);
    open_barrier();
  } else {
    wait_for_change(barrier_phase_, phase);
  }
  if (aborted_.load(std::memory_order_acquire)) throw TeamAborted{};
}

void WorkerTeam::dispatch(Trampoline fn, void* job) {
  fn_ = fn;
  job_ = job;
  for (auto& e : errors_) e = nullptr;
  arrived_.store(0, std::memory_order_relaxed);
  aborted_.store(false, std::memory_order_relaxed);
  if (!threads_.empty()) {
    pending_.store(static_cast<int>(threads_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_acq_rel);  // publishes fn_, job_ and the reset errors
    generation_.notify_all();
  }
  call(0);
  for (int left = pending_.load(std::memory_order_acquire); left != 0;)
    left = wait_for_change(pending_, left);
  for (auto& e : errors_)
    if (e) std::rethrow_exception(e);
}

void WorkerTeam::worker_loop(int index) {
  std::uint64_t seen = 0;
  for (;;) {
    seen = wait_for_change(generation_, seen);
    if (stopping_.load(std::memory_order_acquire)) return;
    call(index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

}  // namespace nn
