#include "nif/trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>

#include "autodiff/subnormals.hpp"

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

}  // namespace

bool LossScale::update(bool finite) {
  if (!finite) {
    scale = std::max(1.0, scale / 2);
    good_steps = 0;
    ++skipped_steps;
    return false;
  }
  if (++good_steps == 2000) {
    scale *= 2;
    good_steps = 0;
  }
  return true;
}

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

Trainer::Trainer(const ExperimentConfig& cfg, PointDataset data)
    : cfg_(checked(cfg, data)), data_(std::move(data)), model_(make_model<float>(cfg)),
      schedule_(make_schedule(cfg.train)), team_(cfg.train.threads) {
  nn::Rng root(cfg_.train.seed);
  nn::Rng init_rng = root.split(0);
  model_->bind(params_, init_rng);
  shuffle_rng_ = root.split(1);
  optimizer_ = make_optimizer(cfg_, params_);
  order_.resize(static_cast<std::size_t>(data_.size()));
  if (cfg_.train.group_by_params) {
    // Distinct ParameterNet inputs, numbered in order of first appearance (exact comparison).
    std::map<std::vector<float>, Index> ids;
    std::vector<Index> first_row;
    group_of_.resize(order_.size());
    for (Index i = 0; i < data_.size(); ++i) {
      std::vector<float> key(data_.params.row(i).begin(), data_.params.row(i).end());
      const auto [it, inserted] = ids.emplace(std::move(key), Index(ids.size()));
      if (inserted) first_row.push_back(i);
      group_of_[static_cast<std::size_t>(i)] = it->second;
    }
    // Grouping pays when samples share inputs; with (nearly) all inputs distinct it is skipped.
    grouped_ = 4 * Index(first_row.size()) <= data_.size();
    group_params_.resize(Index(first_row.size()), data_.params.cols());
    for (std::size_t g = 0; g < first_row.size(); ++g) group_params_.row(Index(g)) = data_.params.row(first_row[g]);
  }
  if (grouped_) {
    group_start_.resize(std::size_t(group_params_.rows()) + 1);
    run_start_.reserve(std::size_t(group_params_.rows()) + 1);
  }
  slice_start_.resize(std::size_t(cfg_.train.threads) + 1);
  part_finite_.resize(std::size_t(cfg_.train.threads));
  worker_speeds_.resize(std::size_t(cfg_.train.threads));
  for (int w = 0; w < cfg_.train.threads; ++w) {
    auto& k = workers_.emplace_back(std::make_unique<Worker>());
    if (w > 0) {
      k->grads.setZero(params_.size());
      k->tape.set_parameter_gradients(k->grads.data());
    }
  }
}

std::span<const Index> Trainer::group_rows(std::span<const Index> rows) {
  // Stable counting sort by group id: the shuffled order is kept inside each group.
  std::vector<Index>& start = group_start_;
  std::fill(start.begin(), start.end(), Index{0});
  for (Index i : rows) ++start[static_cast<std::size_t>(group_of_[static_cast<std::size_t>(i)]) + 1];
  for (std::size_t g = 1; g < start.size(); ++g) start[g] += start[g - 1];
  run_start_.clear();
  for (std::size_t g = 0; g + 1 < start.size(); ++g)
    if (start[g + 1] > start[g]) run_start_.push_back(start[g]);
  run_start_.push_back(Index(rows.size()));
  for (Index i : rows) sorted_[static_cast<std::size_t>(start[static_cast<std::size_t>(group_of_[static_cast<std::size_t>(i)])]++)] = i;
  return {sorted_.data(), rows.size()};
}

void proportional_cuts(Index n, std::span<const double> speeds, std::span<Index> cuts) {
  const std::size_t k = speeds.size();
  double total = 0;
  bool known = true;
  for (double s : speeds) {
    total += s;
    known = known && s > 0;
  }
  auto share = [&](std::size_t w) { return std::clamp(speeds[w] / total, 0.5 / double(k), 1.5 / double(k)); };
  double clamped = 0;
  if (known)
    for (std::size_t w = 0; w < k; ++w) clamped += share(w);
  double before = 0;  // share of the rows before worker w
  for (std::size_t w = 0; w < k; ++w) {
    // Even slices in exact integers, so the default cut never depends on float rounding.
    cuts[w] = known ? std::clamp(Index(std::llround(before * double(n))), Index{0}, n) : n * Index(w) / Index(k);
    if (known) before += share(w) / clamped;
  }
  cuts[k] = n;
}

