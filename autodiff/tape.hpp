#pragma once
// The tape: one node per matrix operation, recorded in creation order, replayed backwards.
//
// Conventions used by every op and layer in this project:
//  * Values are dense row-major Eigen matrices, **batch as rows**: a batch of B samples with
//    F features is a B x F matrix, and a dense layer computes Y = X * W + b with W of shape
//    [in, out] (the Keras kernel layout). Row-major storage keeps each sample contiguous, so a
//    per-sample slice of a hypernetwork output is a contiguous [in, out] block.
//  * The scalar type T is a template parameter: training runs in `float`, gradient checks run
//    the same code in `double`.
//  * Creation order is a topological order, so backward is one reverse sweep over the nodes.
//    Adjoints are born zero and every backward closure adds (+=) into its inputs' adjoints.

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "autodiff/arena.hpp"
#include "autodiff/precision.hpp"

namespace ad {

using Index = Eigen::Index;

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
/// A view of a tape value or adjoint (or of a parameter block inside a flat buffer).
template <class T>
using MatrixMap = Eigen::Map<Matrix<T>>;

template <class T>
class Tape;

/// A cheap handle to one tape node: a tape pointer and a node index.
template <class T>
class Var {
 public:
  Var() = default;
  Var(Tape<T>* tape, std::int32_t id) : tape_(tape), id_(id) {}

  Tape<T>& tape() const { return *tape_; }
  std::int32_t id() const { return id_; }
  bool valid() const { return tape_ != nullptr; }
  bool same_tape(Var other) const { return tape_ == other.tape_; }

  Index rows() const;
  Index cols() const;
  Index size() const { return rows() * cols(); }
  bool requires_grad() const;

  MatrixMap<T> value() const;
  /// The adjoint; only valid when requires_grad().
  MatrixMap<T> grad() const;
  /// The value of a 1 x 1 node.
  T item() const;

 private:
  Tape<T>* tape_ = nullptr;
  std::int32_t id_ = -1;
};

struct TapeStats {
  std::size_t nodes = 0;
  std::size_t arena_bytes_reserved = 0;
  std::size_t arena_bytes_in_use = 0;
  std::size_t arena_blocks = 0;
  std::size_t node_capacity = 0;
};

template <class T>
class Tape {
  static_assert(std::is_floating_point_v<T>);

 public:
  Tape() = default;
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  /// A leaf holding a copy of `m` that never receives a gradient (data, targets).
  template <class Derived>
  Var<T> constant(const Eigen::MatrixBase<Derived>& m) {
    Var<T> v = make(m.rows(), m.cols(), false);
    v.value() = m.template cast<T>();
    return v;
  }

  /// A leaf holding a copy of `m` with its own zero adjoint (inputs of gradient checks,
  /// coordinates whose derivative is wanted).
  template <class Derived>
  Var<T> variable(const Eigen::MatrixBase<Derived>& m) {
    Var<T> v = make(m.rows(), m.cols(), true);
    v.value() = m.template cast<T>();
    return v;
  }

  /// A leaf whose value and adjoint alias external storage: parameters live in flat buffers
  /// and backward accumulates straight into the gradient buffer. `grad == nullptr` marks a
  /// frozen parameter. Under an emulated precision the value is a rounded copy.
  Var<T> leaf(T* value, T* grad, Index rows, Index cols) {
    const bool rg = grad != nullptr && grad_enabled_;
    T* val = value;
    if (precision_ != Precision::fp32) {
      val = arena_.allocate_array<T>(static_cast<std::size_t>(rows * cols));
      MatrixMap<T>(val, rows, cols) = MatrixMap<T>(value, rows, cols);
      round_to_precision(val, rows * cols, precision_);
    }
    nodes_.push_back(Node{val, rg ? grad : nullptr, rows, cols, nullptr, nullptr, precision_});
    return Var<T>(this, static_cast<std::int32_t>(nodes_.size() - 1));
  }

  /// A new node of the given shape: uninitialised value, zero adjoint when `requires_grad`
  /// (and gradients are enabled). Ops fill the value and then call `record`.
  Var<T> make(Index rows, Index cols, bool requires_grad) {
    if (rows < 0 || cols < 0) throw std::invalid_argument("ad::Tape::make: negative shape");
    const auto n = static_cast<std::size_t>(rows * cols);
    T* val = arena_.allocate_array<T>(n);
    T* adj = nullptr;
    if (requires_grad && grad_enabled_) {
      adj = arena_.allocate_array<T>(n);
      std::fill_n(adj, n, T(0));
    }
    nodes_.push_back(Node{val, adj, rows, cols, nullptr, nullptr, precision_});
    return Var<T>(this, static_cast<std::int32_t>(nodes_.size() - 1));
  }

