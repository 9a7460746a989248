#include "nif/trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace nif {

namespace {

using Clock = std::chrono::steady_clock;
constexpr Index kPredictBatch = 4096;

/// `cfg`, once checked against `data` (before the worker team is started with its thread count).
const ExperimentConfig& checked(const ExperimentConfig& cfg, const PointDataset& data) {
  if (data.size() == 0) throw std::invalid_argument("the dataset is empty");
  auto expect = [](const char* what, Index have, Index want) {
    if (have != want)
      throw std::invalid_argument(fmt::format("the data has {} {} column(s) but the config expects {}", have, what, want));
  };
  expect("parameter", data.params.cols(), cfg.parameter_net.input_dim);
  expect("coordinate", data.coords.cols(), cfg.shape_net.input_dim);
  expect("target", data.targets.cols(), cfg.shape_net.output_dim);
  if (cfg.loss.sobolev_weight > 0) expect("derivative", data.derivatives.cols(), cfg.shape_net.output_dim * cfg.shape_net.input_dim);
  if (cfg.train.batch_size <= 0) throw std::invalid_argument("the batch size must be positive");
  // Rather than silently training full-batch on something other than what was asked for.
  if (cfg.train.batch_size > data.size())
    throw std::invalid_argument(fmt::format("the batch size {} is larger than the dataset ({} points); pass --batch-size {} or less",
                                            cfg.train.batch_size, data.size(), data.size()));
  if (cfg.train.epochs < 0) throw std::invalid_argument("the number of epochs must not be negative");
  if (cfg.train.threads < 1) throw std::invalid_argument("the number of threads must be at least 1");
  const TrainConfig& t = cfg.train;
  if (t.prune > 0 && t.prune_end == 0)
    throw std::invalid_argument("--prune needs --prune-end, the epoch by which the target sparsity is reached");
  if (t.prune > 0 && t.prune_end < t.prune_begin)
    throw std::invalid_argument(fmt::format("--prune-end ({}) is before --prune-begin ({})", t.prune_end, t.prune_begin));
  if (t.prune > 0 && t.prune_end > t.epochs)
    throw std::invalid_argument(fmt::format("--prune-end ({}) is beyond --epochs ({}): the target sparsity would never be reached",
                                            t.prune_end, t.epochs));
  nn::parse_prune_scope(t.prune_scope);
  return cfg;
}

/// Binds `model`'s parameters into `params`, initialised from the seed's first stream; returns
/// the seed's second stream, which shuffles.
nn::Rng bind_parameters(Model<float>& model, ad::ParameterBuffer<float>& params, std::uint64_t seed) {
  nn::Rng root(seed);
  nn::Rng init_rng = root.split(0);
  model.bind(params, init_rng);
  return root.split(1);
}

/// Rows `which` of `src` gathered straight into the tape as T, in the compute precision (as TF
/// casts its inputs).
template <class T>
Var<T> gather(ad::Tape<T>& tape, const ad::Matrix<float>& src, std::span<const Index> which) {
  Var<T> v = tape.make(Index(which.size()), src.cols(), false);
  auto V = v.value();
  for (std::size_t r = 0; r < which.size(); ++r) V.row(Index(r)) = src.row(which[r]).template cast<T>();
  return ad::to_compute_precision(v);
}

}  // namespace

std::unique_ptr<nn::Schedule> make_schedule(const TrainConfig& cfg) {
  if (cfg.schedule == "seed") return std::make_unique<nn::PiecewiseConstant>(nn::seed_schedule());
  if (cfg.schedule == "constant") return std::make_unique<nn::Constant>(cfg.base_lr);
  const double epochs = std::max(cfg.epochs, 1);
  if (cfg.schedule == "cosine") return std::make_unique<nn::CosineDecay>(cfg.base_lr, 0.0, epochs);
  // 5 % of the epochs rising from a tenth of the rate, then cosine annealing to a hundredth of it.
  if (cfg.schedule == "warmup-cosine")
    return std::make_unique<nn::LinearWarmup>(std::make_shared<nn::CosineDecay>(cfg.base_lr, cfg.base_lr / 100, epochs),
                                              std::max(epochs / 20, 1.0), 0.1);
  throw std::invalid_argument("unknown schedule '" + cfg.schedule + "' (expected seed, constant, cosine or warmup-cosine)");
}

