#pragma once
// The training loss as the config composes it: the data MSE of a slice plus the extra terms the
// config asks for (--l1, --l2, ...). The one place a new loss term is added: a LossTerm subclass
// and one line in make_loss_terms (nif/loss_terms.cpp), its weight a field of LossConfig.

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nif/config.hpp"
#include "nif/data.hpp"
#include "nif/model.hpp"

namespace nif {

/// What a loss term sees of the slice being trained: the model and tape, the slice's recorded
/// inputs and output, and where its rows come from. In float training the tape computes in the
/// config's precision during the forward and in float32 for the loss (as Keras does).
template <class T>
struct SliceInputs {
  Model<T>& model;
  ad::Tape<T>& tape;
  const ExperimentConfig& cfg;
  const Normalizer& normalizer;  ///< physical = normalised·scale + mean (e.g. for a PDE's constants)
  const PointDataset& data;      ///< the normalised training data
  std::span<const Index> rows;   ///< the slice's rows of `data`, in tape order
  Index first;                   ///< the slice is rows [first, first + rows.size()) of its batch
  Index batch_rows;              ///< the rows of the whole batch (all slices of all threads and ranks)
  ad::RowGroups runs;            ///< runs of equal ParameterNet input (empty: one params row per sample)
  Var<T> params;                 ///< ParameterNet input: one row per run, or per sample without runs
  Var<T> coords;                 ///< rows × D
  Var<T> output;                 ///< the model's u, rows × O
  Var<T> targets;                ///< rows × O
  Var<T> weights;                ///< rows × 1 sample weights; an empty Var when the data is unweighted
};

/// One extra term of the training loss.
template <class T>
class LossTerm {
 public:
  virtual ~LossTerm() = default;
  /// The term's name as its flag says it, for messages ("l2").
  virtual std::string name() const = 0;
  /// The term's contribution to the loss of a slice, a 1 x 1 Var on in.tape. The trainer weights
  /// every slice's loss by its share of the batch's rows, so a term that averages over points
  /// returns the mean over the slice's rows, and a term of the parameters alone (a penalty)
  /// returns its whole value: summed over the slices, either is counted once per batch.
  virtual Var<T> on_slice(const SliceInputs<T>& in) const = 0;
};

template <class T>
using LossTerms = std::vector<std::unique_ptr<const LossTerm<T>>>;

/// The extra terms `cfg` asks for (those with a non-zero weight), in a fixed order.
template <class T>
LossTerms<T> make_loss_terms(const ExperimentConfig& cfg);

/// The loss of a slice: the MSE of in.output against in.targets (weighted by in.weights when
/// given) plus every term of `terms`.
template <class T>
Var<T> slice_objective(const SliceInputs<T>& in, const LossTerms<T>& terms);

extern template LossTerms<float> make_loss_terms<float>(const ExperimentConfig&);
extern template LossTerms<double> make_loss_terms<double>(const ExperimentConfig&);
extern template Var<float> slice_objective<float>(const SliceInputs<float>&, const LossTerms<float>&);
extern template Var<double> slice_objective<double>(const SliceInputs<double>&, const LossTerms<double>&);

}  // namespace nif
