#pragma once
// First-order optimizers over a flat parameter buffer: SGD with momentum, Adam (Keras 3 and
// PyTorch flavours) and AdaBelief. Each step is a few fused array expressions over the flat
// value, gradient and state vectors; the state is index-aligned with the buffer, so a
// checkpoint is a handful of named vectors plus the step count.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "autodiff/parameters.hpp"

namespace nn {

/// Where Adam adds ε. Keras 3: θ ← θ − α·m/(√v + ε) with α = lr·√(1−β2^t)/(1−β1^t), ε on the
/// uncorrected √v (default 1e-7). PyTorch: θ ← θ − lr·m̂/(√v̂ + ε) with m̂ = m/(1−β1^t),
/// v̂ = v/(1−β2^t) (default 1e-8).
enum class AdamFlavour { keras, pytorch };

/// Hyperparameters of every optimizer; each optimizer reads the fields documented for it and
/// rejects settings it cannot honour.
struct OptimizerOptions {
  double learning_rate = 1e-3;
  /// sgd: L2 term added to the gradient, g ← g + wd·θ (PyTorch); adabelief: decoupled,
  /// θ ← θ·(1 − lr·wd) before the update (AdamW style); adam: must be 0.
  double weight_decay = 0.0;
  double momentum = 0.0;  ///< sgd: μ in v ← μ·v + g
  bool nesterov = false;  ///< sgd: step along g + μ·v instead of v; needs momentum > 0
  double beta1 = 0.9;     ///< adam, adabelief: first-moment decay
  double beta2 = 0.999;   ///< adam, adabelief: second-moment decay
  /// adam, adabelief; unset means the method's default: 1e-7 (Keras Adam), 1e-8 (PyTorch Adam),
  /// 1e-14 (AdaBelief).
  std::optional<double> epsilon = std::nullopt;
  AdamFlavour adam_flavour = AdamFlavour::keras;
  /// Any optimizer: before the update, replace each trainable weight-matrix gradient (is_matrix)
  /// in the buffer by g_ij − mean_i g_ij, the mean over output unit j's inputs (PyTorch gradient
  /// centralisation in our [in, out] layout). A fan-in-1 matrix gets an exactly zero gradient.
  bool centralize_gradients = false;
  /// With centralize_gradients: whether fan-in-1 matrices (rows == 1) are centralised too, which
  /// zeroes their gradient and freezes them (the seed's PyTorch defect). false skips them.
  bool centralize_fan_in_one = true;
};

/// Optimizer state as named vectors, each the size of the parameter buffer.
template <class T>
using NamedVectors = std::vector<std::pair<std::string, ad::Vector<T>>>;

/// An optimizer bound to one parameter buffer (kept by reference; it must outlive the
/// optimizer and keep its size). Entries with trainable = false are never updated.
template <class T>
class Optimizer {
 public:
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  virtual ~Optimizer() = default;

  /// Applies one update (step count t ← t + 1) using the gradients currently in the buffer.
  void step();

  /// step() in parts, for threads sharing the work: begin_step() once (the step count, and the
  /// gradient centralisation, which needs the whole gradient), then update_part(begin, end) over
  /// disjoint ranges covering [0, buffer size), from any threads. Same arithmetic as step().
  void begin_step();
  void update_part(ad::Index begin, ad::Index end) { update(begin, end); }
  /// Takes back a begin_step() that no update_part followed (the step was abandoned): the step
  /// count goes back; a centralised gradient stays centralised.
  void cancel_step();

  double learning_rate() const { return options_.learning_rate; }
  /// Sets the learning rate used from the next step on (schedules call this every epoch).
  void set_learning_rate(double lr);
  /// Number of steps taken (t of the last update; 0 before the first).
  std::int64_t steps() const { return steps_; }
  const OptimizerOptions& options() const { return options_; }
  /// The factory name: "sgd", "adam" or "adabelief".
  virtual std::string_view name() const = 0;

  /// A copy of the state vectors (names fixed per optimizer, e.g. "m", "v").
  NamedVectors<T> state() const { return state_; }
  /// Restores state saved by `state()` and `steps()`, so stepping continues bit-identically.
  /// Throws std::invalid_argument on a missing, duplicate or unknown name, a size different
  /// from the buffer's, or a negative step count.
  void load_state(const NamedVectors<T>& state, std::int64_t steps);
  /// Multiplies every state vector by `keep` (index-aligned with the buffer, 1 or 0 per
  /// element), so a pruned weight's moments are zero and the next step leaves it at zero.
  void mask_state(const ad::Vector<T>& keep) {
    for (auto& [name, vec] : state_) vec.array() *= keep.array();
  }