std::unique_ptr<nn::Optimizer<float>> make_optimizer(const ExperimentConfig& cfg, ad::ParameterBuffer<float>& params) {
  nn::OptimizerOptions o;
  o.adam_flavour = cfg.optimizer.adam_flavour;
  if (cfg.optimizer.name == "adabelief") {
    o.centralize_gradients = cfg.optimizer.gradient_centralization && !cfg.defects.dead_centralization;
    o.centralize_fan_in_one = cfg.defects.centralize_fan_in_one;
  }
  if (cfg.optimizer.name == "sgd") o.momentum = 0.9;
  return nn::make_optimizer<float>(cfg.optimizer.name, params, o);
}

Trainer::Trainer(const ExperimentConfig& cfg, PointDataset data, Normalizer normalizer, const nn::ProcessGroup* group)
    : cfg_(checked(cfg, data)), data_(std::move(data)), normalizer_(std::move(normalizer)), model_(make_model<float>(cfg)),
      loss_terms_(make_loss_terms<float>(cfg_)), shuffle_rng_(bind_parameters(*model_, params_, cfg_.train.seed)),
      optimizer_(make_optimizer(cfg_, params_)), schedule_(make_schedule(cfg_.train)),
      slices_(cfg_.train.threads * (group != nullptr ? group->size() : 1)),
      planner_(data_.size(), cfg_.train.group_by_params ? InputGroups::find(data_.params) : InputGroups{}, slices_),
      parallel_(params_, {cfg_.train.threads, cfg_.train.flush_subnormals, cfg_.train.balance_threads, group}),
      epoch_start_(params_.values()), best_(params_), best_loss_(std::numeric_limits<double>::infinity()) {
  // So that an epoch allocates nothing.
  history_.reserve(std::size_t(cfg_.train.epochs) + std::size_t(cfg_.finetune.lbfgs_iterations));
}

namespace {

/// The first part of `stream` in the file's order: what the trainer checks the config against.
PointDataset first_part(PointStream& stream) {
  PointDataset part;
  stream.rewind();
  stream.next(part);
  return part;
}

}  // namespace

Trainer::Trainer(const ExperimentConfig& cfg, std::unique_ptr<PointStream> stream, const nn::ProcessGroup* group)
    : Trainer(cfg, first_part(*stream), stream->normalizer(), group) {
  if (cfg_.finetune.active())
    throw std::invalid_argument("L-BFGS fine-tuning (--finetune) needs all points in memory at once; drop --memory-budget");
  if (stream->part_rows() < stream->rows() && stream->part_rows() % cfg_.train.batch_size != 0)
    throw std::invalid_argument(fmt::format("parts of {} points are not a multiple of the batch size {}",
                                            stream->part_rows(), cfg_.train.batch_size));
  stream_ = std::move(stream);
}

template <class T>
SliceInputs<T> Trainer::record_slice(Model<T>& model, const BatchPlan& plan, ad::Tape<T>& tape, Index first, Index count) const {
  const std::span<const Index> rows = plan.rows.subspan(std::size_t(first), std::size_t(count));
  const ad::RowGroups runs = plan.runs(first, count, tape.arena());
  Var<T> p;
  if (!runs.empty()) {
    // One ParameterNet input per run: the input of each run's first sample.
    p = tape.make(runs.count, data_.params.cols(), false);
    for (Index g = 0; g < runs.count; ++g)
      p.value().row(g) = planner_.groups().input_of(rows[static_cast<std::size_t>(runs.offsets[g])]).template cast<T>();
    p = ad::to_compute_precision(p);
  } else {
    p = gather(tape, data_.params, rows);
  }
  const Var<T> x = gather(tape, data_.coords, rows);
  return {.model = model, .tape = tape, .cfg = cfg_, .normalizer = normalizer_, .data = data_, .rows = rows, .first = first,
          .batch_rows = Index(plan.rows.size()), .runs = runs, .params = p, .coords = x,
          .output = model.forward(p, x, runs), .targets = {}, .weights = {}};
}

double Trainer::slice_loss(const BatchPlan& plan, ad::Tape<float>& tape, Index first, Index count, float seed) {
  tape.set_precision(cfg_.precision());
  SliceInputs<float> in = record_slice(*model_, plan, tape, first, count);
  tape.set_precision(ad::Precision::fp32);  // Keras computes the loss in float32
  in.targets = gather(tape, data_.targets, in.rows);
  if (data_.weighted()) in.weights = gather(tape, data_.weights, in.rows);
  const Var<float> loss = slice_objective(in, loss_terms_);
  tape.backward(loss, seed);
  return loss.item();
}

