#include "nif/loss_terms.hpp"

#include <stdexcept>

#include "nif/derivative_losses.hpp"
#include "nn/penalty.hpp"

namespace nif {

namespace {

/// λ·Σ|θ| or λ·Σθ² over every trainable parameter (upstream NIF's l1_reg / l2_reg).
template <class T>
class ParameterPenalty final : public LossTerm<T> {
 public:
  ParameterPenalty(bool l1, double lambda) : l1_(l1), lambda_(T(lambda)) {}
  std::string name() const override { return l1_ ? "l1" : "l2"; }
  Var<T> on_slice(const SliceInputs<T>& in) const override {
    return l1_ ? nn::l1_penalty(in.model, in.tape, lambda_) : nn::l2_penalty(in.model, in.tape, lambda_);
  }

 private:
  bool l1_;
  T lambda_;
};

}  // namespace

template <class T>
LossTerms<T> make_loss_terms(const ExperimentConfig& cfg) {
  LossTerms<T> terms;
  if (cfg.loss.l1 > 0) terms.push_back(std::make_unique<ParameterPenalty<T>>(true, cfg.loss.l1));
  if (cfg.loss.l2 > 0) terms.push_back(std::make_unique<ParameterPenalty<T>>(false, cfg.loss.l2));
  if (cfg.loss.collocation_points > 0 && cfg.loss.advection.weight == 0)
    throw std::invalid_argument("--collocation-points needs --advection-residual c:λ with λ > 0");
  if (cfg.loss.advection.weight > 0) terms.push_back(advection_residual_term<T>(cfg));
  if (cfg.loss.jacobian_reg > 0) terms.push_back(jacobian_regularization_term<T>(cfg));
  if (cfg.loss.sobolev_weight > 0) terms.push_back(sobolev_term<T>(cfg));
  return terms;
}

template <class T>
Var<T> slice_objective(const SliceInputs<T>& in, const LossTerms<T>& terms) {
  Var<T> loss = in.weights.valid() ? ad::weighted_mse(in.output, in.targets, in.weights) : ad::mse(in.output, in.targets);
  for (const auto& term : terms) loss = ad::add(loss, term->on_slice(in));
  return loss;
}

template LossTerms<float> make_loss_terms<float>(const ExperimentConfig&);
template LossTerms<double> make_loss_terms<double>(const ExperimentConfig&);
template Var<float> slice_objective<float>(const SliceInputs<float>&, const LossTerms<float>&);
template Var<double> slice_objective<double>(const SliceInputs<double>&, const LossTerms<double>&);

}  // namespace nif
