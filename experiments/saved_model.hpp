#pragma once
// A model trained by `nif train`, loaded back from its checkpoint and evaluated in physical units
// (`nif predict` and the Python module's nifcpp.load).

#include <filesystem>
#include <memory>

#include "nif/config.hpp"
#include "nif/data.hpp"
#include "nif/model.hpp"
#include "nn/compact.hpp"

namespace experiments {

/// The model of a checkpoint (or of a compact model written by `nif export`, dequantised) with
/// the config and normaliser saved in it. Inputs are in physical
/// units: ParameterNet inputs p (N x P) and coordinates x (N x D), one point per row.
class SavedModel {
 public:
  /// Reads `checkpoint`; nn::FileError when it cannot be read or nif train (or nif export) did
  /// not write it.
  explicit SavedModel(const std::filesystem::path& checkpoint);

  /// u(x; p) in physical units, N x O.
  ad::Matrix<float> predict(const ad::Matrix<float>& p, const ad::Matrix<float>& x);
  /// The ParameterNet's bottleneck z(p) (the latent representation), N x r. Like
  /// shape_parameters, std::invalid_argument for a model without a hypernetwork.
  ad::Matrix<float> latent(const ad::Matrix<float>& p);
  /// Everything the ParameterNet generates for the ShapeNet, w(p): N x model().generated().size().
  ad::Matrix<float> shape_parameters(const ad::Matrix<float>& p);

  /// Writes the model as a compact file (nn/compact.hpp) with its config and normaliser, so
  /// that SavedModel reads it back.
  void save_compact(const std::filesystem::path& file, nn::WeightFormat format) const;

  const nif::ExperimentConfig& config() const { return config_; }
  const nif::Normalizer& normalizer() const { return normalizer_; }
  nif::Model<float>& model() { return *model_; }
  const ad::ParameterBuffer<float>& parameters() const { return params_; }
  /// Whether the file is a compact model (nn/compact.hpp), and its size in bytes.
  bool compact() const { return compact_; }
  std::uintmax_t file_bytes() const { return bytes_; }

 private:
  /// p normalised, after checking its width; std::invalid_argument otherwise.
  ad::Matrix<float> normalized_params(const ad::Matrix<float>& p) const;
  /// The model as a hypernetwork; std::invalid_argument naming `what` when it is none.
  nif::HyperModel<float>& hyper_model(const char* what);

  bool compact_;
  std::uintmax_t bytes_;
  nif::ExperimentConfig config_;
  nif::Normalizer normalizer_;
  std::unique_ptr<nif::Model<float>> model_;
  ad::ParameterBuffer<float> params_;
  ad::Tape<float> tape_;
};

}  // namespace experiments
