#pragma once
// Where each ShapeNet layer's weights and bias sit in the ParameterNet's flat output.

#include <vector>

#include "autodiff/ops/hyper.hpp"
#include "nif/config.hpp"

namespace nif {

/// The flat layout shared by every architecture (upstream NIF's): all weights first, then all
/// biases, each in layer order; every weight block row-major [in, out]. Layers are: first D→n,
/// then L hidden n→n (2L with SIREN res-blocks, the two of a block adjacent), then last n→O.
/// Size N_w = Σ in·out + Σ out, e.g. 1951 for the seed's D = O = 1, n = 30, L = 2.
class ShapeNetLayout {
 public:
  explicit ShapeNetLayout(const ShapeNetConfig& cfg) {
    const Index hidden = cfg.siren() && cfg.use_resblock ? 2 * cfg.nlayers : cfg.nlayers;
    dims_.push_back({cfg.input_dim, cfg.units});
    for (Index k = 0; k < hidden; ++k) dims_.push_back({cfg.units, cfg.units});
    dims_.push_back({cfg.units, cfg.output_dim});
    Index offset = 0;
    for (auto [in, out] : dims_) {
      weight_offsets_.push_back(offset);
      offset += in * out;
    }
    weight_count_ = offset;
    for (auto [in, out] : dims_) {
      bias_offsets_.push_back(offset);
      offset += out;
    }
    size_ = offset;
  }

  /// Number of dense layers (first, hidden..., last).
  Index layers() const { return static_cast<Index>(dims_.size()); }
  Index size() const { return size_; }
  Index weight_count() const { return weight_count_; }
  Index in(Index k) const { return dims_[at(k)].first; }
  Index out(Index k) const { return dims_[at(k)].second; }
  Index weight_offset(Index k) const { return weight_offsets_[at(k)]; }
  Index bias_offset(Index k) const { return bias_offsets_[at(k)]; }

  /// Layer k as a hyper-op slice (weights scaled by `weight_scale`, bias at its own offset).
  ad::HyperSlice slice(Index k, double weight_scale = 1) const {
    return {.in = in(k), .out = out(k), .weight_offset = weight_offset(k), .bias_offset = bias_offset(k),
            .weight_scale = weight_scale};
  }

 private:
  static std::size_t at(Index k) { return static_cast<std::size_t>(k); }
  std::vector<std::pair<Index, Index>> dims_;
  std::vector<Index> weight_offsets_, bias_offsets_;
  Index weight_count_ = 0, size_ = 0;
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