double Trainer::compute_gradient(std::span<const Index> rows, float seed) {
  const BatchPlan plan = planner_.plan(rows, parallel_.speeds());
  auto loss = [&](ad::Tape<float>& tape, Index first, Index count, float s) { return slice_loss(plan, tape, first, count, s); };
  const double l = parallel_.gradient(plan.cuts, seed, loss);
  mask_.mask_gradients(params_);
  return l;
}

void Trainer::update_prune_mask(int epoch) {
  const TrainConfig& t = cfg_.train;
  if (t.prune == 0 || epoch < t.prune_begin || epoch > t.prune_end) return;
  mask_.update(params_, nn::polynomial_sparsity(t.prune, t.prune_begin, t.prune_end, epoch), nn::parse_prune_scope(t.prune_scope));
  after_update();
}

const EpochLog& Trainer::train_epoch() {
  if (finetune_done_ > 0) throw std::logic_error("Trainer::train_epoch: the run is already fine-tuning");
  const int epoch = epochs_done();
  const double lr = schedule_->at(epoch);
  optimizer_->set_learning_rate(lr);
  update_prune_mask(epoch);
  nn::LossScale* scale = cfg_.precision() == ad::Precision::fp32 ? nullptr : &loss_scale_;
  epoch_start_ = params_.values();
  const auto t0 = Clock::now();
  EpochSums sums;
  if (stream_ == nullptr) {
    planner_.shuffle(shuffle_rng_);
    train_batches(scale, sums);
  } else {
    stream_->shuffle(shuffle_rng_);
    while (next_part()) {
      planner_.shuffle(shuffle_rng_);
      train_batches(scale, sums);
    }
  }
  const Index n = stream_ != nullptr ? stream_->rows() : planner_.rows(), batch = cfg_.train.batch_size;
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double loss = cfg_.defects.unweighted_epoch_loss ? sums.unweighted / sums.batches : sums.weighted / double(n);
  if (!std::isfinite(loss))
    throw std::runtime_error(fmt::format("training diverged: the loss of epoch {} is {}", epoch + 1, loss));
  const double elapsed = (history_.empty() ? 0.0 : history_.back().elapsed_s) + seconds;
  history_.push_back({epoch + 1, loss, lr, double(n) / seconds, double(std::min(batch, n)) / seconds, elapsed});
  note_best(loss, epoch + 1, epoch_start_);
  return history_.back();
}

void Trainer::train_batches(nn::LossScale* scale, EpochSums& sums) {
  const Index n = planner_.rows(), batch = cfg_.train.batch_size;
  for (Index first = 0; first < n; first += batch) {
    const Index rows = std::min(batch, n - first);
    const BatchPlan plan = planner_.plan(planner_.ordered(first, rows), parallel_.speeds());
    auto loss = [&](ad::Tape<float>& tape, Index from, Index count, float seed) { return slice_loss(plan, tape, from, count, seed); };
    const double l = parallel_.step(plan.cuts, *optimizer_, scale, loss);
    after_update();
    sums.weighted += l * double(rows);
    sums.unweighted += l;
    ++sums.batches;
  }
}

bool Trainer::next_part() {
  if (!stream_->next(data_)) return false;
  planner_ = BatchPlanner(data_.size(), cfg_.train.group_by_params ? InputGroups::find(data_.params) : InputGroups{}, slices_);
  return true;
}

void Trainer::for_each_part(const std::function<void(const PointDataset&, const PointDataset*)>& visit) {
  if (stream_ == nullptr) {
    visit(data_, nullptr);
    return;
  }
  stream_->rewind();
  PointDataset raw;
  while (stream_->next(data_, &raw)) visit(data_, &raw);
}

