#pragma once
// What a ParameterNet generates for each sample (a variant's own layout), and the flat layout of
// upstream NIF's ShapeNet, which the faithful architectures and `nif` share.

#include <string>
#include <utility>
#include <vector>

#include "autodiff/ops/hyper.hpp"
#include "nif/config.hpp"

namespace nif {

/// One tensor of a generated row: a weight block (row-major [rows, cols]) or a bias (rows = 1).
/// The layout-aware output layer (HyperOutput) initialises it so that at z ≈ 0 the tensor is a
/// draw from U(±init_bound), and its dependence on z is scaled by `latent_scale` (0 makes the
/// tensor start independent of p, as LoRA's zero-initialised factor).
struct GeneratedTensor {
  std::string name;
  Index offset = 0;
  Index rows = 1;
  Index cols = 1;
  double init_bound = 0;
  double latent_scale = 1;

  Index size() const { return rows * cols; }
};

/// The tensors a variant's ParameterNet emits for each sample, packed in the order they are added.
/// Its size is the ParameterNet's output width; `nif summary` lists it; a variant without a
/// hypernetwork has an empty layout.
class GeneratedLayout {
 public:
  /// Appends a tensor; returns its offset in the generated row.
  Index add(std::string name, Index rows, Index cols, double init_bound, double latent_scale = 1) {
    tensors_.push_back({std::move(name), size_, rows, cols, init_bound, latent_scale});
    size_ += rows * cols;
    return tensors_.back().offset;
  }
  Index size() const { return size_; }
  bool empty() const { return tensors_.empty(); }
  const std::vector<GeneratedTensor>& tensors() const { return tensors_; }
  /// The tensor called `name`; std::logic_error when there is none.
  const GeneratedTensor& at(const std::string& name) const;

 private:
  std::vector<GeneratedTensor> tensors_;
  Index size_ = 0;
};

/// A generated affine layer: its weight block [in, out] and bias [1, out] as a hyper-op slice.
inline ad::HyperSlice hyper_slice(const GeneratedTensor& weight, const GeneratedTensor* bias, double weight_scale = 1) {
  return {.in = weight.rows, .out = weight.cols, .weight_offset = weight.offset,
          .bias_offset = bias != nullptr ? bias->offset : -1, .weight_scale = weight_scale};
}

/// The flat layout of upstream NIF's ShapeNet: all weights first, then all biases, each in layer
/// order; every weight block row-major [in, out]. Layers are: first D→n, then L hidden n→n (2L
/// with SIREN res-blocks, the two of a block adjacent), then last n→O. Size N_w = Σ in·out + Σ out,
/// e.g. 1951 for the seed's D = O = 1, n = 30, L = 2.
///
/// Its generated() layout carries upstream's SIREN-aware bounds (HyperLinearForSIREN): first-layer
/// weights U(±1/D), hidden weights U(±√(6/n)/ω0), last-layer weights U(±√(6/(n+n))), biases U(±1/n)
/// (docs/upstream-nif.md §4).
class ShapeNetLayout {
 public:
  explicit ShapeNetLayout(const ShapeNetConfig& cfg);

  /// Number of dense layers (first, hidden..., last).
  Index layers() const { return Index(weights_.size()); }
  Index size() const { return generated_.size(); }
  Index weight_count() const { return bias_offset(0); }
  Index in(Index k) const { return weight(k).rows; }
  Index out(Index k) const { return weight(k).cols; }
  Index weight_offset(Index k) const { return weight(k).offset; }
  Index bias_offset(Index k) const { return bias(k).offset; }

  /// Layer k as a hyper-op slice (weights scaled by `weight_scale`, bias at its own offset).
  ad::HyperSlice slice(Index k, double weight_scale = 1) const { return hyper_slice(weight(k), &bias(k), weight_scale); }
  const GeneratedLayout& generated() const { return generated_; }

 private:
  const GeneratedTensor& weight(Index k) const { return generated_.tensors()[weights_.at(std::size_t(k))]; }
  const GeneratedTensor& bias(Index k) const { return generated_.tensors()[biases_.at(std::size_t(k))]; }
  GeneratedLayout generated_;
  std::vector<std::size_t> weights_, biases_;  ///< indices into generated_.tensors() per layer
};

/// The last ShapeNet layer's slice as the functional and PyTorch ports read it: with
/// `aliased_last_bias` the smooth ShapeNet takes its bias from p[N_W + L·n] (the first bias of
/// the last hidden layer) instead of p[N_W + (L+1)·n]; with `missing_last_bias` the SIREN
/// ShapeNet's last layer has no bias.
inline ad::HyperSlice seed_last_layer_slice(const ShapeNetConfig& cfg, const Defects& defects) {
  const ShapeNetLayout layout(cfg);
  ad::HyperSlice out = layout.slice(layout.layers() - 1);
  if (cfg.siren() && defects.missing_last_bias) out.bias_offset = -1;
  if (!cfg.siren() && defects.aliased_last_bias) out.bias_offset = layout.weight_count() + cfg.nlayers * cfg.units;
  return out;
}

}  // namespace nif
