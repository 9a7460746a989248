#include "experiments/saved_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

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
    const ad::MatrixMap<float> value = f(ad::to_compute_precision(tape.constant(p.middleRows(first, rows)))).value();
    if (first == 0) out.resize(p.rows(), value.cols());
    out.middleRows(first, rows) = value;
  }
  tape.set_precision(ad::Precision::fp32);
  return out;
}

/// A sum of parameter counts every architecture has at least (hidden biases, first-layer weights
/// of both networks, whose ShapeNet part the ParameterNet must generate), in double so absurd
/// sizes cannot overflow.
double least_parameter_count(const nif::ExperimentConfig& cfg) {
  const auto& s = cfg.shape_net;
  const auto& p = cfg.parameter_net;
  return std::max({double(s.units) * double(s.nlayers), double(s.input_dim) * double(s.units),
                   double(p.units) * double(p.nlayers), double(p.input_dim) * double(p.units)});
}

/// The model and normaliser a checkpoint's metadata describes. Its sizes are checked against
/// the checkpoint's arrays before anything is built from them (a forged "nlayers": 1e7 would
/// otherwise allocate gigabytes first).
std::pair<nif::ExperimentConfig, nif::Normalizer> checked_setup(const std::string& checkpoint, bool compact) {
  const nlohmann::json meta = compact ? nn::read_compact_metadata(checkpoint) : nn::read_checkpoint_metadata(checkpoint);
  std::pair<nif::ExperimentConfig, nif::Normalizer> setup;
  try {
    setup.first = nif::experiment_config_from_json(meta.at("user").at("config"));
    setup.second = nif::normalizer_from_json(meta.at("user").at("normalizer"));
  } catch (const std::exception& e) {
    throw nn::FileError(checkpoint, std::string("not a nif train checkpoint (") + e.what() + ")");
  }
  const auto& c = setup.first;
  for (const ad::Index dim : {c.shape_net.input_dim, c.shape_net.output_dim, c.shape_net.units, c.shape_net.nlayers,
                              c.parameter_net.input_dim, c.parameter_net.latent_dim, c.parameter_net.units, c.parameter_net.nlayers})
    if (dim < 0) throw nn::FileError(checkpoint, "metadata.json holds a negative model size");
  const std::int64_t stored = compact ? nn::count_compact_parameters(checkpoint) : nn::count_checkpoint_parameters(checkpoint);
  if (least_parameter_count(c) > double(stored))
    throw nn::FileError(checkpoint, fmt::format("metadata.json describes a model of at least {:.0f} parameters, the "
                                                "checkpoint holds {}", least_parameter_count(c), stored));
  return setup;
}

}  // namespace

SavedModel::SavedModel(const std::filesystem::path& checkpoint)
    : compact_(nn::is_compact_model(checkpoint)), bytes_(std::filesystem::file_size(checkpoint)) {
  std::tie(config_, normalizer_) = checked_setup(checkpoint.string(), compact_);
  try {
    model_ = nif::make_model<float>(config_);
    nn::Rng rng(0);
    model_->bind(params_, rng);
  } catch (const std::bad_alloc&) {
    throw std::runtime_error(checkpoint.string() + ": out of memory building the model it describes");
  }
  if (compact_)
    nn::load_compact_model(checkpoint, params_);
  else
    nn::load_checkpoint(checkpoint, params_, static_cast<nn::Optimizer<float>*>(nullptr));
}

void SavedModel::save_compact(const std::filesystem::path& file, nn::WeightFormat format) const {
  const nlohmann::json user{{"config", nif::to_json(config_)}, {"normalizer", nif::to_json(normalizer_)}};
  nn::save_compact_model(file, params_, format, user);
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