  /// Finishes an op whose value has been computed: applies the precision policy to the value
  /// (autodiff/precision.hpp: under fp16/bf16 every op's result is rounded) and, when `out` needs
  /// a gradient, stores `backward` (a closure adding into its inputs' adjoints) in the arena.
  /// Closures must be trivially destructible: they are never destroyed, only forgotten at
  /// `clear()`; capture Vars, scalars and arena pointers, never owning objects.
  template <class F>
  Var<T> record(Var<T> out, F&& backward) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_trivially_destructible_v<Fn>, "tape closures must be trivially destructible");
    static_assert(!std::is_empty_v<Fn>,
                  "a backward closure captures its inputs; a value without one needs no record (to round an input "
                  "to the compute precision, use ad::to_compute_precision)");
    Node& node = nodes_[static_cast<std::size_t>(out.id())];
    round_to_precision(node.value, node.rows * node.cols, node.precision);
    if (node.grad != nullptr) {
      static_assert(alignof(Fn) <= Arena::alignment);
      void* mem = arena_.allocate(sizeof(Fn));
      node.closure = ::new (mem) Fn(std::forward<F>(backward));
      node.backward = [](const void* closure) { (*static_cast<const Fn*>(closure))(); };
    }
    return out;
  }

  /// Reverse sweep from a 1 x 1 root with seed 1.
  void backward(Var<T> root) {
    if (root.rows() != 1 || root.cols() != 1)
      throw std::invalid_argument("ad::Tape::backward: root must be 1x1; pass a seed for other shapes");
    backward(root, T(1));
  }

  /// Reverse sweep from `root` with every element of its adjoint seeded by `seed_value`
  /// (plus whatever was already accumulated there).
  void backward(Var<T> root, T seed_value) {
    if (!root.requires_grad()) throw std::logic_error("ad::Tape::backward: root does not require a gradient");
    root.grad().array() += seed_value;
    sweep(root.id());
  }

  /// Reverse sweep after the caller has written the seed into `root.grad()`.
  void backward_seeded(Var<T> root) {
    if (!root.requires_grad()) throw std::logic_error("ad::Tape::backward: root does not require a gradient");
    sweep(root.id());
  }

  /// Forgets every node and rewinds the arena; the memory is kept for the next step.
  void clear() {
    nodes_.clear();
    arena_.rewind();
  }

  /// Where parameters entered with ParameterBuffer::on accumulate their gradients: the
  /// buffer's own gradients (nullptr, the default) or `grads`, a vector laid out like the
  /// buffer. Data-parallel workers each record on their own tape into their own vector, which
  /// the trainer then reduces in a fixed order.
  void set_parameter_gradients(T* grads) { parameter_grads_ = grads; }
  T* parameter_gradients() const { return parameter_grads_; }

  bool grad_enabled() const { return grad_enabled_; }
  void set_grad_enabled(bool on) { grad_enabled_ = on; }
  Precision precision() const { return precision_; }
  void set_precision(Precision p) { precision_ = p; }

  TapeStats stats() const {
    return {nodes_.size(), arena_.bytes_reserved(), arena_.bytes_in_use(), arena_.block_count(), nodes_.capacity()};
  }

  /// Scratch storage valid until `clear()` (op closures keep saved arrays here).
  Arena& arena() { return arena_; }

 private:
  friend class Var<T>;
  struct Node {
    T* value;
    T* grad;
    Index rows, cols;
    void (*backward)(const void*);
    const void* closure;
    Precision precision;  ///< the emulated precision in force when the node was created
  };

  void sweep(std::int32_t from) {
    for (std::int32_t i = from; i >= 0; --i) {
      const Node& n = nodes_[static_cast<std::size_t>(i)];
      if (n.backward == nullptr) continue;
      round_to_precision(n.grad, n.rows * n.cols, n.precision);
      n.backward(n.closure);
    }
  }

  const Node& node(std::int32_t id) const { return nodes_[static_cast<std::size_t>(id)]; }

  Arena arena_;
  std::vector<Node> nodes_;
  bool grad_enabled_ = true;
  T* parameter_grads_ = nullptr;
  Precision precision_ = Precision::fp32;
};

/// Evaluation mode: while alive, ops on `tape` compute values but record no closures and
/// allocate no adjoints.
template <class T>
class NoGradGuard {
 public:
  explicit NoGradGuard(Tape<T>& tape) : tape_(tape), previous_(tape.grad_enabled()) { tape.set_grad_enabled(false); }
  ~NoGradGuard() { tape_.set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  Tape<T>& tape_;
  bool previous_;
};

template <class T>
Index Var<T>::rows() const { return tape_->node(id_).rows; }
template <class T>
Index Var<T>::cols() const { return tape_->node(id_).cols; }
template <class T>
bool Var<T>::requires_grad() const { return tape_->node(id_).grad != nullptr; }
template <class T>
MatrixMap<T> Var<T>::value() const {
  const auto& n = tape_->node(id_);
  return MatrixMap<T>(n.value, n.rows, n.cols);
}
template <class T>
MatrixMap<T> Var<T>::grad() const {
  const auto& n = tape_->node(id_);
  return MatrixMap<T>(n.grad, n.rows, n.cols);
}
template <class T>
T Var<T>::item() const {
  if (rows() != 1 || cols() != 1) throw std::invalid_argument("ad::Var::item: not a 1x1 value");
  return tape_->node(id_).value[0];
}

/// Throws std::invalid_argument naming `op` and both shapes.
[[noreturn]] void shape_error(const char* op, Index ar, Index ac, Index br, Index bc);
/// Throws std::invalid_argument naming `op`, whose operands live on different tapes.
[[noreturn]] void tape_error(const char* op);

/// An op records on its first operand's tape and its backward writes every operand's adjoint
/// there; an operand from another tape (another worker's, or one cleared since) would be read and
/// written out of order, so every op with several operands checks them first.
template <class T>
void check_same_tape(const char* op, Var<T> a, Var<T> b) {
  if (!a.same_tape(b)) tape_error(op);
}

}  // namespace ad
