#include "nif/trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
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
  if (cfg.train.batch_size <= 0) throw std::invalid_argument("the batch size must be positive");
  // Rather than silently training full-batch on something other than what was asked for.
  if (cfg.train.batch_size > data.size())
    throw std::invalid_argument(fmt::format("the batch size {} is larger than the dataset ({} points); pass --batch-size {} or less",
                                            cfg.train.batch_size, data.size(), data.size()));
  if (cfg.train.epochs < 0) throw std::invalid_argument("the number of epochs must not be negative");
  if (cfg.train.threads < 1) throw std::invalid_argument("the number of threads must be at least 1");
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

Trainer::Trainer(const ExperimentConfig& cfg, PointDataset data, const nn::ProcessGroup* group)
    : cfg_(checked(cfg, data)), data_(std::move(data)), model_(make_model<float>(cfg)),
      shuffle_rng_(bind_parameters(*model_, params_, cfg_.train.seed)), optimizer_(make_optimizer(cfg_, params_)),
      schedule_(make_schedule(cfg_.train)),
      planner_(data_.size(), cfg_.train.group_by_params ? InputGroups::find(data_.params) : InputGroups{},
               cfg_.train.threads * (group != nullptr ? group->size() : 1)),
      parallel_(params_, {cfg_.train.threads, cfg_.train.flush_subnormals, cfg_.train.balance_threads, group}) {
  history_.reserve(std::size_t(cfg_.train.epochs));  // so that an epoch allocates nothing
}

double Trainer::slice_loss(const BatchPlan& plan, ad::Tape<float>& tape, Index first, Index count, float seed) {
  const std::span<const Index> rows = plan.rows.subspan(std::size_t(first), std::size_t(count));
  const ad::RowGroups runs = plan.runs(first, count, tape.arena());
  // Gathers rows of `src` straight into the tape, in the compute precision (as TF casts its inputs).
  auto gather = [&](const ad::Matrix<float>& src, std::span<const Index> which) {
    Var<float> v = tape.make(Index(which.size()), src.cols(), false);
    auto V = v.value();
    for (std::size_t r = 0; r < which.size(); ++r) V.row(Index(r)) = src.row(which[r]);
    return ad::to_compute_precision(v);
  };
  tape.set_precision(cfg_.precision());
  Var<float> p;
  if (!runs.empty()) {
    // One ParameterNet input per run: the input of each run's first sample.
    p = tape.make(runs.count, data_.params.cols(), false);
    for (Index g = 0; g < runs.count; ++g)
      p.value().row(g) = planner_.groups().input_of(rows[static_cast<std::size_t>(runs.offsets[g])]);
    p = ad::to_compute_precision(p);
  } else {
    p = gather(data_.params, rows);
  }
  Var<float> u = model_->forward(p, gather(data_.coords, rows), runs);
  tape.set_precision(ad::Precision::fp32);  // Keras computes the loss in float32
  Var<float> target = gather(data_.targets, rows);
  Var<float> loss = data_.weighted() ? ad::weighted_mse(u, target, gather(data_.weights, rows)) : ad::mse(u, target);
  tape.backward(loss, seed);
  return loss.item();
}

double Trainer::compute_gradient(std::span<const Index> rows, float seed) {
  const BatchPlan plan = planner_.plan(rows, parallel_.speeds());
  auto loss = [&](ad::Tape<float>& tape, Index first, Index count, float s) { return slice_loss(plan, tape, first, count, s); };
  return parallel_.gradient(plan.cuts, seed, loss);
}

