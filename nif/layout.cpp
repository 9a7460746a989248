#include "nif/layout.hpp"

#include <cmath>
#include <stdexcept>

namespace nif {

const GeneratedTensor& GeneratedLayout::at(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return t;
  throw std::logic_error("generated layout has no tensor '" + name + "'");
}

ShapeNetLayout::ShapeNetLayout(const ShapeNetConfig& cfg) {
  const Index n = cfg.units, hidden = cfg.siren() && cfg.use_resblock ? 2 * cfg.nlayers : cfg.nlayers;
  std::vector<std::pair<Index, Index>> dims{{cfg.input_dim, n}};
  for (Index k = 0; k < hidden; ++k) dims.push_back({n, n});
  dims.push_back({n, cfg.output_dim});
  const Index last = Index(dims.size()) - 1;
  for (Index k = 0; k <= last; ++k) {
    const double bound = k == 0      ? 1.0 / double(cfg.input_dim)
                          : k < last ? std::sqrt(6.0 / double(n)) / cfg.omega0
                                     : std::sqrt(6.0 / double(n + n));
    weights_.push_back(generated_.tensors().size());
    generated_.add("layer" + std::to_string(k) + ".weight", dims[std::size_t(k)].first, dims[std::size_t(k)].second, bound);
  }
  for (Index k = 0; k <= last; ++k) {
    biases_.push_back(generated_.tensors().size());
    generated_.add("layer" + std::to_string(k) + ".bias", 1, dims[std::size_t(k)].second, 1.0 / double(n));
  }
}

}  // namespace nif
