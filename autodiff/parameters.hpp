#pragma once
// Parameters in two flat buffers: all values in one vector, all gradients in another.

#include <string>
#include <vector>

#include "autodiff/tape.hpp"

namespace ad {

/// Owns every trainable value of a model in one contiguous vector and the matching gradients
/// in another, so optimizers, L-BFGS and checkpoints each see a single vector. A parameter is a
/// named [rows x cols] block at a fixed offset; `on(tape, i)` enters it into a tape as a leaf
/// whose value and adjoint alias the buffers, so backward accumulates gradients in place.
template <class T>
class ParameterBuffer {
 public:
  struct Entry {
    std::string name;
    Index offset = 0;
    Index rows = 0;
    Index cols = 0;
    bool is_matrix = true;   ///< a weight matrix (true) or a bias vector stored as 1 x n
    bool trainable = true;   ///< frozen parameters enter tapes without a gradient
    Index size() const { return rows * cols; }
  };

  /// Appends a zero-initialised parameter and returns its index. Adding reallocates the
  /// buffers: register everything before taking views.
  Index add(std::string name, Index rows, Index cols, bool is_matrix = true) {
    if (rows < 0 || cols < 0) throw std::invalid_argument("ad::ParameterBuffer::add: negative shape for " + name);
    const Index offset = values_.size();
    entries_.push_back({std::move(name), offset, rows, cols, is_matrix, true});
    values_.conservativeResize(offset + rows * cols);
    grads_.conservativeResize(offset + rows * cols);
    values_.tail(rows * cols).setZero();
    grads_.tail(rows * cols).setZero();
    return static_cast<Index>(entries_.size() - 1);
  }

  const std::vector<Entry>& entries() const { return entries_; }
  const Entry& entry(Index i) const { return entries_[static_cast<std::size_t>(i)]; }
  Index count() const { return static_cast<Index>(entries_.size()); }
  Index size() const { return values_.size(); }

  Vector<T>& values() { return values_; }
  const Vector<T>& values() const { return values_; }
  Vector<T>& grads() { return grads_; }
  const Vector<T>& grads() const { return grads_; }

  MatrixMap<T> value(Index i) { return view(values_, i); }
  MatrixMap<T> grad(Index i) { return view(grads_, i); }

  void set_trainable(Index i, bool on) { entries_[static_cast<std::size_t>(i)].trainable = on; }
  void zero_grad() { grads_.setZero(); }

  /// Parameter `i` as a leaf of `tape`. Its gradient accumulates into grads(), or into the
  /// vector the tape redirects parameter gradients to (Tape::set_parameter_gradients).
  Var<T> on(Tape<T>& tape, Index i) {
    const Entry& e = entry(i);
    T* grads = tape.parameter_gradients() != nullptr ? tape.parameter_gradients() : grads_.data();
    return tape.leaf(values_.data() + e.offset, e.trainable ? grads + e.offset : nullptr, e.rows, e.cols);
  }

 private:
  MatrixMap<T> view(Vector<T>& v, Index i) {
    const Entry& e = entry(i);
    return MatrixMap<T>(v.data() + e.offset, e.rows, e.cols);
  }

  std::vector<Entry> entries_;
  Vector<T> values_;
  Vector<T> grads_;
};

}  // namespace ad
