#pragma once
// Mini-batch training of a NIF model on point-wise data, as the seed study trained it.

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "nif/batch_planner.hpp"
#include "nif/config.hpp"
#include "nif/data.hpp"
#include "nif/loss_terms.hpp"
#include "nif/model.hpp"
#include "nif/point_stream.hpp"
#include "nn/data_parallel.hpp"
#include "nn/lbfgs.hpp"
#include "nn/loss_scale.hpp"
#include "nn/optim.hpp"
#include "nn/prune.hpp"
#include "nn/random.hpp"
#include "nn/schedule.hpp"

namespace nif {

/// One finished epoch, or one accepted step of the L-BFGS fine-tuning that follows the epochs.
struct EpochLog {
  int epoch = 0;               ///< epochs and fine-tuning steps completed (1-based label, like the PyTorch logs)
  double loss = 0;             ///< mean training loss of the epoch (see Defects::unweighted_epoch_loss)
  double lr = 0;               ///< learning rate used in the epoch; for an L-BFGS step its line-search step length
  double samples_per_s = 0;    ///< true throughput: samples / epoch time
  double seed_points_per_s = 0;  ///< the seed's "points/sec": batch size / epoch time
  double elapsed_s = 0;        ///< training time so far (all epochs, this process and earlier ones)
  bool lbfgs = false;          ///< an L-BFGS fine-tuning step (phase "lbfgs"), else a first-order epoch
};

/// The learning-rate schedule named by the config ("seed", "constant", "cosine", "warmup-cosine").
std::unique_ptr<nn::Schedule> make_schedule(const TrainConfig& cfg);
/// Whether the schedule is stretched over cfg.epochs (so a run cannot be extended to more).
inline bool schedule_follows_epochs(const TrainConfig& cfg) { return cfg.schedule == "cosine" || cfg.schedule == "warmup-cosine"; }
/// Whether a checkpoint of `cfg` after `epochs_done` epochs must carry prune masks (the mask is
/// first computed at the start of epoch prune_begin + 1).
inline bool prunes_by(const TrainConfig& cfg, int epochs_done) { return cfg.prune > 0 && epochs_done > cfg.prune_begin; }
/// The optimizer of the config, with the architecture's semantics and defects applied.
std::unique_ptr<nn::Optimizer<float>> make_optimizer(const ExperimentConfig& cfg, ad::ParameterBuffer<float>& params);

/// The rows evaluate_loss and its callers predict at a time: few enough that the predictions of a
/// large part of streamed data cost little memory.
inline constexpr Index kEvaluationRows = 1 << 16;

/// Model output (normalised units) for normalised params/coords, in batches of 4096 rows, with
/// nothing recorded for backward, under `precision`. `tape` is scratch space.
ad::Matrix<float> predict(Model<float>& model, ad::Precision precision, ad::Tape<float>& tape,
                          const ad::Matrix<float>& params, const ad::Matrix<float>& coords);

/// The epoch loop: owns the model, its flat parameters, the optimizer, the shuffling RNG, the
/// loss scale and the history. A BatchPlanner orders and cuts the batches, an
/// nn::DataParallelStep runs them on the workers; the trainer supplies the loss of a slice.
/// Same config (seed and thread count included) and data → the same loss history, bit for bit
/// (except with TrainConfig::balance_threads, whose cuts depend on timing).
///
/// With cfg.train.threads = T > 1 every batch is cut into T contiguous slices, one per worker;
/// each worker records its slice on its own tape into its own gradient vector, and the vectors
/// are summed in worker order before the optimizer step. The batch gradient is the same sum as
/// with one thread, in a different order, so T changes results only by float rounding.
class Trainer {
 public:
  /// `data` must already be normalised, by `normalizer` (which loss terms with physical
  /// constants read). Throws std::invalid_argument when its column counts do not match the
  /// config or it is empty, when the batch size is not positive or larger than the dataset, or
  /// when the thread count is below one.
  ///
  /// With a distributed `group` (MPI ranks, each holding the same data and config) every process
  /// draws the same order and batches and computes its share of each batch: the batch is cut
  /// into ranks x threads slices and process r takes the r-th run of `threads` of them, so
  /// N ranks of T threads compute what one process of N·T threads would, and every process
  /// keeps the same parameters and history.
  Trainer(const ExperimentConfig& cfg, PointDataset data, Normalizer normalizer = {}, const nn::ProcessGroup* group = nullptr);

