#pragma once
// Data-parallel gradient steps: a batch cut into slices, one worker thread per slice.

#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "autodiff/parameters.hpp"
#include "nn/loss_scale.hpp"
#include "nn/optim.hpp"
#include "nn/parallel.hpp"
#include "nn/process_group.hpp"

namespace nn {

using ad::Index;

/// A non-owning reference to the loss of one slice of a batch: a callable
/// `double(ad::Tape<float>& tape, Index first, Index count, float seed)` that records the mean
/// loss of rows [first, first + count) of the batch on the (cleared) `tape`, runs backward from
/// it seeded with `seed`, and returns the loss. It is called on several threads at once, each
/// with its own tape. The callable must outlive the call it is passed to.
class SliceLoss {
 public:
  template <class F>
  SliceLoss(F& f)  // NOLINT(google-explicit-constructor): a reference wrapper, like std::function_ref
      : fn_([](void* self, ad::Tape<float>& tape, Index first, Index count, float seed) {
          return (*static_cast<F*>(self))(tape, first, count, seed);
        }),
        self_(&f) {}
  double operator()(ad::Tape<float>& tape, Index first, Index count, float seed) const {
    return fn_(self_, tape, first, count, seed);
  }

 private:
  double (*fn_)(void*, ad::Tape<float>&, Index, Index, float);
  void* self_;
};

struct DataParallelOptions {
  int threads = 1;               ///< workers, >= 1 (worker 0 is the calling thread)
  bool flush_subnormals = true;  ///< ad::FlushSubnormals on every worker
  bool measure_speeds = false;   ///< keep speeds() up to date (timing costs a clock read per slice)
  /// The processes sharing every batch (MPI ranks), each with `threads` workers; null: this one
  /// alone. A batch is then cut into size() x threads slices and process r's workers take slices
  /// [r·threads, (r+1)·threads). Not with measure_speeds (the cuts must agree across processes).
  const ProcessGroup* group = nullptr;
};

/// Computes a batch's gradient with one worker per slice: each worker records its slice on its
/// own tape into its own gradient vector (worker 0 into the parameter buffer's), then the vectors
/// are summed in worker order, so the same cuts give the same sum bit for bit. In step(), every
/// worker then sums and updates its own part of the parameters (cut at cache lines): the only
/// serial work is the decision on the step, and each part stays in the cache of the core that
/// updates it. Nothing is allocated per step once every tape has seen its largest slice.
///
/// Across processes (options.group), the sum over this process's workers is then summed over the
/// processes by one ProcessGroup::sum of the flat gradient with the loss appended, and every
/// process applies the same update to its copy of the parameters.
class DataParallelStep {
 public:
  /// Throws std::invalid_argument when options.threads < 1, or with a group and measure_speeds.
  DataParallelStep(ad::ParameterBuffer<float>& params, const DataParallelOptions& options);
  ~DataParallelStep();

  int workers() const { return static_cast<int>(workers_.size()); }
  /// Slices a batch is cut into: workers() on every process of the group.
  int slices() const { return workers() * group_->size(); }
  /// Worker w's tape; between steps worker 0's tape is free scratch space.
  ad::Tape<float>& tape(int w);
  /// Every slice's recent speed in rows per second (a moving average over about ten steps), one per
  /// worker of every process; 0 while unknown, when not measured, and for other processes' workers.
  std::span<const double> speeds() const { return speeds_; }

  /// The mean loss of the batch cut at `cuts` (slices() + 1 increasing offsets, slice s is rows
  /// [cuts[s], cuts[s+1])) and, in the parameter buffer's gradients, its gradient times `seed`.
  double gradient(std::span<const Index> cuts, float seed, SliceLoss loss);
  /// One optimizer step on the batch cut at `cuts`; returns its mean loss. With `scale` (dynamic
  /// loss scaling) the loss is scaled before backward and the gradient unscaled after, and a
  /// step with a non-finite gradient is skipped (scale->update decides). Exceptions from `loss`
  /// propagate with no step taken.
  double step(std::span<const Index> cuts, Optimizer<float>& optimizer, LossScale* scale, SliceLoss loss);

 private:
  struct Worker;
  /// Worker w's forward and backward of its slice, the loss adjoint seeded with its share of `seed`.
  void backward_slice(int w, std::span<const Index> cuts, float seed, SliceLoss loss);
  /// Worker w's part of a step after backward: sum its part of the gradient (over the processes
  /// too), then (after the decision on the step, when `decide`) update it.
  void reduce_and_update(int w, std::span<const Index> cuts, Optimizer<float>& optimizer, LossScale* scale, bool decide);
  /// The mean loss of the batch the workers last recorded (this process's slices only: their
  /// share of the batch's mean).
  double batch_loss(std::span<const Index> cuts) const;
  /// Across processes, in worker 0 with every worker's part reduced: sums the gradient and the
  /// local batch loss over the group; returns the batch's mean loss.
  double sum_over_group(std::span<const Index> cuts);
  /// Adds the other workers' gradients into the buffer's over elements [begin, end).
  void reduce_gradients(Index begin, Index end);
  /// Throws std::invalid_argument unless `cuts` cut a batch into slices() slices.
  void check_cuts(std::span<const Index> cuts) const;
  /// The elements of the flat parameter vector that worker w reduces and updates.
  std::pair<Index, Index> parameter_part(int w) const;

  ad::ParameterBuffer<float>& params_;
  DataParallelOptions options_;
  const ProcessGroup* group_;          ///< never null (a group of one when options.group is)
  ad::Vector<float> group_buffer_;     ///< across processes: the gradient with the loss appended
  double loss_ = 0;                    ///< the current batch's mean loss (over the group)
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<double> speeds_;
  std::vector<char> part_finite_;  ///< per worker: is its part of the unscaled gradient finite?
  bool take_step_ = true;          ///< the current step's update goes ahead
  WorkerTeam team_;                ///< one thread per worker; with one, jobs run on the caller
};

}  // namespace nn
