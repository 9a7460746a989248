#include "autodiff/ops/activation.hpp"

#include <stdexcept>

namespace ad {

Activation activation_from_name(std::string_view name) {
  if (name == "identity" || name == "linear") return Activation::identity;
  if (name == "relu") return Activation::relu;
  if (name == "sigmoid") return Activation::sigmoid;
  if (name == "tanh") return Activation::tanh;
  if (name == "swish" || name == "silu") return Activation::swish;
  if (name == "sin" || name == "sine") return Activation::sin;
  throw std::invalid_argument("unknown activation '" + std::string(name) +
                              "' (expected identity, relu, sigmoid, tanh, swish, silu or sine)");
}

std::string activation_names() { return "identity, relu, sigmoid, tanh, swish, sine"; }

std::string_view activation_name(Activation act) {
  switch (act) {
    case Activation::identity: return "identity";
    case Activation::relu: return "relu";
    case Activation::sigmoid: return "sigmoid";
    case Activation::tanh: return "tanh";
    case Activation::swish: return "swish";
    case Activation::sin: return "sine";
  }
  return "?";
}

}  // namespace ad