  /// Trains on points read part by part from `stream` (data larger than memory), normalised by
  /// its normalizer: an epoch reads the parts in the order PointStream::shuffle draws from the
  /// shuffling RNG and shuffles the rows of each part like the rows of in-memory data. data()
  /// then holds the part read last. std::invalid_argument as above (the batch size is checked
  /// against a part), when the stream's parts are not a multiple of the batch size (batches would
  /// come out partial), and for L-BFGS fine-tuning, whose full batch must be in memory.
  Trainer(const ExperimentConfig& cfg, std::unique_ptr<PointStream> stream, const nn::ProcessGroup* group = nullptr);

  /// Runs one epoch: reshuffle, batches of batch_size (the last one partial), one optimizer step
  /// each. Throws std::runtime_error when the loss stops being finite.
  const EpochLog& train_epoch();

  /// Runs the L-BFGS steps of cfg.finetune not yet done (after the epochs), full-batch, each
  /// logged as an EpochLog with `lbfgs` set; `after` sees each one once the parameters hold its
  /// point, and returning false stops the fine-tuning there. The L-BFGS curvature history starts
  /// empty on every call (a resumed run restarts it). With precision fp64 a double copy of the
  /// model is fine-tuned on one thread and copied back (rounded) after every step. Returns why
  /// L-BFGS stopped. Throws std::runtime_error when the loss stops being finite.
  nn::LbfgsStop finetune(const std::function<bool(const EpochLog&)>& after);

  /// The mean loss over `rows` (indices into data()) and, written to parameters().grads(), its
  /// gradient times `seed`, computed by all workers; pruned weights get a zero gradient. A
  /// training step is this plus the update plus after_update().
  double compute_gradient(std::span<const Index> rows, float seed = 1);
  /// Holds the pruned weights at zero: zeroes them, their gradients and the optimizer's moments.
  /// Every update of parameters() (an optimizer step, an L-BFGS iteration) must be followed by it.
  void after_update() { mask_.apply(params_, optimizer_.get()); }

  /// nif::predict with this trainer's model and precision.
  ad::Matrix<float> predict(const ad::Matrix<float>& params, const ad::Matrix<float>& coords) {
    return nif::predict(*model_, cfg_.precision(), parallel_.tape(0), params, coords);
  }
  /// MSE of predict() on the training data (weighted when the data is), all parts of it when
  /// they are streamed.
  double evaluate_loss();
  /// Calls `visit(normalized, raw)` for every part of the training data in the file's order (one
  /// call with data() when it is in memory; `raw` is then null). Data read part by part reuses
  /// data()'s storage, so the parts are valid only during their call.
  void for_each_part(const std::function<void(const PointDataset& normalized, const PointDataset* raw)>& visit);
  /// The stream the data is read from, or nullptr when it is in memory.
  const PointStream* stream() const { return stream_.get(); }

  Model<float>& model() { return *model_; }
  ad::ParameterBuffer<float>& parameters() { return params_; }
  nn::Optimizer<float>& optimizer() { return *optimizer_; }
  const ExperimentConfig& config() const { return cfg_; }
  const PointDataset& data() const { return data_; }
  /// First-order epochs done, and L-BFGS steps done after them.
  int epochs_done() const { return static_cast<int>(history_.size()) - finetune_done(); }
  int finetune_done() const { return finetune_done_; }
  /// Whether the epochs and the fine-tuning the config asks for are all done.
  bool finished() const { return epochs_done() >= cfg_.train.epochs && finetune_done() >= cfg_.finetune.lbfgs_iterations; }
  const std::vector<EpochLog>& history() const { return history_; }
  const nn::LossScale& loss_scale() const { return loss_scale_; }
  /// The prune mask (inactive without --prune, or before epoch prune_begin); checkpoints keep it.
  nn::PruneMask<float>& prune_mask() { return mask_; }
  const Normalizer& normalizer() const { return normalizer_; }

