#include "nif/derivative_losses.hpp"

#include <cstdint>
#include <stdexcept>

#include "nif/derivatives.hpp"
#include "nn/random.hpp"

namespace nif {

namespace {

/// A constant rows x cols matrix on `tape`, filled by `fill` in the tape's arena (nothing on the
/// heap per step).
template <class T, class Fill>
Var<T> constant_in_arena(ad::Tape<T>& tape, Index rows, Index cols, Fill fill) {
  Var<T> v = tape.make(rows, cols, false);
  fill(v.value());
  return v;
}

/// Rows [begin, end) of `n` points uniform in the bounding box of the columns of `data`, drawn
/// from `rng` column by column (all n are drawn, so a row is the same point whichever range
/// asks for it).
template <class T>
Var<T> uniform_in_bounds(ad::Tape<T>& tape, const ad::Matrix<float>& data, Index n, Index begin, Index end, nn::Rng& rng) {
  return constant_in_arena(tape, end - begin, data.cols(), [&](auto&& m) {
    for (Index c = 0; c < m.cols(); ++c) {
      const double lo = data.col(c).minCoeff(), hi = data.col(c).maxCoeff();
      for (Index i = 0; i < n; ++i) {
        const T value = T(rng.uniform(lo, hi));
        if (i >= begin && i < end) m(i - begin, c) = value;
      }
    }
  });
}

template <class T>
class AdvectionResidualTerm final : public LossTerm<T> {
 public:
  AdvectionResidualTerm(AdvectionResidual a, Index collocation_points, std::uint64_t seed)
      : speed_(a.speed), weight_(T(a.weight)), collocation_points_(collocation_points), seed_(seed) {}
  std::string name() const override { return "advection-residual"; }
  Var<T> on_slice(const SliceInputs<T>& in) const override {
    Var<T> total = mean_square_residual(in, in.params, in.coords, in.runs);
    if (collocation_points_ > 0) {
      const Var<T> share = collocation_share(in);
      if (share.valid()) total = ad::add(total, share);
    }
    return ad::scale(total, weight_);
  }

 private:
  static constexpr std::uint64_t kCollocationStream = 0xc0110ca7105ULL;

  /// The slice's part of the mean (u_t + c·u_x)² over the collocation points, or an empty Var
  /// when its share is empty. The points are the same at every step (L-BFGS needs one
  /// objective); each slice evaluates only its share, the points [N·first/B, N·(first + n)/B) of
  /// a slice of n of the batch's B rows, so that a step evaluates each point once whatever the
  /// thread count. The trainer weights a slice by n/B, so the share's mean is scaled by
  /// (its points/N)·(B/n): the slices' weighted sum is then the mean over all N points.
  Var<T> collocation_share(const SliceInputs<T>& in) const {
    const Index n = Index(in.rows.size()), batch = in.batch_rows;
    const Index begin = collocation_points_ * in.first / batch, end = collocation_points_ * (in.first + n) / batch;
    if (end == begin) return {};
    nn::Rng rng(seed_ ^ kCollocationStream);
    const Var<T> p = uniform_in_bounds(in.tape, in.data.params, collocation_points_, begin, end, rng);
    const Var<T> x = uniform_in_bounds(in.tape, in.data.coords, collocation_points_, begin, end, rng);
    const double scale = double(end - begin) / double(collocation_points_) * double(batch) / double(n);
    return ad::scale(mean_square_residual(in, p, x, {}), T(scale));
  }

  /// mean (u_t + c·u_x)² of the model at (p, x), in physical units.
  Var<T> mean_square_residual(const SliceInputs<T>& in, Var<T> p, Var<T> x, ad::RowGroups runs) const {
    const auto d = input_derivatives(in.model, p, x, runs, {.second_x = false, .parameters = true});
    const Normalizer& n = in.normalizer;
    // u_t + c·u_x of output o is s_u·(∂û/∂t̂ / s_t + c·∂û/∂x̂ / s_x), the normalised model's
    // derivatives mapped back by the normaliser's scales; the output scales s_u are a row.
    const double st = column_scale(n.params, 0), sx = column_scale(n.coords, 0);
    const Var<T> su = constant_in_arena(in.tape, 1, d.value().cols(), [&](auto&& m) {
      for (Index o = 0; o < m.cols(); ++o) m(0, o) = T(column_scale(n.targets, o));
    });
    const Var<T> rate = ad::add(ad::scale(d.du_dp(0), T(1 / st)), ad::scale(d.du_dx(0), T(speed_ / sx)));
    return ad::mean(ad::square(ad::mul(rate, su)));
  }

