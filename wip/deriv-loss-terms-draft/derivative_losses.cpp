#include "nif/derivative_losses.hpp"

#include <stdexcept>

#include "nif/derivatives.hpp"

namespace nif {

namespace {

float scale_of(const ColumnScaling& s, Index c) { return s.size() == 0 ? 1.0f : s.scale[std::size_t(c)]; }

template <class T>
class AdvectionResidual final : public LossTerm<T> {
 public:
  AdvectionResidual(double speed, double weight) : speed_(speed), weight_(T(weight)) {}
  std::string name() const override { return "advection-residual"; }
  Var<T> on_slice(const SliceInputs<T>& in) const override {
    const auto d = input_derivatives(in.model, in.params, in.coords, in.runs, {.second_x = false, .parameters = true});
    const Normalizer& n = in.normalizer;
    // u_t + c·u_x per output o = s_u·(∂û/∂t̂ / s_t + c·∂û/∂x̂ / s_x); the output scales s_u are a row.
    const double st = scale_of(n.params, 0), sx = scale_of(n.coords, 0);
    ad::Matrix<T> su(1, d.value().cols());
    for (Index o = 0; o < su.cols(); ++o) su(0, o) = T(scale_of(n.targets, o));
    const Var<T> residual = ad::mul(ad::add(ad::scale(d.du_dp(0), T(1 / st)), ad::scale(d.du_dx(0), T(speed_ / sx))),
                                    in.tape.constant(su));
    return ad::scale(ad::mean(ad::square(residual)), weight_);
  }

 private:
  double speed_;
  T weight_;
};

template <class T>
class JacobianRegularization final : public LossTerm<T> {
 public:
  explicit JacobianRegularization(double weight) : weight_(T(weight)) {}
  std::string name() const override { return "jacobian-reg"; }
  Var<T> on_slice(const SliceInputs<T>& in) const override {
    auto& hyper = dynamic_cast<HyperModel<T>&>(in.model);
    // One row per sample, so that a run of samples sharing p counts once per sample, as upstream.
    const Jet<T> z = latent_jacobian(hyper, ad::expand_rows(in.params, in.runs));
    Var<T> total;
    for (int j = 0; j < z.directions; ++j) {
      const Var<T> squares = ad::sum(ad::square(z.first_or_zero(j)));
      total = total.valid() ? ad::add(total, squares) : squares;
    }
    return ad::scale(total, weight_ / T(z.value.size() * z.directions));
  }

 private:
  T weight_;
};

}  // namespace

template <class T>
std::unique_ptr<const LossTerm<T>> advection_residual_term(const ExperimentConfig& cfg) {
  if (cfg.parameter_net.input_dim < 1)
    throw std::invalid_argument("--advection-residual needs t as the first ParameterNet input (the data has none)");
  return std::make_unique<AdvectionResidual<T>>(cfg.loss.advection_speed, cfg.loss.advection_weight);
}

template <class T>
std::unique_ptr<const LossTerm<T>> jacobian_regularization_term(const ExperimentConfig& cfg) {
  if (architecture(cfg.architecture).family == "baseline")
    throw std::invalid_argument("--jacobian-reg needs a latent; architecture " + cfg.architecture + " has none");
  return std::make_unique<JacobianRegularization<T>>(cfg.loss.jacobian_reg);
}

template std::unique_ptr<const LossTerm<float>> advection_residual_term<float>(const ExperimentConfig&);
template std::unique_ptr<const LossTerm<double>> advection_residual_term<double>(const ExperimentConfig&);
template std::unique_ptr<const LossTerm<float>> jacobian_regularization_term<float>(const ExperimentConfig&);
template std::unique_ptr<const LossTerm<double>> jacobian_regularization_term<double>(const ExperimentConfig&);

}  // namespace nif
