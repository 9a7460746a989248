// Architecture "film": shift modulation as in COIN++ and functa. A shared SIREN ShapeNet (weights
// and biases trained directly, SIREN's init) whose every sine layer k gets a per-sample shift
// vector from the ParameterNet: h = sin(ω0·(s·W_k) + b_k + shift_k(p)); the last layer is shared
// and linear. Upstream's ShapeNet structure around it (shape_net_stack; --resblock for res-blocks).
//
// Generated row: one shift per sine layer, n wide; for the seed ShapeNet (n = 30, L = 2) three
// shifts, 90 per sample. They start near zero (U(±0.01) at z = 0, z-dependence at the layout-aware
// output's usual scale), so the model starts as one SIREN, slightly shifted per p.

#include "nif/defaults.hpp"
#include "nif/model.hpp"
#include "nif/parameter_net.hpp"
#include "nif/shape_net.hpp"

namespace nif {
namespace {

constexpr double kShiftInitBound = 0.01;

GeneratedLayout film_layout(const ShapeNetConfig& shape) {
  const ShapeNetLayout dims(shape);
  GeneratedLayout layout;
  for (Index k = 0; k + 1 < dims.layers(); ++k) layout.add("layer" + std::to_string(k) + ".shift", 1, dims.out(k), kShiftInitBound);
  return layout;
}

template <class T>
class FilmNif final : public ParameterNetModel<T> {
 public:
  explicit FilmNif(const ExperimentConfig& cfg)
      : ParameterNetModel<T>(cfg, film_layout(cfg.shape_net)),
        shared_(this->register_module("shape_net", std::make_shared<SharedShapeNet<T>>(cfg.shape_net, true,
                                                                                        cfg.shape_net.output_dim))) {
    this->build_parameter_net(cfg, ParameterNetInit::keras(), Activation::identity, true, ParameterNetNames::standard());
  }
  std::string type_name() const override { return "FiLM-NIF"; }

  Var<T> shape_net(Var<T> x, Var<T> w, ad::RowGroups groups) override { return apply(x, w, groups); }
  Jet<T> shape_net(const Jet<T>& x, const Jet<T>& w, ad::RowGroups groups) override { return apply(x, w, groups); }

 private:
  template <class V>
  V apply(const V& x, const V& w, ad::RowGroups groups) const {
    const V shifts = ad::expand_rows(w, groups);
    const auto& tensors = this->generated().tensors();
    return shape_net_stack(this->config().shape_net, shared_->layers(), x, [&](Index k, const V& s) {
      const V y = shared_->linear(k, s);
      if (k == shared_->layers() - 1) return y;
      const GeneratedTensor& shift = tensors[std::size_t(k)];
      return ad::add(y, ad::slice_cols(shifts, shift.offset, shift.size()));
    });
  }

  std::shared_ptr<SharedShapeNet<T>> shared_;
};

/// A SIREN ShapeNet in every case (ω0 = 30 unless set).
ExperimentConfig film_defaults(std::string_view case_name) {
  ExperimentConfig c = corrected_case_config(case_name, "film");
  c.shape_net.activation = Activation::sin;
  return c;
}

const ArchitectureRegistrar<FilmNif> registrar(
    "film", "hypernetwork", "shift modulation (COIN++/functa): shared SIREN ShapeNet, per-sample shifts of its sine layers",
    film_defaults);

}  // namespace
}  // namespace nif