 protected:
  /// Allocates one zero state vector per name.
  Optimizer(ad::ParameterBuffer<T>& buffer, const OptimizerOptions& options, const std::vector<std::string>& state_names);

  /// The update for step t = steps() (already incremented) of the buffer's elements
  /// [begin, end), on the trainable entries only.
  virtual void update(ad::Index begin, ad::Index end) = 0;

  /// Calls f(offset, size) for every maximal run of consecutive trainable entries, clipped to
  /// the elements [lo, hi).
  template <class F>
  void for_each_trainable_range(ad::Index lo, ad::Index hi, F&& f) const {
    ad::Index begin = 0, size = 0;
    auto emit = [&] {
      const ad::Index from = std::max(begin, lo), to = std::min(begin + size, hi);
      if (to > from) f(from, to - from);
      size = 0;
    };
    for (const auto& e : buffer_.entries()) {
      if (e.trainable) {
        if (size == 0) begin = e.offset;
        size += e.size();
      } else if (size > 0) {
        emit();
      }
    }
    if (size > 0) emit();
  }

  ad::Vector<T>& state_vector(std::size_t i) { return state_[i].second; }
  ad::ParameterBuffer<T>& buffer() { return buffer_; }

 private:
  void centralize_gradients();

  ad::ParameterBuffer<T>& buffer_;
  OptimizerOptions options_;
  NamedVectors<T> state_;
  std::int64_t steps_ = 0;
  Eigen::Matrix<T, 1, Eigen::Dynamic> column_means_;  ///< scratch for centralisation
};

/// SGD with momentum, PyTorch semantics: g ← g + wd·θ; v ← μ·v + g; θ ← θ − lr·v, or with
/// Nesterov θ ← θ − lr·(g + μ·v). State: "momentum".
template <class T>
class Sgd final : public Optimizer<T> {
 public:
  Sgd(ad::ParameterBuffer<T>& buffer, const OptimizerOptions& options);
  std::string_view name() const override { return "sgd"; }

 private:
  void update(ad::Index begin, ad::Index end) override;
};

/// Adam: m ← m + (1−β1)(g − m), v ← v + (1−β2)(g² − v), then the flavour's step (see
/// AdamFlavour). Bias corrections are computed in double. State: "m", "v".
template <class T>
class Adam final : public Optimizer<T> {
 public:
  Adam(ad::ParameterBuffer<T>& buffer, const OptimizerOptions& options);
  std::string_view name() const override { return "adam"; }

 private:
  void update(ad::Index begin, ad::Index end) override;
  double epsilon_;
};

/// Rectified AdaBelief (docs/seed-study.md §9.2): m ← β1·m + (1−β1)·g; s ← β2·s + (1−β2)(g − m)² + ε;
/// m̂ = m/(1−β1^t); ρ∞ = 2/(1−β2) − 1, ρ_t = ρ∞ − 2t·β2^t/(1−β2^t). If ρ_t ≥ 5:
/// θ ← θ − lr·r_t·m̂/(√(s/(1−β2^t)) + ε) with r_t = √[(ρ_t−4)(ρ_t−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρ_t)];
/// otherwise the momentum step θ ← θ − lr·m̂. Weight decay is decoupled. State: "m", "s".
template <class T>
class AdaBelief final : public Optimizer<T> {
 public:
  AdaBelief(ad::ParameterBuffer<T>& buffer, const OptimizerOptions& options);
  std::string_view name() const override { return "adabelief"; }

  /// The rectification multiplier r_t, or nullopt when step t is a momentum step (ρ_t < 5).
  static std::optional<double> rectification(double beta2, std::int64_t t);

 private:
  void update(ad::Index begin, ad::Index end) override;
  double epsilon_;
};

/// The optimizer called `name` ("sgd", "adam", "adabelief") on `buffer`; an unknown name throws
/// std::invalid_argument listing the accepted ones.
template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(std::string_view name, ad::ParameterBuffer<T>& buffer,
                                             const OptimizerOptions& options = {});

extern template class Optimizer<float>;
extern template class Optimizer<double>;
extern template class Sgd<float>;
extern template class Sgd<double>;
extern template class Adam<float>;
extern template class Adam<double>;
extern template class AdaBelief<float>;
extern template class AdaBelief<double>;
extern template std::unique_ptr<Optimizer<float>> make_optimizer(std::string_view, ad::ParameterBuffer<float>&,
                                                                 const OptimizerOptions&);
extern template std::unique_ptr<Optimizer<double>> make_optimizer(std::string_view, ad::ParameterBuffer<double>&,
                                                                  const OptimizerOptions&);

}  // namespace nn
