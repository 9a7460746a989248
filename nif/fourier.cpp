// Architecture "fourier": random Fourier features (Tancik et al. 2020; the NIF paper's Table 2
// baseline) of v = (p, x), then an MLP, no hypernetwork: u = MLP(γ(v)) with
// γ(v) = [sin(2π·v·B), cos(2π·v·B)], B [P + D, m] ~ N(0, σ²) fixed (not trained).
// --fourier-sigma sets σ, --fourier-features m; the "shape" flags size the MLP (ReLU by default, as
// Tancik et al.; He init for relu, Glorot otherwise).
//
// B is not a parameter: it is drawn at construction from its own stream of the run's seed
// (cfg.train.seed), so every model built from the same config (a resumed run, `nif predict`
// rebuilding it from config.json) has the same B, the trainable count holds only what Adam
// trains, and training never touches B.

#include <numbers>

#include "nif/coordinate_net.hpp"

namespace nif {
namespace {

/// The stream of the run's seed B is drawn from; the trainer draws the weights and the batch
/// order from streams 0 and 1, so B stays the same whatever they consume.
constexpr std::uint64_t kFrequencyStream = 0xF0F1E5;

template <class T>
class FourierFeatures final : public CoordinateModel<T> {
 public:
  explicit FourierFeatures(const ExperimentConfig& cfg)
      : CoordinateModel<T>(cfg), frequencies_(this->joint_width(), Index(cfg.option("fourier_features"))) {
    // Stored as 2π·B: one N(0, (2πσ)²) draw per entry, row-major.
    nn::Rng rng = nn::Rng(cfg.train.seed).split(kFrequencyStream);
    nn::init::normal(ad::MatrixMap<T>(frequencies_.data(), frequencies_.rows(), frequencies_.cols()),
                     2 * std::numbers::pi * cfg.option("fourier_sigma"), rng);
    net_ = this->register_module("net", dense_stack<T>(2 * frequencies_.cols(), cfg.shape_net));
  }
  std::string type_name() const override { return "FourierFeatures"; }

  Var<T> forward_joint(Var<T> v) override { return apply(v); }
  Jet<T> forward_joint(const Jet<T>& v) override { return apply(v); }

 private:
  template <class V>
  V apply(const V& v) {
    // B enters the tape as a frozen leaf over its own storage: no copy, no gradient.
    Var<T> b = v.tape().leaf(frequencies_.data(), nullptr, frequencies_.rows(), frequencies_.cols());
    V phase = ad::matmul(v, b);
    return (*net_)(ad::concat_cols({ad::sin(phase), ad::cos(phase)}));
  }

  ad::Matrix<T> frequencies_;
  std::shared_ptr<nn::Sequential<T>> net_;
};

const ArchitectureRegistrar<FourierFeatures> registrar(
    "fourier", "baseline",
    "random Fourier features [sin, cos](2π·(p, x)·B), B ~ N(0, σ²) fixed, then an MLP (paper's Table 2); --fourier-sigma",
    [](std::string_view case_name) { return coordinate_defaults(case_name, "fourier", Activation::relu); },
    {VariantOption{.name = "fourier_sigma", .help = "scale σ of the random frequencies B ~ N(0, σ²)", .default_value = 10,
                   .min = 1e-3, .max = 1e4},
     VariantOption{.name = "fourier_features", .help = "number m of random frequencies (2m features)", .default_value = 64,
                   .min = 1, .max = 4096, .integer = true}});

}  // namespace
}  // namespace nif
