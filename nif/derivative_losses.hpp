#pragma once
// Loss terms on the model's input derivatives (nif/derivatives.hpp), composed into the training
// loss by make_loss_terms (nif/loss_terms.hpp): the advection residual of a traveling wave and
// upstream NIF's Jacobian regularisation of the latent, and Sobolev training on derivative data.

#include <memory>

#include "nif/loss_terms.hpp"

namespace nif {

/// λ·mean over the slice's points of (u_t + c·u_x)², in physical units: t is the first
/// ParameterNet input, x the first coordinate, u every output field. The model's derivatives are
/// taken in normalised units and scaled by the normaliser (u_t = s_u/s_t·∂û/∂t̂). (Data always
/// has a ParameterNet input: `--param-cols` refuses an empty list.) With
/// cfg.loss.collocation_points = N > 0, plus λ·mean (u_t + c·u_x)² over N points drawn once from
/// the run seed, uniform in the bounding box of the normalised training (p, x); each slice of a
/// batch evaluates its share of them, in proportion to its rows.
template <class T>
std::unique_ptr<const LossTerm<T>> advection_residual_term(const ExperimentConfig& cfg);

/// λ·mean over (samples, r, P) of (∂z/∂p)², z the latent and p the ParameterNet input in
/// normalised units (upstream's JacRegLatentLayer). std::invalid_argument for an architecture
/// without a latent (a baseline).
template <class T>
std::unique_ptr<const LossTerm<T>> jacobian_regularization_term(const ExperimentConfig& cfg);

/// Sobolev training: λ·mean over the slice's points, outputs o and coordinates j of
/// (∂û_o/∂x̂_j − (s_j/s_o)·g_oj)², in normalised units: g the data's physical target derivatives
/// (PointDataset::derivatives, column o·D + j), mapped by the normaliser's scales s_j of x_j
/// and s_o of u_o. The trainer checks that the data has its O·D columns.
template <class T>
std::unique_ptr<const LossTerm<T>> sobolev_term(const ExperimentConfig& cfg);

}  // namespace nif
