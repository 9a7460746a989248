#pragma once
// Learning-rate schedules by epoch. Any schedule drives any optimizer: the trainer calls
// optimizer.set_learning_rate(schedule.at(epoch)) at the start of every epoch (or with a
// fractional epoch, epoch + batch / batches, for per-step granularity).

#include <memory>
#include <utility>
#include <vector>

namespace nn {

/// A learning rate as a function of the 0-based epoch.
class Schedule {
 public:
  virtual ~Schedule() = default;
  /// The learning rate at `epoch` (>= 0; fractional values are allowed). Throws
  /// std::invalid_argument for a negative or non-finite epoch.
  double at(double epoch) const;

 protected:
  virtual double value(double epoch) const = 0;
};

/// lr at every epoch.
class Constant final : public Schedule {
 public:
  explicit Constant(double lr);

 private:
  double value(double epoch) const override;
  double lr_;
};

/// Pieces (start_epoch, lr): the lr of the last piece whose start is <= epoch. The first piece
/// must start at 0 and starts must increase strictly.
class PiecewiseConstant final : public Schedule {
 public:
  explicit PiecewiseConstant(std::vector<std::pair<double, double>> pieces);
  const std::vector<std::pair<double, double>>& pieces() const { return pieces_; }

 private:
  double value(double epoch) const override;
  std::vector<std::pair<double, double>> pieces_;
};

/// The seed study's schedule: 1e-4 from epoch 0, 1e-3 from 1000, 5e-4 from 2000, 1e-4 from 4000.
PiecewiseConstant seed_schedule();

/// inner(e)·f(e) with f rising linearly from start_factor at epoch 0 to 1 at warmup_epochs:
/// f(e) = start_factor + (1 − start_factor)·min(e / warmup_epochs, 1).
class LinearWarmup final : public Schedule {
 public:
  LinearWarmup(std::shared_ptr<const Schedule> inner, double warmup_epochs, double start_factor = 0.0);

 private:
  double value(double epoch) const override;
  std::shared_ptr<const Schedule> inner_;
  double warmup_epochs_;
  double start_factor_;
};

/// lr0·γ^⌊e / step_epochs⌋.
class StepDecay final : public Schedule {
 public:
  StepDecay(double lr0, double gamma, double step_epochs);

 private:
  double value(double epoch) const override;
  double lr0_, gamma_, step_epochs_;
};

/// Cosine annealing: lr_min + (lr0 − lr_min)·(1 + cos(π·e / decay_epochs))/2 for
/// e < decay_epochs, lr_min afterwards.
class CosineDecay final : public Schedule {
 public:
  CosineDecay(double lr0, double lr_min, double decay_epochs);

 private:
  double value(double epoch) const override;
  double lr0_, lr_min_, decay_epochs_;
};

}  // namespace nn
