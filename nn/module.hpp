#pragma once
// Modules: a tree of layers with named parameters, in the style of the PyTorch C++ frontend.
//
// A module declares its parameters (name, shape, initialiser) and children in its constructor.
// `bind` then lays the whole tree's parameters out in ONE flat ParameterBuffer, depth first in
// registration order, and initialises them from one seeded Rng, so the same seed gives the same
// weights on every run and optimizers/checkpoints see a single vector.

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "nn/init.hpp"
#include "nn/random.hpp"

namespace nn {

using ad::Index;
using ad::Var;

template <class T>
class Module {
 private:
  struct Param {
    std::string name;
    Index rows, cols;
    bool is_matrix;
    Initializer init;
    Index fan_in;
    Index slot;
  };

 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// A short type name for summaries ("Dense", "Shortcut", ...).
  virtual std::string type_name() const = 0;

  /// Lays out every parameter of this tree in `buffer` (appending, with dotted names) and
  /// initialises them from `rng`, depth first in registration order.
  void bind(ad::ParameterBuffer<T>& buffer, Rng& rng) {
    attach(buffer, "");
    initialise(rng);
  }

  bool is_bound() const { return buffer_ != nullptr; }

  /// (dotted name, buffer slot) of every parameter in the tree, depth first.
  std::vector<std::pair<std::string, Index>> named_parameters(const std::string& prefix = "") const {
    std::vector<std::pair<std::string, Index>> out;
    for (const Param& p : params_) out.emplace_back(prefix + p.name, p.slot);
    for (const auto& [name, child] : children_) {
      auto sub = child->named_parameters(prefix + name + ".");
      out.insert(out.end(), sub.begin(), sub.end());
    }
    return out;
  }

  /// Number of scalar parameters in the tree.
  Index parameter_count() const {
    Index n = 0;
    for (const Param& p : params_) n += p.rows * p.cols;
    for (const auto& [name, child] : children_) n += child->parameter_count();
    return n;
  }

  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

  void train(bool on = true) {
    training_ = on;
    for (auto& [name, child] : children_) child->train(on);
  }
  void eval() { train(false); }
  bool is_training() const { return training_; }

  /// The buffer this tree is bound to.
  ad::ParameterBuffer<T>& buffer() const {
    if (buffer_ == nullptr) throw std::logic_error("nn::Module: " + type_name() + " used before bind()");
    return *buffer_;
  }

 protected:
  /// Declares a weight matrix [fan_in x fan_out]; returns its local handle for `param`/`value`.
  Index register_weight(std::string name, Index rows, Index cols, Initializer init) {
    params_.push_back(Param{std::move(name), rows, cols, true, std::move(init), rows, -1});
    return static_cast<Index>(params_.size() - 1);
  }

  /// Declares a bias row [1 x width]; `fan_in` is its layer's (PyTorch's default bias init uses it).
  Index register_bias(std::string name, Index width, Index fan_in, Initializer init) {
    params_.push_back(Param{std::move(name), 1, width, false, std::move(init), fan_in, -1});
    return static_cast<Index>(params_.size() - 1);
  }

  /// Declares a child module under `name`; returns it for the caller to keep.
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> child) {
    children_.emplace_back(std::move(name), child);
    return child;
  }

  /// Parameter `local` as a leaf of `tape`.
  Var<T> param(ad::Tape<T>& tape, Index local) const { return buffer().on(tape, slot(local)); }
  /// Parameter `local`'s values inside the flat buffer.
  ad::MatrixMap<T> value(Index local) const { return buffer().value(slot(local)); }

  /// Initialises this module's own parameters (children are initialised after it). The default
  /// applies each parameter's Initializer; layers with a coupled scheme override it.
  virtual void reset_parameters(Rng& rng) {
    for (const Param& p : params_) p.init.apply(buffer_->value(p.slot), rng, p.fan_in, p.cols);
  }

 private:
  Index slot(Index local) const { return params_[static_cast<std::size_t>(local)].slot; }

  void initialise(Rng& rng) {
    reset_parameters(rng);
    for (auto& [name, child] : children_) child->initialise(rng);
  }

  void attach(ad::ParameterBuffer<T>& buffer, const std::string& prefix) {
    buffer_ = &buffer;
    for (Param& p : params_) p.slot = buffer.add(prefix + p.name, p.rows, p.cols, p.is_matrix);
    for (auto& [name, child] : children_) child->attach(buffer, prefix + name + ".");
  }

  std::vector<Param> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  ad::ParameterBuffer<T>* buffer_ = nullptr;
  bool training_ = true;
};

/// The output width of every module run through UnaryModule::operator() on this thread while it
/// is alive: a summary's dry run (nn/summary.hpp). Outside a dry run a forward pass writes nothing
/// but its tape; data-parallel workers, on other threads, never see a probe.
template <class T>
class OutputProbe {
 public:
  OutputProbe() : previous_(active_) { active_ = this; }
  ~OutputProbe() { active_ = previous_; }
  OutputProbe(const OutputProbe&) = delete;
  OutputProbe& operator=(const OutputProbe&) = delete;

  static void note(const Module<T>& m, Index cols) {
    if (active_ != nullptr) active_->widths_[&m] = cols;
  }
  /// The width of `m`'s output in the dry run, 0 when it did not run through operator().
  Index width(const Module<T>& m) const {
    const auto it = widths_.find(&m);
    return it == widths_.end() ? 0 : it->second;
  }

 private:
  static inline thread_local OutputProbe* active_ = nullptr;
  OutputProbe* previous_;
  std::unordered_map<const Module<T>*, Index> widths_;
};

/// A module mapping one batch to another; operator() tells a summary's dry run its output width.
template <class T>
class UnaryModule : public Module<T> {
 public:
  virtual Var<T> forward(Var<T> x) = 0;
  Var<T> operator()(Var<T> x) {
    Var<T> y = forward(x);
    OutputProbe<T>::note(*this, y.cols());
    return y;
  }
};

}  // namespace nn
