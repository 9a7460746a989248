#include "nn/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numbers>
#include <stdexcept>
#include <string>

namespace nn {

namespace {

void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

bool is_rate(double x) { return std::isfinite(x) && x >= 0.0; }
bool is_duration(double x) { return std::isfinite(x) && x > 0.0; }

}  // namespace

double Schedule::at(double epoch) const {
  if (!(std::isfinite(epoch) && epoch >= 0.0))
    throw std::invalid_argument("nn::Schedule::at: epoch must be finite and >= 0, got " + std::to_string(epoch));
  return value(epoch);
}

Constant::Constant(double lr) : lr_(lr) { require(is_rate(lr), "nn::Constant: lr must be finite and >= 0"); }

double Constant::value(double) const { return lr_; }

PiecewiseConstant::PiecewiseConstant(std::vector<std::pair<double, double>> pieces) : pieces_(std::move(pieces)) {
  require(!pieces_.empty() && pieces_.front().first == 0.0, "nn::PiecewiseConstant: the first piece must start at epoch 0");
  for (std::size_t i = 0; i < pieces_.size(); ++i) {
    require(is_rate(pieces_[i].second), "nn::PiecewiseConstant: learning rates must be finite and >= 0");
    require(i == 0 || (std::isfinite(pieces_[i].first) && pieces_[i].first > pieces_[i - 1].first),
            "nn::PiecewiseConstant: piece starts must increase strictly");
  }
}

double PiecewiseConstant::value(double epoch) const {
  const auto after = std::upper_bound(pieces_.begin(), pieces_.end(), epoch,
                                      [](double e, const auto& piece) { return e < piece.first; });
  return std::prev(after)->second;
}

PiecewiseConstant seed_schedule() { return PiecewiseConstant({{0.0, 1e-4}, {1000.0, 1e-3}, {2000.0, 5e-4}, {4000.0, 1e-4}}); }

LinearWarmup::LinearWarmup(std::shared_ptr<const Schedule> inner, double warmup_epochs, double start_factor)
    : inner_(std::move(inner)), warmup_epochs_(warmup_epochs), start_factor_(start_factor) {
  require(inner_ != nullptr, "nn::LinearWarmup: no inner schedule");
  require(is_duration(warmup_epochs), "nn::LinearWarmup: warmup_epochs must be finite and > 0");
  require(start_factor >= 0.0 && start_factor <= 1.0, "nn::LinearWarmup: start_factor must lie in [0, 1]");
}

double LinearWarmup::value(double epoch) const {
  const double progress = std::min(epoch / warmup_epochs_, 1.0);
  return inner_->at(epoch) * (start_factor_ + (1.0 - start_factor_) * progress);
}

StepDecay::StepDecay(double lr0, double gamma, double step_epochs) : lr0_(lr0), gamma_(gamma), step_epochs_(step_epochs) {
  require(is_rate(lr0), "nn::StepDecay: lr0 must be finite and >= 0");
  require(is_rate(gamma), "nn::StepDecay: gamma must be finite and >= 0");
  require(is_duration(step_epochs), "nn::StepDecay: step_epochs must be finite and > 0");
}

double StepDecay::value(double epoch) const { return lr0_ * std::pow(gamma_, std::floor(epoch / step_epochs_)); }

CosineDecay::CosineDecay(double lr0, double lr_min, double decay_epochs)
    : lr0_(lr0), lr_min_(lr_min), decay_epochs_(decay_epochs) {
  require(is_rate(lr0) && is_rate(lr_min), "nn::CosineDecay: lr0 and lr_min must be finite and >= 0");
  require(is_duration(decay_epochs), "nn::CosineDecay: decay_epochs must be finite and > 0");
}

double CosineDecay::value(double epoch) const {
  if (epoch >= decay_epochs_) return lr_min_;
  return lr_min_ + (lr0_ - lr_min_) * 0.5 * (1.0 + std::cos(std::numbers::pi * epoch / decay_epochs_));
}

}  // namespace nn
