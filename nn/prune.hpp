#pragma once
// Magnitude pruning over a flat parameter buffer, as TensorFlow Model Optimization prunes: the
// weights of smallest magnitude are set to zero and held there by a 0/1 mask, while the target
// sparsity rises along a polynomial (cubic) schedule.

#include <cstdint>
#include <string>
#include <vector>

#include "autodiff/parameters.hpp"
#include "nn/optim.hpp"

namespace nn {

/// Where the magnitude threshold is taken: per weight matrix (each gets the sparsity) or over
/// all weight matrices together (one threshold; layers of small weights lose more).
enum class PruneScope { layer, global };

/// "layer" or "global"; std::invalid_argument otherwise.
PruneScope parse_prune_scope(const std::string& name);

/// tfmot's PolynomialDecay from 0 to `target`: s(e) = target·(1 − (1 − p)^power) with
/// p = clamp((e − begin)/(end − begin), 0, 1); 0 before `begin`, `target` from `end` on (at once
/// when end == begin).
double polynomial_sparsity(double target, std::int64_t begin, std::int64_t end, std::int64_t epoch, double power = 3);

/// A 0/1 mask over a parameter buffer's trainable weight matrices (biases and frozen entries are
/// never pruned). Inactive (empty) until the first update or assign.
template <class T>
class PruneMask {
 public:
  bool active() const { return keep_.size() > 0; }
  /// 1 where a value is kept, 0 where it is pruned, index-aligned with the buffer.
  const ad::Vector<T>& keep() const { return keep_; }

  /// Prunes the fraction `sparsity` of smallest magnitude (ties by position) of every weight
  /// matrix (layer scope) or of all together (global), on top of what is pruned already: pruned
  /// values are zero, so with a rising sparsity the mask only grows. Per-epoch work: its scratch
  /// is allocated on the first call only.
  void update(const ad::ParameterBuffer<T>& params, double sparsity, PruneScope scope);
  /// Zeroes the pruned values, their gradients and `optimizer`'s state there (Adam's moments),
  /// so that no later step resurrects them. Allocation-free; a no-op while inactive.
  void apply(ad::ParameterBuffer<T>& params, Optimizer<T>* optimizer) const;
  /// Zeroes the pruned gradients only (before a step that reads them, e.g. L-BFGS's direction).
  void mask_gradients(ad::ParameterBuffer<T>& params) const;
  /// Installs a mask read back (a checkpoint's); std::invalid_argument unless it has the
  /// buffer's size, holds only 0 and 1, and prunes no bias or frozen entry.
  void assign(const ad::ParameterBuffer<T>& params, ad::Vector<T> keep);

  /// The fraction of the trainable weight-matrix values that is pruned (0 while inactive).
  double sparsity(const ad::ParameterBuffer<T>& params) const;

 private:
  /// Among the buffer positions `candidates`, prunes the fraction `sparsity` of smallest
  /// magnitude and keeps the rest; positions pruned before count as smallest.
  void prune_smallest(const ad::ParameterBuffer<T>& params, std::vector<ad::Index>& candidates, double sparsity);

  ad::Vector<T> keep_;
  std::vector<ad::Index> scratch_;
};

/// Whether entry `e` is subject to pruning: a trainable weight matrix.
template <class T>
bool prunable(const typename ad::ParameterBuffer<T>::Entry& e) {
  return e.is_matrix && e.trainable;
}

extern template class PruneMask<float>;
extern template class PruneMask<double>;

}  // namespace nn
