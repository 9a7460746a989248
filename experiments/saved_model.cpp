#include "experiments/saved_model.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "nif/trainer.hpp"
#include "nn/checkpoint.hpp"
#include "nn/files.hpp"

namespace experiments {

namespace {

constexpr ad::Index kBatchRows = 4096;  // bounds the tape's memory on large inputs

/// `f(p)` for the rows of `p` in batches of kBatchRows, nothing recorded for backward, under
/// `precision` (as nif::predict evaluates the whole model).
template <class F>
ad::Matrix<float> evaluate_rows(ad::Tape<float>& tape, ad::Precision precision, const ad::Matrix<float>& p, F f) {
  ad::Matrix<float> out;
  ad::NoGradGuard<float> guard(tape);
  for (ad::Index first = 0; first < p.rows(); first += kBatchRows) {
    const ad::Index rows = std::min(kBatchRows, p.rows() - first);
    tape.clear();
    tape.set_precision(precision);
    const ad::MatrixMap<float> value = f(tape.record(tape.constant(p.middleRows(first, rows)), [] {})).value();
    if (first == 0) out.resize(p.rows(), value.cols());
    out.middleRows(first, rows) = value;
  }
  tape.set_precision(ad::Precision::fp32);
  return out;
}

}  // namespace

SavedModel::SavedModel(const std::filesystem::path& checkpoint) {
  const nlohmann::json meta = nn::read_checkpoint_metadata(checkpoint);
  try {
    config_ = nif::experiment_config_from_json(meta.at("user").at("config"));
    normalizer_ = nif::normalizer_from_json(meta.at("user").at("normalizer"));
  } catch (const std::exception& e) {
    throw nn::FileError(checkpoint, std::string("not a nif train checkpoint (") + e.what() + ")");
  }
  model_ = nif::make_model<float>(config_);
  nn::Rng rng(0);
  model_->bind(params_, rng);
  nn::load_checkpoint(checkpoint, params_, static_cast<nn::Optimizer<float>*>(nullptr));
}

ad::Matrix<float> SavedModel::normalized_params(const ad::Matrix<float>& p) const {
  if (p.cols() != config_.parameter_net.input_dim)
    throw std::invalid_argument(fmt::format("the model takes {} parameter column(s), p has {}",
                                            config_.parameter_net.input_dim, p.cols()));
  return normalizer_.normalize_params(p);
}

ad::Matrix<float> SavedModel::predict(const ad::Matrix<float>& p, const ad::Matrix<float>& x) {
  if (x.cols() != config_.shape_net.input_dim)
    throw std::invalid_argument(
        fmt::format("the model takes {} coordinate column(s), x has {}", config_.shape_net.input_dim, x.cols()));
  if (p.rows() != x.rows())
    throw std::invalid_argument(fmt::format("p has {} rows and x {}: one of each per point", p.rows(), x.rows()));
  return normalizer_.denormalize_targets(
      nif::predict(*model_, config_.precision(), tape_, normalized_params(p), normalizer_.normalize_coords(x)));
}

nif::HyperModel<float>& SavedModel::hyper_model(const char* what) {
  auto* hyper = dynamic_cast<nif::HyperModel<float>*>(model_.get());
  if (hyper == nullptr)
    throw std::invalid_argument(fmt::format("the {} architecture has no hypernetwork, so no {}", config_.architecture, what));
  return *hyper;
}

ad::Matrix<float> SavedModel::latent(const ad::Matrix<float>& p) {
  nif::HyperModel<float>& model = hyper_model("latent representation");
  return evaluate_rows(tape_, config_.precision(), normalized_params(p), [&](ad::Var<float> v) { return model.latent(v); });
}

ad::Matrix<float> SavedModel::shape_parameters(const ad::Matrix<float>& p) {
  nif::HyperModel<float>& model = hyper_model("generated ShapeNet parameters");
  return evaluate_rows(tape_, config_.precision(), normalized_params(p),
                       [&](ad::Var<float> v) { return model.shape_parameters(v); });
}

}  // namespace experiments
