#pragma once
// Mini-batch training of a NIF model on point-wise data, as the seed study trained it.

#include <nlohmann/json.hpp>

#include <memory>
#include <span>
#include <vector>

#include "nif/config.hpp"
#include "nif/data.hpp"
#include "nif/model.hpp"
#include "nn/optim.hpp"
#include "nn/parallel.hpp"
#include "nn/random.hpp"
#include "nn/schedule.hpp"

namespace nif {

/// One finished epoch.
struct EpochLog {
  int epoch = 0;               ///< epochs completed (1-based label, like the PyTorch logs)
  double loss = 0;             ///< mean training loss of the epoch (see Defects::unweighted_epoch_loss)
  double lr = 0;               ///< learning rate used in the epoch
  double samples_per_s = 0;    ///< true throughput: samples / epoch time
  double seed_points_per_s = 0;  ///< the seed's "points/sec": batch size / epoch time
  double elapsed_s = 0;        ///< training time so far (all epochs, this process and earlier ones)
};

/// Keras' dynamic loss scaling (LossScaleOptimizer) for emulated float16: the loss is multiplied
/// by `scale` before backward; a step whose gradients are not finite is skipped and halves the
/// scale; 2000 finite steps in a row double it.
struct LossScale {
  double scale = 32768;
  int good_steps = 0;
  std::int64_t skipped_steps = 0;
  /// Records one step's outcome; returns whether the step may be applied.
  bool update(bool finite);
};

/// Cuts n rows among workers in proportion to their speeds (rows per second): `cuts` (one more
/// than `speeds`) receives each worker's first row and finally n. Each share is first clamped to
/// [1/2, 3/2] of an even one, then all are rescaled to sum to 1 (so with k workers a share ends
/// within [1/3, 3) of an even one; with 2, within the clamp): one slow measurement cannot starve
/// a worker. Unknown speeds (any <= 0) give even slices, cut in exact integers (n·w/k).
void proportional_cuts(Index n, std::span<const double> speeds, std::span<Index> cuts);

/// The learning-rate schedule named by the config ("seed", "constant", "cosine").
std::unique_ptr<nn::Schedule> make_schedule(const TrainConfig& cfg);
/// The optimizer of the config, with the architecture's semantics and defects applied.
std::unique_ptr<nn::Optimizer<float>> make_optimizer(const ExperimentConfig& cfg, ad::ParameterBuffer<float>& params);

/// Model output (normalised units) for normalised params/coords, in batches of 4096 rows, with
/// nothing recorded for backward, under `precision`. `tape` is scratch space.
ad::Matrix<float> predict(Model<float>& model, ad::Precision precision, ad::Tape<float>& tape,
                          const ad::Matrix<float>& params, const ad::Matrix<float>& coords);

/// Owns the model, its flat parameters, the optimizer, the shuffling RNG and the history.
/// Same config (seed and thread count included) and data → the same loss history, bit for bit
/// (except with TrainConfig::balance_threads, whose cuts depend on timing).
///
/// With cfg.train.threads = T > 1 every batch is cut into T contiguous slices, one per worker;
/// each worker records its slice on its own tape into its own gradient vector, and the vectors
/// are summed in worker order before the optimizer step. The batch gradient is the same sum as
/// with one thread, in a different order, so T changes results only by float rounding.
class Trainer {
 public:
  /// `data` must already be normalised. Throws std::invalid_argument when its column counts do
  /// not match the config or it is empty, when the batch size is not positive or larger than
  /// the dataset, or when the thread count is below one.
  Trainer(const ExperimentConfig& cfg, PointDataset data);

  /// Runs one epoch: reshuffle, batches of batch_size (the last one partial), one optimizer step
  /// each. Throws std::runtime_error when the loss stops being finite.
  const EpochLog& train_epoch();

  /// The mean loss over `rows` (indices into data()) and, written to parameters().grads(), its
  /// gradient times `seed`, computed by all workers. A training step is this plus the update.
  double compute_gradient(std::span<const Index> rows, float seed = 1);

  /// nif::predict with this trainer's model and precision.
  ad::Matrix<float> predict(const ad::Matrix<float>& params, const ad::Matrix<float>& coords) {
    return nif::predict(*model_, cfg_.precision(), workers_.front()->tape, params, coords);
  }
  /// MSE of predict() on the training data (weighted when the data is).
  double evaluate_loss();

