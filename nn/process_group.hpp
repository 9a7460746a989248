#pragma once
// The processes that train one model together: MPI ranks started by mpirun, or this process alone.

#include <span>

namespace nn {

/// A group of processes that take every step together (data-parallel training). Each process
/// computes the gradient of its part of the batch; sum() makes every process hold the total.
/// All calls but rank() and size() are collectives: every process of the group makes them, in the
/// same order. A group of one (the default) does nothing in them.
class ProcessGroup {
 public:
  /// This process alone.
  ProcessGroup() = default;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool distributed() const { return size_ > 1; }

  /// Sums `values` element-wise over the group, in place: one MPI_Allreduce (every process ends
  /// with the same sums, added in the same order).
  void sum(std::span<float> values) const;
  /// Whether `flag` is true on any process of the group.
  bool any(bool flag) const;
  /// Returns once every process has called it.
  void barrier() const;
  /// Ends every process of the group with exit status `code` (MPI_Abort): what a process that
  /// fails on its own does, so that the others do not wait for it forever.
  [[noreturn]] void abort(int code) const;

  /// The processes mpirun started together (MPI_COMM_WORLD) while an MpiSession lives; this
  /// process alone otherwise.
  static const ProcessGroup& world();

 private:
  friend class MpiSession;
  int rank_ = 0;
  int size_ = 1;
};

/// Whether this build can train across processes (it was built with MPI).
bool mpi_built();

/// Starts MPI for its lifetime when the process was launched by mpirun (or another MPI launcher),
/// so that ProcessGroup::world() is the job's ranks; otherwise does nothing, so a plain run never
/// touches MPI. MPI calls come from the thread that made the session only (MPI_THREAD_FUNNELED):
/// worker threads compute, the calling thread communicates. Throws std::runtime_error when
/// launched with several ranks by a build without MPI (each would train alone into the same
/// folder). One per process; a second one does nothing.
class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

 private:
  [[maybe_unused]] bool owner_ = false;  ///< this object initialised MPI and finalises it
};

}  // namespace nn