void Trainer::cut_slices(Index n) {
  for (std::size_t w = 0; w < workers_.size(); ++w)
    worker_speeds_[w] = cfg_.train.balance_threads ? workers_[w]->rows_per_s : 0.0;
  proportional_cuts(n, worker_speeds_, slice_start_);
  if (!grouped_) return;
  const std::size_t slices = workers_.size();
  for (std::size_t w = 1; w < slices; ++w) {
    // Whole runs per worker keep each run one GEMM instead of two half-size ones (the per-call
    // cost is what two threads otherwise both pay), unless that unbalances the slices much.
    Index& cut = slice_start_[w];
    const auto next = std::lower_bound(run_start_.begin(), run_start_.end(), cut);
    Index nearest = *next;
    if (next != run_start_.begin() && cut - *std::prev(next) < nearest - cut) nearest = *std::prev(next);
    if (std::abs(nearest - cut) <= n / (16 * Index(slices))) cut = std::max(nearest, slice_start_[w - 1]);
  }
}

ad::RowGroups Trainer::slice_groups(ad::Tape<float>& tape, Index first, Index count) const {
  // The runs overlapping [first, first + count), offsets relative to `first`.
  const auto begin = std::upper_bound(run_start_.begin(), run_start_.end(), first) - 1;
  const auto end = std::lower_bound(begin, run_start_.end(), first + count);
  const auto runs = std::size_t(end - begin);
  Index* offsets = tape.arena().allocate_array<Index>(runs + 1);
  for (std::size_t r = 0; r < runs; ++r) offsets[r] = std::max(begin[std::ptrdiff_t(r)], first) - first;
  offsets[runs] = count;
  return {offsets, Index(runs)};
}

double Trainer::forward_backward(ad::Tape<float>& tape, std::span<const Index> rows, ad::RowGroups groups, float seed) {
  // Gathers rows of `src` straight into the tape (rounded to the compute precision, as TF casts
  // its inputs).
  auto gather = [&](const ad::Matrix<float>& src, std::span<const Index> which) {
    Var<float> v = tape.make(Index(which.size()), src.cols(), false);
    auto V = v.value();
    for (std::size_t r = 0; r < which.size(); ++r) V.row(Index(r)) = src.row(which[r]);
    return tape.record(v, [] {});
  };
  tape.set_precision(cfg_.precision());
  Var<float> p;
  if (grouped_) {
    // One ParameterNet input per run: the group id of each run's first sample.
    p = tape.make(groups.count, data_.params.cols(), false);
    for (Index g = 0; g < groups.count; ++g)
      p.value().row(g) = group_params_.row(group_of_[static_cast<std::size_t>(rows[static_cast<std::size_t>(groups.offsets[g])])]);
    p = tape.record(p, [] {});
  } else {
    p = gather(data_.params, rows);
  }
  Var<float> u = model_->forward(p, gather(data_.coords, rows), groups);
  tape.set_precision(ad::Precision::fp32);  // Keras computes the loss in float32
  Var<float> target = gather(data_.targets, rows);
  Var<float> loss = data_.weighted() ? ad::weighted_mse(u, target, gather(data_.weights, rows)) : ad::mse(u, target);
  tape.backward(loss, seed);
  return loss.item();
}

std::span<const Index> Trainer::prepare_slices(std::span<const Index> rows) {
  if (rows.empty()) throw std::invalid_argument("compute_gradient: no rows");
  for (Index i : rows)
    if (i < 0 || i >= data_.size()) throw std::invalid_argument(fmt::format("compute_gradient: row {} is not in the data", i));
  if (grouped_) {
    sorted_.resize(std::max(sorted_.size(), rows.size()));  // allocates only on the first step
    rows = group_rows(rows);
  }
  cut_slices(Index(rows.size()));
  return rows;
}

void Trainer::backward_slice(int w, std::span<const Index> rows, float seed) {
  Worker& k = *workers_[static_cast<std::size_t>(w)];
  const Index first = slice_start_[static_cast<std::size_t>(w)], count = slice_start_[static_cast<std::size_t>(w) + 1] - first;
  k.loss = 0;
  if (w == 0) params_.zero_grad(); else k.grads.setZero();
  if (count == 0) return;
  k.tape.clear();
  const ad::RowGroups groups = grouped_ ? slice_groups(k.tape, first, count) : ad::RowGroups{};
  const auto start = cfg_.train.balance_threads ? Clock::now() : Clock::time_point{};
  // Both losses are means over the rows: a slice's share of the gradient is its share of rows.
  k.loss = forward_backward(k.tape, rows.subspan(std::size_t(first), std::size_t(count)), groups,
                            seed * float(count) / float(rows.size()));
  if (cfg_.train.balance_threads) {
    // A moving average over about ten steps: quick to follow a core that slows down, steady
    // against a single late step.
    const double speed = double(count) / std::max(std::chrono::duration<double>(Clock::now() - start).count(), 1e-9);
    k.rows_per_s = k.rows_per_s > 0 ? 0.9 * k.rows_per_s + 0.1 * speed : speed;
  }
}

double Trainer::batch_loss() const {
  double loss = 0;
  for (std::size_t w = 0; w < workers_.size(); ++w) loss += workers_[w]->loss * double(slice_start_[w + 1] - slice_start_[w]);
  return loss / double(slice_start_.back());
}

