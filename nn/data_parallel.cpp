#include "nn/data_parallel.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

#include "autodiff/subnormals.hpp"

namespace nn {

namespace {
using Clock = std::chrono::steady_clock;
const ProcessGroup alone;
}  // namespace

struct DataParallelStep::Worker {
  ad::Tape<float> tape;
  ad::Vector<float> grads;  ///< its gradient sum (worker 0 uses the buffer's)
  double loss = 0;          ///< mean loss of its slice of the current batch
};

DataParallelStep::DataParallelStep(ad::ParameterBuffer<float>& params, const DataParallelOptions& options)
    : params_(params), options_(options), group_(options.group != nullptr ? options.group : &alone), team_(options.threads) {
  if (group_->distributed() && options.measure_speeds)
    throw std::invalid_argument("batches cannot be cut by measured speeds across processes (their cuts must agree)");
  const auto threads = static_cast<std::size_t>(options.threads);
  speeds_.assign(threads * static_cast<std::size_t>(group_->size()), 0.0);
  if (group_->distributed()) group_buffer_.setZero(params_.size() + 1);
  part_finite_.resize(threads);
  for (std::size_t w = 0; w < threads; ++w) {
    auto& k = workers_.emplace_back(std::make_unique<Worker>());
    if (w > 0) {
      k->grads.setZero(params_.size());
      k->tape.set_parameter_gradients(k->grads.data());
    }
  }
}

DataParallelStep::~DataParallelStep() = default;

ad::Tape<float>& DataParallelStep::tape(int w) { return workers_[static_cast<std::size_t>(w)]->tape; }

void DataParallelStep::backward_slice(int w, std::span<const Index> cuts, float seed, SliceLoss loss) {
  // This process's workers take its run of slices.
  const auto i = static_cast<std::size_t>(group_->rank() * workers() + w);
  Worker& k = *workers_[static_cast<std::size_t>(w)];
  const Index first = cuts[i], count = cuts[i + 1] - first;
  k.loss = 0;
  if (w == 0) params_.zero_grad(); else k.grads.setZero();
  if (count == 0) return;
  k.tape.clear();
  const auto start = options_.measure_speeds ? Clock::now() : Clock::time_point{};
  // Losses are means over rows: a slice's share of the gradient is its share of the rows.
  k.loss = loss(k.tape, first, count, seed * float(count) / float(cuts.back()));
  if (options_.measure_speeds) {
    // A moving average over about ten steps: quick to follow a core that slows down, steady
    // against a single late step.
    const double speed = double(count) / std::max(std::chrono::duration<double>(Clock::now() - start).count(), 1e-9);
    speeds_[i] = speeds_[i] > 0 ? 0.9 * speeds_[i] + 0.1 * speed : speed;
  }
}

double DataParallelStep::batch_loss(std::span<const Index> cuts) const {
  double loss = 0;
  const std::size_t first = static_cast<std::size_t>(group_->rank() * workers());
  for (std::size_t w = 0; w < workers_.size(); ++w) loss += workers_[w]->loss * double(cuts[first + w + 1] - cuts[first + w]);
  return loss / double(cuts.back());
}

double DataParallelStep::sum_over_group(std::span<const Index> cuts) {
  const Index n = params_.size();
  group_buffer_.head(n) = params_.grads();
  group_buffer_[n] = float(batch_loss(cuts));
  group_->sum({group_buffer_.data(), static_cast<std::size_t>(group_buffer_.size())});
  params_.grads() = group_buffer_.head(n);
  return group_buffer_[n];
}

void DataParallelStep::check_cuts(std::span<const Index> cuts) const {
  if (cuts.size() != static_cast<std::size_t>(slices()) + 1)
    throw std::invalid_argument("a batch must be cut into " + std::to_string(slices()) + " slices, not " +
                                std::to_string(cuts.size() - 1));
}

void DataParallelStep::reduce_gradients(Index begin, Index end) {
  auto total = params_.grads().segment(begin, end - begin);
  for (std::size_t w = 1; w < workers_.size(); ++w) total += workers_[w]->grads.segment(begin, end - begin);
}

std::pair<Index, Index> DataParallelStep::parameter_part(int w) const {
  // Cut at multiples of 16 floats (a cache line), so no two workers write the same line.
  const Index n = params_.size(), parts = Index(workers_.size());
  auto cut = [&](Index k) { return k == parts ? n : std::min(n, (n * k / parts) / 16 * 16); };
  return {cut(w), cut(w + 1)};
}

double DataParallelStep::gradient(std::span<const Index> cuts, float seed, SliceLoss loss) {
  check_cuts(cuts);
  auto work = [&](int w) {
    const ad::FlushSubnormals mode(options_.flush_subnormals);  // per thread
    backward_slice(w, cuts, seed, loss);
  };
  team_.run(work);
  reduce_gradients(0, params_.size());
  return group_->distributed() ? sum_over_group(cuts) : batch_loss(cuts);
}

void DataParallelStep::reduce_and_update(int w, std::span<const Index> cuts, Optimizer<float>& optimizer, LossScale* scale,
                                         bool decide) {
  const auto [begin, end] = parameter_part(w);
  reduce_gradients(begin, end);
  if (group_->distributed()) {
    // MPI is called from worker 0 alone, the thread that started the step (MPI_THREAD_FUNNELED).
    team_.barrier();
    if (w == 0) loss_ = sum_over_group(cuts);
    team_.barrier();
  }
  if (decide) {
    auto part = params_.grads().segment(begin, end - begin);
    // Unscaling before the check changes no decision: scale >= 1, so x / scale is finite
    // exactly when x is.
    if (scale) part *= 1.0f / float(scale->scale);
    part_finite_[static_cast<std::size_t>(w)] = !scale || part.allFinite();
    team_.barrier();
    if (w == 0) {
      const bool finite = std::all_of(part_finite_.begin(), part_finite_.end(), [](char f) { return f != 0; });
      take_step_ = !scale || scale->update(finite);
      if (take_step_) optimizer.begin_step();
    }
    team_.barrier();
    if (!take_step_) return;
  }
  optimizer.update_part(begin, end);
}

double DataParallelStep::step(std::span<const Index> cuts, Optimizer<float>& optimizer, LossScale* scale, SliceLoss loss) {
  // Loss scaling (is every part finite?) and centralisation need the whole gradient before the
  // update starts; otherwise the step count can advance now and the workers run straight through.
  const bool decide = scale != nullptr || optimizer.options().centralize_gradients;
  check_cuts(cuts);
  const float seed = scale ? float(scale->scale) : 1.0f;
  if (!decide) optimizer.begin_step();
  auto work = [&](int w) {
    const ad::FlushSubnormals mode(options_.flush_subnormals);  // per thread
    backward_slice(w, cuts, seed, loss);
    team_.barrier();
    reduce_and_update(w, cuts, optimizer, scale, decide);
  };
  try {
    team_.run(work);
  } catch (...) {
    // A worker failed before the update (nothing after the first barrier throws): no step was taken.
    if (!decide) optimizer.cancel_step();
    throw;
  }
  return group_->distributed() ? loss_ : batch_loss(cuts);
}

}  // namespace nn