  Model<float>& model() { return *model_; }
  ad::ParameterBuffer<float>& parameters() { return params_; }
  nn::Optimizer<float>& optimizer() { return *optimizer_; }
  const ExperimentConfig& config() const { return cfg_; }
  const PointDataset& data() const { return data_; }
  int epochs_done() const { return static_cast<int>(history_.size()); }
  const std::vector<EpochLog>& history() const { return history_; }
  const LossScale& loss_scale() const { return loss_scale_; }

  /// Everything besides parameters and optimizer state that resuming needs: epoch, shuffling
  /// RNG, loss scale, history.
  nlohmann::json state_json() const;
  /// Restores state_json(); std::invalid_argument when it is malformed.
  void restore_state(const nlohmann::json& state);

 private:
  /// A data-parallel worker's own state.
  struct Worker {
    ad::Tape<float> tape;
    ad::Vector<float> grads;  ///< its gradient sum (worker 0 uses the buffer's)
    double loss = 0;          ///< mean loss of its slice of the current batch
    double rows_per_s = 0;    ///< its recent speed (moving average; TrainConfig::balance_threads)
  };

  /// One optimizer step on `batch`: every worker records its slice, then reduces and updates
  /// its part of the parameters. Returns the batch's mean loss.
  double step(std::span<const Index> batch);
  /// Checks `rows`, orders them into runs (grouped_) and cuts them into slice_start_; returns
  /// the rows in slice order.
  std::span<const Index> prepare_slices(std::span<const Index> rows);
  /// Worker w's forward and backward of its slice of `rows` (from prepare_slices), the loss
  /// adjoint seeded with its share of `seed`. Worker 0's gradient goes to parameters().grads(),
  /// the others' to their own vectors.
  void backward_slice(int w, std::span<const Index> rows, float seed);
  /// The mean loss of the batch the workers last recorded.
  double batch_loss() const;
  /// Adds the other workers' gradients into parameters().grads() over elements [begin, end).
  void reduce_gradients(Index begin, Index end);
  /// The elements of the flat parameter vector that worker w reduces and updates.
  std::pair<Index, Index> parameter_part(int w) const;
  /// Orders `rows` by ParameterNet input (stable) into sorted_, with the runs in run_start_.
  std::span<const Index> group_rows(std::span<const Index> rows);
  /// Cuts n rows into one contiguous slice per worker (slice_start_), at run boundaries when
  /// that keeps the slices balanced.
  void cut_slices(Index n);
  /// The runs of rows [first, first + count) of the sorted batch, stored in `tape`'s arena.
  ad::RowGroups slice_groups(ad::Tape<float>& tape, Index first, Index count) const;
  /// Forward and backward of `rows` on `tape`, the loss's adjoint seeded with `seed`; returns
  /// the mean loss of the rows.
  double forward_backward(ad::Tape<float>& tape, std::span<const Index> rows, ad::RowGroups groups, float seed);

  ExperimentConfig cfg_;
  PointDataset data_;
  std::unique_ptr<Model<float>> model_;
  ad::ParameterBuffer<float> params_;
  std::unique_ptr<nn::Optimizer<float>> optimizer_;
  std::unique_ptr<nn::Schedule> schedule_;
  nn::Rng shuffle_rng_;
  std::vector<Index> order_;
  // Samples sharing a ParameterNet input (e.g. all points of one snapshot) are evaluated as one
  // group: the ParameterNet runs once per distinct input and each hyper layer is a GEMM per group.
  bool grouped_ = false;
  std::vector<Index> group_of_;     ///< distinct-input index of every sample
  ad::Matrix<float> group_params_;  ///< the distinct inputs, one per row
  std::vector<Index> group_start_, run_start_, sorted_, slice_start_;  ///< per-batch scratch
  std::vector<double> worker_speeds_;  ///< per-batch scratch of balance_threads
  std::vector<std::unique_ptr<Worker>> workers_;
  nn::WorkerTeam team_;            ///< one per worker; with one, runs jobs on the calling thread
  std::vector<char> part_finite_;  ///< per worker: is its part of the unscaled gradient finite?
  bool take_step_ = true;          ///< the current step's update goes ahead (loss scaling)
  LossScale loss_scale_;
  std::vector<EpochLog> history_;
};

}  // namespace nif