nn::LbfgsStop Trainer::finetune(const std::function<bool(const EpochLog&)>& after) {
  const int remaining = cfg_.finetune.lbfgs_iterations - finetune_done_;
  if (remaining <= 0) return nn::LbfgsStop::max_iterations;
  if (all_rows_.empty()) {
    all_rows_.resize(std::size_t(data_.size()));
    std::iota(all_rows_.begin(), all_rows_.end(), Index(0));
  }
  // No tolerance stops it early: it runs its steps unless the line search finds no decrease.
  const nn::LbfgsOptions options{.history = cfg_.finetune.history, .max_iterations = remaining, .gradient_tolerance = 0,
                                 .function_tolerance = 0};
  auto t0 = Clock::now();
  const double n = double(data_.size());
  auto step = [&](const nn::LbfgsStep& s) {
    const double seconds = std::max(std::chrono::duration<double>(Clock::now() - t0).count(), 1e-9);
    const double elapsed = (history_.empty() ? 0.0 : history_.back().elapsed_s) + seconds;
    history_.push_back({int(history_.size()) + 1, s.f, s.alpha, n * s.evaluations / seconds, n / seconds, elapsed, true});
    ++finetune_done_;
    after_update();
    note_best(s.f, history_.back().epoch, params_.values());
    const bool go_on = after(history_.back());
    t0 = Clock::now();  // the caller's logging is not training time
    return go_on;
  };
  try {
    return cfg_.finetune.precision == "fp64" ? finetune_double(options, step) : finetune_float(options, step);
  } catch (const std::invalid_argument& e) {  // nn::lbfgs refuses a non-finite start
    throw std::runtime_error(fmt::format("fine-tuning cannot start: {}", e.what()));
  }
}

nn::LbfgsStop Trainer::finetune_float(const nn::LbfgsOptions& options, const std::function<bool(const nn::LbfgsStep&)>& step) {
  const std::function<float()> loss_and_gradients = [&] { return float(compute_gradient(all_rows_)); };
  return nn::lbfgs_train<float>(params_, loss_and_gradients, options, step).reason;
}

nn::LbfgsStop Trainer::finetune_double(const nn::LbfgsOptions& options, const std::function<bool(const nn::LbfgsStep&)>& step) {
  const std::unique_ptr<Model<double>> model = make_model<double>(cfg_);
  ad::ParameterBuffer<double> params;
  nn::Rng unused(0);  // binding initialises the values, which the float model's then replace
  model->bind(params, unused);
  params.values() = params_.values().cast<double>();
  const LossTerms<double> terms = make_loss_terms<double>(cfg_);
  ad::Tape<double> tape;
  const BatchPlan plan = planner_.plan(all_rows_, parallel_.speeds());  // its cuts are unused: one tape
  const std::function<double()> loss_and_gradients = [&] {
    tape.clear();
    SliceInputs<double> in = record_slice(*model, plan, tape, 0, Index(all_rows_.size()));
    in.targets = gather(tape, data_.targets, in.rows);
    if (data_.weighted()) in.weights = gather(tape, data_.weights, in.rows);
    const Var<double> loss = slice_objective(in, terms);
    tape.backward(loss, 1.0);
    // Pruned weights get no gradient, so L-BFGS's steps leave them at zero.
    if (mask_.active()) params.grads().array() *= mask_.keep().array().cast<double>();
    return loss.item();
  };
  // The float parameters follow every accepted step, so a checkpoint or an interruption sees it.
  const auto on_step = [&](const nn::LbfgsStep& s) {
    params_.values() = params.values().cast<float>();
    return step(s);
  };
  return nn::lbfgs_train<double>(params, loss_and_gradients, options, on_step).reason;
}

void Trainer::note_best(double loss, int epoch, const ad::Vector<float>& values) {
  if (!(loss < best_loss_)) return;
  best_loss_ = loss;
  best_epoch_ = epoch;
  best_.values() = values;
}

void Trainer::restore_best(const ad::Vector<float>& values, double loss, int epoch) {
  if (values.size() != best_.values().size())
    throw std::invalid_argument(fmt::format("the best parameters have {} values, the model {}", values.size(), best_.values().size()));
  note_best(loss, epoch, values);
}

namespace {

/// The runs of equal consecutive rows of `params` (the points of one snapshot, stored together)
/// in `arena`, and each run's row in `inputs`; none when more than a quarter of the rows start a
/// run (grouping would then cost more than it saves).
ad::RowGroups consecutive_runs(const Eigen::Ref<const ad::Matrix<float>>& params, ad::Tape<float>& tape, Var<float>& inputs) {
  Index runs = params.rows() > 0 ? 1 : 0;
  for (Index r = 1; r < params.rows(); ++r) runs += params.row(r) != params.row(r - 1) ? 1 : 0;
  if (4 * runs > params.rows()) return {};
  Index* offsets = tape.arena().allocate_array<Index>(std::size_t(runs) + 1);
  inputs = tape.make(runs, params.cols(), false);
  for (Index r = 0, g = 0; r < params.rows(); ++r)
    if (r == 0 || params.row(r) != params.row(r - 1)) {
      offsets[g] = r;
      inputs.value().row(g++) = params.row(r);
    }
  offsets[runs] = params.rows();
  return {offsets, runs};
}

}  // namespace