  /// The parameters whose loss was the lowest logged so far: those at the start of the epoch
  /// with the lowest loss (the parameters that loss was computed with in a full-batch epoch; a
  /// mix of the epoch's steps otherwise), or the point of the best L-BFGS step. Before any
  /// epoch, the current ones with an infinite loss.
  const ad::ParameterBuffer<float>& best_parameters() const { return best_; }
  double best_loss() const { return best_loss_; }
  int best_epoch() const { return best_epoch_; }
  /// Restores what best_parameters() held (from a checkpoint); std::invalid_argument when
  /// `values` has another size than the parameters.
  void restore_best(const ad::Vector<float>& values, double loss, int epoch);

  /// Everything besides parameters and optimizer state that resuming needs: epoch, shuffling
  /// RNG, loss scale, history.
  nlohmann::json state_json() const;
  /// Restores state_json(); std::invalid_argument when it is malformed.
  void restore_state(const nlohmann::json& state);

 private:
  /// Forward and backward of rows [first, first + count) of `plan` on `tape`, the loss's adjoint
  /// seeded with `seed`; returns the mean loss of the rows.
  double slice_loss(const BatchPlan& plan, ad::Tape<float>& tape, Index first, Index count, float seed);
  /// At the start of an epoch in [prune_begin, prune_end]: prunes to the schedule's sparsity.
  void update_prune_mask(int epoch);
  /// Records what a loss term needs of rows [first, first + count) of `plan` on `tape` and runs
  /// the model: the ParameterNet and ShapeNet inputs and the output (the targets and weights are
  /// left to the caller, which records them in the loss's precision).
  template <class T>
  SliceInputs<T> record_slice(Model<T>& model, const BatchPlan& plan, ad::Tape<T>& tape, Index first, Index count) const;
  /// Fine-tuning of this model (fp32) or of a double copy of it (fp64); see finetune().
  nn::LbfgsStop finetune_float(const nn::LbfgsOptions& options, const std::function<bool(const nn::LbfgsStep&)>& step);
  nn::LbfgsStop finetune_double(const nn::LbfgsOptions& options, const std::function<bool(const nn::LbfgsStep&)>& step);
  /// Keeps `values` as the best parameters when `loss` is below the best so far.
  void note_best(double loss, int epoch, const ad::Vector<float>& values);
  /// The loss sums of an epoch's batches.
  struct EpochSums {
    double weighted = 0, unweighted = 0;
    int batches = 0;
  };
  /// One optimizer step per batch of the planner's shuffled rows (the last one partial).
  void train_batches(nn::LossScale* scale, EpochSums& sums);
  /// Plans batches of the next part of the stream read into data_; false when the epoch is over.
  bool next_part();

  ExperimentConfig cfg_;
  std::unique_ptr<PointStream> stream_;  ///< null: data_ holds all points
  PointDataset data_;
  Normalizer normalizer_;
  std::unique_ptr<Model<float>> model_;
  ad::ParameterBuffer<float> params_;
  LossTerms<float> loss_terms_;
  nn::Rng shuffle_rng_;  ///< initialised by binding the model's parameters (see the constructor)
  std::unique_ptr<nn::Optimizer<float>> optimizer_;
  std::unique_ptr<nn::Schedule> schedule_;
  int slices_;  ///< per batch: threads x processes
  BatchPlanner planner_;
  nn::DataParallelStep parallel_;
  nn::LossScale loss_scale_;
  std::vector<EpochLog> history_;
  nn::PruneMask<float> mask_;
  int finetune_done_ = 0;            ///< the L-BFGS steps at the end of history_
  std::vector<Index> all_rows_;      ///< 0 … n−1: the full batch of the fine-tuning
  ad::Vector<float> epoch_start_;    ///< the parameters at the start of the current epoch
  ad::ParameterBuffer<float> best_;  ///< see best_parameters()
  double best_loss_;
  int best_epoch_ = 0;
};

}  // namespace nif
