#pragma once
// A persistent team of worker threads for data-parallel training steps.

#include <atomic>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

namespace nn {

/// What WorkerTeam::barrier throws in the other workers when one worker's job has thrown.
struct TeamAborted {};

/// Runs one job on `size()` workers at a time: worker 0 is the calling thread, workers 1.. are
/// threads kept alive between jobs. A training step lasts ~100 µs, so starting threads per step,
/// or waking sleeping ones through the kernel every time, would eat the gain: idle workers spin
/// for a bounded while before they sleep, and the caller spins while it waits for them.
///
/// `run` returns when every worker has finished, so a job may use references to the caller's
/// stack. An exception thrown by any worker is rethrown by `run` (the first one, by worker index).
class WorkerTeam {
 public:
  /// `threads` >= 1; std::invalid_argument otherwise. When the system cannot start that many
  /// threads, those already started are stopped and std::runtime_error says so.
  explicit WorkerTeam(int threads);
  ~WorkerTeam();
  WorkerTeam(const WorkerTeam&) = delete;
  WorkerTeam& operator=(const WorkerTeam&) = delete;

  int size() const { return static_cast<int>(errors_.size()); }

  /// Calls job(w) once for every worker index w in [0, size()) and waits for all of them.
  template <class F>
  void run(F& job) {
    dispatch([](void* f, int w) { (*static_cast<F*>(f))(w); }, &job);
  }

  /// Inside a job: returns once every worker has called barrier() as often as this one, so what
  /// any worker wrote before it is visible to all after it. Every worker of a job must call it
  /// the same number of times. When another worker's job has thrown, it throws nn::TeamAborted
  /// instead of waiting forever; run then rethrows the original exception, not this one.
  void barrier();

 private:
  using Trampoline = void (*)(void*, int);
  void dispatch(Trampoline fn, void* job);
  void worker_loop(int index);
  /// Wakes every helper thread to leave its loop and joins it.
  void stop_threads();
  void call(int index);
  /// Releases the workers waiting at the current barrier (the phase they wait on changes).
  void open_barrier();

  Trampoline fn_ = nullptr;
  void* job_ = nullptr;
  std::atomic<std::uint64_t> generation_{0};  ///< bumped once per job; workers wait for a change
  std::atomic<int> pending_{0};               ///< helper threads still busy with the current job
  std::atomic<bool> stopping_{false};
  std::atomic<int> arrived_{0};               ///< workers waiting at the current barrier
  std::atomic<std::uint64_t> barrier_phase_{0};  ///< bumped when a barrier opens (or the job aborts)
  std::atomic<bool> aborted_{false};          ///< a worker of the current job has thrown
  std::vector<std::exception_ptr> errors_;    ///< one slot per worker, written only by that worker
  std::vector<std::thread> threads_;
};

}  // namespace nn