ad::Matrix<float> predict(Model<float>& model, ad::Precision precision, ad::Tape<float>& tape,
                          const ad::Matrix<float>& params, const ad::Matrix<float>& coords) {
  if (params.rows() != coords.rows()) throw std::invalid_argument("predict: params and coords differ in row count");
  ad::Matrix<float> out(params.rows(), model.config().shape_net.output_dim);
  ad::NoGradGuard<float> guard(tape);
  for (Index first = 0; first < params.rows(); first += kPredictBatch) {
    const Index rows = std::min(kPredictBatch, params.rows() - first);
    tape.clear();
    tape.set_precision(precision);
    // Like training, one ParameterNet evaluation per snapshot where the config groups them.
    Var<float> p;
    const ad::RowGroups runs =
        model.config().train.group_by_params ? consecutive_runs(params.middleRows(first, rows), tape, p) : ad::RowGroups{};
    p = ad::to_compute_precision(runs.empty() ? tape.constant(params.middleRows(first, rows)) : p);
    Var<float> x = ad::to_compute_precision(tape.constant(coords.middleRows(first, rows)));
    out.middleRows(first, rows) = model.forward(p, x, runs).value();
  }
  tape.set_precision(ad::Precision::fp32);
  return out;
}

double Trainer::evaluate_loss() {
  double total = 0, values = 0;
  for_each_part([&](const PointDataset& part, const PointDataset*) {
    // In blocks, so that evaluating a large part adds little to the memory it takes.
    for (Index first = 0; first < part.size(); first += kEvaluationRows) {
      const Index rows = std::min(kEvaluationRows, part.size() - first);
      const ad::Matrix<float> u = predict(part.params.middleRows(first, rows), part.coords.middleRows(first, rows));
      const Eigen::ArrayXd sq = (u - part.targets.middleRows(first, rows)).cast<double>().array().square().rowwise().sum();
      total += part.weighted() ? (sq * part.weights.middleRows(first, rows).col(0).cast<double>().array()).sum() : sq.sum();
      values += double(u.size());
    }
  });
  return total / values;
}

nlohmann::json Trainer::state_json() const {
  nlohmann::json history = nlohmann::json::array();
  for (const EpochLog& e : history_) {
    history.push_back({e.epoch, e.loss, e.lr, e.samples_per_s, e.seed_points_per_s, e.elapsed_s});
    if (e.lbfgs) history.back().push_back("lbfgs");
  }
  return {{"epochs_done", int(history_.size())},
          {"shuffle_rng", shuffle_rng_.to_string()},
          {"loss_scale", loss_scale_.to_json()},
          {"history", history}};
}

void Trainer::restore_state(const nlohmann::json& state) {
  try {
    std::vector<EpochLog> history;
    int lbfgs_steps = 0;
    for (const auto& h : state.at("history")) {
      const bool lbfgs = h.size() > 6 && h.at(6).get<std::string>() == "lbfgs";
      if (lbfgs_steps > 0 && !lbfgs) throw std::invalid_argument("a first-order epoch follows L-BFGS steps");
      lbfgs_steps += lbfgs ? 1 : 0;
      history.push_back({h.at(0).get<int>(), h.at(1).get<double>(), h.at(2).get<double>(), h.at(3).get<double>(),
                         h.at(4).get<double>(), h.at(5).get<double>(), lbfgs});
    }
    if (static_cast<int>(history.size()) != state.at("epochs_done").get<int>())
      throw std::invalid_argument("history length differs from epochs_done");
    const nn::LossScale scale = nn::LossScale::from_json(state.at("loss_scale"));
    nn::Rng rng = nn::Rng::from_string(state.at("shuffle_rng").get<std::string>());
    history.reserve(std::max(history.size(), std::size_t(cfg_.train.epochs) + std::size_t(cfg_.finetune.lbfgs_iterations)));
    history_ = std::move(history);
    finetune_done_ = lbfgs_steps;
    loss_scale_ = scale;
    shuffle_rng_ = rng;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("malformed training state: ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("malformed training state: ") + e.what());
  }
}

}  // namespace nif