const EpochLog& Trainer::train_epoch() {
  const int epoch = epochs_done();
  const double lr = schedule_->at(epoch);
  optimizer_->set_learning_rate(lr);
  planner_.shuffle(shuffle_rng_);
  const Index n = planner_.rows(), batch = cfg_.train.batch_size;
  nn::LossScale* scale = cfg_.precision() == ad::Precision::fp32 ? nullptr : &loss_scale_;
  const auto t0 = Clock::now();
  double weighted = 0, unweighted = 0;
  int batches = 0;
  for (Index first = 0; first < n; first += batch) {
    const Index rows = std::min(batch, n - first);
    const BatchPlan plan = planner_.plan(planner_.ordered(first, rows), parallel_.speeds());
    auto loss = [&](ad::Tape<float>& tape, Index from, Index count, float seed) { return slice_loss(plan, tape, from, count, seed); };
    const double l = parallel_.step(plan.cuts, *optimizer_, scale, loss);
    weighted += l * double(rows);
    unweighted += l;
    ++batches;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double loss = cfg_.defects.unweighted_epoch_loss ? unweighted / batches : weighted / double(n);
  if (!std::isfinite(loss))
    throw std::runtime_error(fmt::format("training diverged: the loss of epoch {} is {}", epoch + 1, loss));
  const double elapsed = (history_.empty() ? 0.0 : history_.back().elapsed_s) + seconds;
  history_.push_back({epoch + 1, loss, lr, double(n) / seconds, double(std::min(batch, n)) / seconds, elapsed});
  return history_.back();
}

ad::Matrix<float> predict(Model<float>& model, ad::Precision precision, ad::Tape<float>& tape,
                          const ad::Matrix<float>& params, const ad::Matrix<float>& coords) {
  if (params.rows() != coords.rows()) throw std::invalid_argument("predict: params and coords differ in row count");
  ad::Matrix<float> out(params.rows(), model.config().shape_net.output_dim);
  ad::NoGradGuard<float> guard(tape);
  for (Index first = 0; first < params.rows(); first += kPredictBatch) {
    const Index rows = std::min(kPredictBatch, params.rows() - first);
    tape.clear();
    tape.set_precision(precision);
    Var<float> p = ad::to_compute_precision(tape.constant(params.middleRows(first, rows)));
    Var<float> x = ad::to_compute_precision(tape.constant(coords.middleRows(first, rows)));
    out.middleRows(first, rows) = model.forward(p, x).value();
  }
  tape.set_precision(ad::Precision::fp32);
  return out;
}

double Trainer::evaluate_loss() {
  const ad::Matrix<float> u = predict(data_.params, data_.coords);
  const Eigen::ArrayXd sq = (u - data_.targets).cast<double>().array().square().rowwise().sum();
  const double total = data_.weighted() ? (sq * data_.weights.col(0).cast<double>().array()).sum() : sq.sum();
  return total / double(u.size());
}

nlohmann::json Trainer::state_json() const {
  nlohmann::json history = nlohmann::json::array();
  for (const EpochLog& e : history_)
    history.push_back({e.epoch, e.loss, e.lr, e.samples_per_s, e.seed_points_per_s, e.elapsed_s});
  return {{"epochs_done", epochs_done()},
          {"shuffle_rng", shuffle_rng_.to_string()},
          {"loss_scale", loss_scale_.to_json()},
          {"history", history}};
}

void Trainer::restore_state(const nlohmann::json& state) {
  try {
    std::vector<EpochLog> history;
    for (const auto& h : state.at("history"))
      history.push_back({h.at(0).get<int>(), h.at(1).get<double>(), h.at(2).get<double>(), h.at(3).get<double>(),
                         h.at(4).get<double>(), h.at(5).get<double>()});
    if (static_cast<int>(history.size()) != state.at("epochs_done").get<int>())
      throw std::invalid_argument("history length differs from epochs_done");
    const nn::LossScale scale = nn::LossScale::from_json(state.at("loss_scale"));
    nn::Rng rng = nn::Rng::from_string(state.at("shuffle_rng").get<std::string>());
    history.reserve(std::max(history.size(), std::size_t(cfg_.train.epochs)));
    history_ = std::move(history);
    loss_scale_ = scale;
    shuffle_rng_ = rng;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("malformed training state: ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("malformed training state: ") + e.what());
  }
}

}  // namespace nif