  double speed_;
  T weight_;
  Index collocation_points_;
  std::uint64_t seed_;
};

template <class T>
class JacobianRegularization final : public LossTerm<T> {
 public:
  explicit JacobianRegularization(double weight) : weight_(T(weight)) {}
  std::string name() const override { return "jacobian-reg"; }
  Var<T> on_slice(const SliceInputs<T>& in) const override {
    auto& hyper = dynamic_cast<HyperModel<T>&>(in.model);
    // The latent once per run of equal p, each run's squares counted once per sample of it, so
    // that the mean is over the samples as upstream's, at the grouped forward's cost.
    const Jet<T> z = latent_jacobian(hyper, in.params);
    const Var<T> samples_per_row = constant_in_arena(in.tape, z.rows(), 1, [&](auto&& m) {
      for (Index g = 0; g < m.rows(); ++g) m(g, 0) = in.runs.empty() ? T(1) : T(in.runs.offsets[g + 1] - in.runs.offsets[g]);
    });
    Var<T> total;
    for (int j = 0; j < z.directions; ++j) {
      const Var<T> squares = ad::sum(ad::mul(ad::square(z.first_or_zero(j)), samples_per_row));
      total = total.valid() ? ad::add(total, squares) : squares;
    }
    const double count = double(in.rows.size()) * double(z.cols()) * double(z.directions);
    return ad::scale(total, T(double(weight_) / count));
  }

 private:
  T weight_;
};

template <class T>
class SobolevTerm final : public LossTerm<T> {
 public:
  explicit SobolevTerm(double weight) : weight_(weight) {}
  std::string name() const override { return "sobolev"; }
  Var<T> on_slice(const SliceInputs<T>& in) const override {
    const auto d = input_derivatives(in.model, in.params, in.coords, in.runs, {.second_x = false, .parameters = false});
    const Normalizer& n = in.normalizer;
    const Index D = in.coords.cols(), O = d.value().cols();
    Var<T> total;
    for (Index j = 0; j < D; ++j) {
      // The targets are data, not tape values: the slice's rows of column o·D + j, in normalised
      // units (∂û/∂x̂ = s_x/s_u·∂u/∂x).
      const Var<T> target = constant_in_arena(in.tape, Index(in.rows.size()), O, [&](auto&& m) {
        for (Index o = 0; o < O; ++o) {
          const double to_normalised = double(column_scale(n.coords, j)) / double(column_scale(n.targets, o));
          for (Index i = 0; i < m.rows(); ++i) m(i, o) = T(to_normalised * double(in.data.derivatives(in.rows[std::size_t(i)], o * D + j)));
        }
      });
      const Var<T> squares = ad::sum(ad::square(ad::sub(d.du_dx(j), target)));
      total = total.valid() ? ad::add(total, squares) : squares;
    }
    return ad::scale(total, T(weight_ / double(in.rows.size() * O * D)));
  }

 private:
  double weight_;
};

}  // namespace

template <class T>
std::unique_ptr<const LossTerm<T>> advection_residual_term(const ExperimentConfig& cfg) {
  return std::make_unique<AdvectionResidualTerm<T>>(cfg.loss.advection, cfg.loss.collocation_points, cfg.train.seed);
}

template <class T>
std::unique_ptr<const LossTerm<T>> jacobian_regularization_term(const ExperimentConfig& cfg) {
  if (architecture(cfg.architecture).family == "baseline")
    throw std::invalid_argument("--jacobian-reg needs a latent; architecture " + cfg.architecture + " has none");
  return std::make_unique<JacobianRegularization<T>>(cfg.loss.jacobian_reg);
}

template <class T>
std::unique_ptr<const LossTerm<T>> sobolev_term(const ExperimentConfig& cfg) {
  return std::make_unique<SobolevTerm<T>>(cfg.loss.sobolev_weight);
}

template std::unique_ptr<const LossTerm<float>> advection_residual_term<float>(const ExperimentConfig&);
template std::unique_ptr<const LossTerm<double>> advection_residual_term<double>(const ExperimentConfig&);
template std::unique_ptr<const LossTerm<float>> jacobian_regularization_term<float>(const ExperimentConfig&);
template std::unique_ptr<const LossTerm<double>> jacobian_regularization_term<double>(const ExperimentConfig&);
template std::unique_ptr<const LossTerm<float>> sobolev_term<float>(const ExperimentConfig&);
template std::unique_ptr<const LossTerm<double>> sobolev_term<double>(const ExperimentConfig&);

}  // namespace nif
