#include "nn/prune.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace nn {

PruneScope parse_prune_scope(const std::string& name) {
  if (name == "layer") return PruneScope::layer;
  if (name == "global") return PruneScope::global;
  throw std::invalid_argument("unknown prune scope '" + name + "' (expected layer, global)");
}

double polynomial_sparsity(double target, std::int64_t begin, std::int64_t end, std::int64_t epoch, double power) {
  if (epoch < begin) return 0;
  if (epoch >= end) return target;
  const double p = double(epoch - begin) / double(end - begin);
  return target * (1 - std::pow(1 - p, power));
}

template <class T>
void PruneMask<T>::prune_smallest(const ad::ParameterBuffer<T>& params, std::vector<ad::Index>& candidates, double sparsity) {
  const auto count = static_cast<std::ptrdiff_t>(std::llround(sparsity * double(candidates.size())));
  const T* w = params.values().data();
  // Pruned positions first (magnitude -1), then by magnitude, ties by position: deterministic.
  auto magnitude = [&](ad::Index i) { return keep_[i] == T(0) ? T(-1) : std::abs(w[i]); };
  auto smaller = [&](ad::Index a, ad::Index b) {
    const T ma = magnitude(a), mb = magnitude(b);
    return ma < mb || (ma == mb && a < b);
  };
  if (count > 0 && count < std::ptrdiff_t(candidates.size()))
    std::nth_element(candidates.begin(), candidates.begin() + count, candidates.end(), smaller);
  for (std::ptrdiff_t k = 0; k < std::ptrdiff_t(candidates.size()); ++k) keep_[candidates[std::size_t(k)]] = k < count ? T(0) : T(1);
}

template <class T>
void PruneMask<T>::update(const ad::ParameterBuffer<T>& params, double sparsity, PruneScope scope) {
  if (!(sparsity >= 0 && sparsity < 1)) throw std::invalid_argument("nn::PruneMask: the sparsity must lie in [0, 1)");
  if (!active()) keep_ = ad::Vector<T>::Ones(params.size());
  scratch_.reserve(std::size_t(params.size()));
  scratch_.clear();
  for (const auto& e : params.entries()) {
    if (!prunable<T>(e)) continue;
    for (ad::Index i = e.offset; i < e.offset + e.size(); ++i) scratch_.push_back(i);
    if (scope == PruneScope::layer) {
      prune_smallest(params, scratch_, sparsity);
      scratch_.clear();
    }
  }
  if (scope == PruneScope::global) prune_smallest(params, scratch_, sparsity);
}

template <class T>
void PruneMask<T>::apply(ad::ParameterBuffer<T>& params, Optimizer<T>* optimizer) const {
  if (!active()) return;
  params.values().array() *= keep_.array();
  params.grads().array() *= keep_.array();
  if (optimizer != nullptr) optimizer->mask_state(keep_);
}

template <class T>
void PruneMask<T>::mask_gradients(ad::ParameterBuffer<T>& params) const {
  if (active()) params.grads().array() *= keep_.array();
}

template <class T>
void PruneMask<T>::assign(const ad::ParameterBuffer<T>& params, ad::Vector<T> keep) {
  if (keep.size() != params.size())
    throw std::invalid_argument("the mask has " + std::to_string(keep.size()) + " values, the model " + std::to_string(params.size()));
  if (!((keep.array() == T(0)) || (keep.array() == T(1))).all()) throw std::invalid_argument("the mask holds values other than 0 and 1");
  for (const auto& e : params.entries())
    if (!prunable<T>(e) && (keep.segment(e.offset, e.size()).array() == T(0)).any())
      throw std::invalid_argument("the mask prunes " + e.name + ", which is not a trainable weight matrix");
  keep_ = std::move(keep);
}

template <class T>
double PruneMask<T>::sparsity(const ad::ParameterBuffer<T>& params) const {
  double pruned = 0, total = 0;
  for (const auto& e : params.entries()) {
    if (!prunable<T>(e)) continue;
    total += double(e.size());
    if (active()) pruned += double((keep_.segment(e.offset, e.size()).array() == T(0)).count());
  }
  return total > 0 ? pruned / total : 0;
}

template class PruneMask<float>;
template class PruneMask<double>;

}  // namespace nn