void Trainer::reduce_gradients(Index begin, Index end) {
  auto total = params_.grads().segment(begin, end - begin);
  for (std::size_t w = 1; w < workers_.size(); ++w) total += workers_[w]->grads.segment(begin, end - begin);
}

double Trainer::compute_gradient(std::span<const Index> rows, float seed) {
  rows = prepare_slices(rows);
  auto work = [&](int w) {
    const ad::FlushSubnormals mode(cfg_.train.flush_subnormals);  // per thread
    backward_slice(w, rows, seed);
  };
  team_.run(work);
  reduce_gradients(0, params_.size());
  return batch_loss();
}

double Trainer::step(std::span<const Index> batch) {
  const bool fp32 = cfg_.precision() == ad::Precision::fp32;
  const float scale = fp32 ? 1.0f : float(loss_scale_.scale);
  // Loss scaling (is every part finite?) and centralisation need the whole gradient before the
  // update starts; otherwise the step count can advance now and the workers run straight through.
  const bool whole_gradient_first = !fp32 || optimizer_->options().centralize_gradients;
  const std::span<const Index> rows = prepare_slices(batch);
  if (!whole_gradient_first) optimizer_->begin_step();
  // Each worker records its slice, then sums and updates its own part of the parameters: the
  // only serial work is the decision on the step, and each part stays in the cache of the core
  // that updates it.
  auto work = [&](int w) {
    const ad::FlushSubnormals mode(cfg_.train.flush_subnormals);  // per thread
    backward_slice(w, rows, scale);
    team_.barrier();
    const auto [begin, end] = parameter_part(w);
    reduce_gradients(begin, end);
    if (whole_gradient_first) {
      auto part = params_.grads().segment(begin, end - begin);
      // Unscaling before the check changes no decision: scale >= 1, so x / scale is finite
      // exactly when x is.
      if (!fp32) part *= 1.0f / scale;
      part_finite_[static_cast<std::size_t>(w)] = fp32 || part.allFinite();
      team_.barrier();
      if (w == 0) {
        const bool finite = std::all_of(part_finite_.begin(), part_finite_.end(), [](char f) { return f != 0; });
        take_step_ = fp32 || loss_scale_.update(finite);
        if (take_step_) optimizer_->begin_step();
      }
      team_.barrier();
      if (!take_step_) return;
    }
    optimizer_->update_part(begin, end);
  };
  try {
    team_.run(work);
  } catch (...) {
    // A worker failed before the update (nothing after the first barrier throws): no step was taken.
    if (!whole_gradient_first) optimizer_->cancel_step();
    throw;
  }
  return batch_loss();
}

std::pair<Index, Index> Trainer::parameter_part(int w) const {
  // Cut at multiples of 16 floats (a cache line), so no two workers write the same line.
  const Index n = params_.size(), parts = Index(workers_.size());
  auto cut = [&](Index k) { return k == parts ? n : std::min(n, (n * k / parts) / 16 * 16); };
  return {cut(w), cut(w + 1)};
}

const EpochLog& Trainer::train_epoch() {
  const int epoch = epochs_done();
  const double lr = schedule_->at(epoch);
  optimizer_->set_learning_rate(lr);
  // The permutation depends only on the RNG state, so a resumed run shuffles identically.
  std::iota(order_.begin(), order_.end(), Index{0});
  shuffle_rng_.shuffle(order_);
  const Index n = data_.size(), batch = cfg_.train.batch_size;
  const auto t0 = Clock::now();
  double weighted = 0, unweighted = 0;
  int batches = 0;
  for (Index first = 0; first < n; first += batch) {
    const Index rows = std::min(batch, n - first);
    const double l = step(std::span<const Index>(order_.data() + first, static_cast<std::size_t>(rows)));
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
    Var<float> p = tape.record(tape.constant(params.middleRows(first, rows)), [] {});
    Var<float> x = tape.record(tape.constant(coords.middleRows(first, rows)), [] {});
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
          {"loss_scale", {{"scale", loss_scale_.scale}, {"good_steps", loss_scale_.good_steps},
                          {"skipped_steps", loss_scale_.skipped_steps}}},
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
    const auto& ls = state.at("loss_scale");
    LossScale scale{ls.at("scale").get<double>(), ls.at("good_steps").get<int>(), ls.at("skipped_steps").get<std::int64_t>()};
    // Steps unscale before checking finiteness, which decides the same only for a scale >= 1.
    if (!(scale.scale >= 1 && std::isfinite(scale.scale)))
      throw std::invalid_argument("malformed training state: the loss scale must be finite and at least 1");
    nn::Rng rng = nn::Rng::from_string(state.at("shuffle_rng").get<std::string>());
    history_ = std::move(history);
    loss_scale_ = scale;
    shuffle_rng_ = rng;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("malformed training state: ") + e.what());
  }
}

}  // namespace nif
