#pragma once
// The layer library: Dense, Shortcut, ResNet block, SIREN, Sequential.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.hpp"

namespace nn {

using ad::Activation;

struct DenseOptions {
  Index in = 1;
  Index out = 1;
  Activation activation = Activation::identity;
  bool bias = true;
  Initializer weight_init = Initializer::glorot_uniform();
  Initializer bias_init = Initializer::zeros();
};

/// y = act(x·W + b), W [in, out], b [1, out].
template <class T>
class Dense : public UnaryModule<T> {
 public:
  explicit Dense(DenseOptions o) : opt_(std::move(o)) {
    weight_ = this->register_weight("weight", opt_.in, opt_.out, opt_.weight_init);
    if (opt_.bias) bias_ = this->register_bias("bias", opt_.out, opt_.in, opt_.bias_init);
  }
  std::string type_name() const override { return "Dense"; }
  const DenseOptions& options() const { return opt_; }

  /// The pre-activation x·W + b (x a Var or a Jet).
  template <class V>
  V linear(const V& x) const {
    Var<T> w = this->param(x.tape(), weight_);
    return opt_.bias ? ad::affine(x, w, this->param(x.tape(), bias_)) : ad::matmul(x, w);
  }
  Var<T> forward(Var<T> x) override { return apply(x); }
  ad::Jet<T> forward(const ad::Jet<T>& x) override { return apply(x); }

  ad::MatrixMap<T> weight() const { return this->value(weight_); }
  /// Only valid when the layer has a bias.
  ad::MatrixMap<T> bias() const { return this->value(bias_); }

 private:
  template <class V>
  V apply(const V& x) const { return ad::activate(linear(x), opt_.activation); }

  DenseOptions opt_;
  Index weight_ = -1, bias_ = -1;
};

struct ShortcutOptions {
  Index width = 1;
  Activation activation = Activation::swish;
  Initializer weight_init = Initializer::glorot_uniform();
  Initializer bias_init = Initializer::zeros();
};

/// Shortcut block (upstream MLP_SimpleShortCut): y = h + act(h·W + b), W [width, width].
template <class T>
class Shortcut : public UnaryModule<T> {
 public:
  explicit Shortcut(ShortcutOptions o)
      : inner_(this->register_module("dense", std::make_shared<Dense<T>>(DenseOptions{
                                                  .in = o.width,
                                                  .out = o.width,
                                                  .activation = o.activation,
                                                  .weight_init = o.weight_init,
                                                  .bias_init = o.bias_init,
                                              }))) {}
  std::string type_name() const override { return "Shortcut"; }
  Var<T> forward(Var<T> h) override { return ad::add(h, (*inner_)(h)); }
  ad::Jet<T> forward(const ad::Jet<T>& h) override { return ad::add(h, (*inner_)(h)); }

 private:
  std::shared_ptr<Dense<T>> inner_;
};

/// ResNet block: y = act(h + act(h·W1 + b1)·W2 + b2), both W [width, width].
template <class T>
class ResNetBlock : public UnaryModule<T> {
 public:
  explicit ResNetBlock(ShortcutOptions o) : activation_(o.activation) {
    auto dense = [&](Activation act) {
      return std::make_shared<Dense<T>>(DenseOptions{
          .in = o.width, .out = o.width, .activation = act, .weight_init = o.weight_init, .bias_init = o.bias_init});
    };
    first_ = this->register_module("dense1", dense(o.activation));
    second_ = this->register_module("dense2", dense(Activation::identity));
  }
  std::string type_name() const override { return "ResNetBlock"; }
  Var<T> forward(Var<T> h) override { return apply(h); }
  ad::Jet<T> forward(const ad::Jet<T>& h) override { return apply(h); }

 private:
  template <class V>
  V apply(const V& h) {
    return ad::activate(ad::add(h, (*second_)((*first_)(h))), activation_);
  }

  Activation activation_;
  std::shared_ptr<Dense<T>> first_, second_;
};

/// Where ω0 goes in a SIREN layer.
enum class SirenForm {
  nif,       ///< sin(ω0·(x·W) + b): ω0 multiplies only the product (upstream NIF)
  sitzmann,  ///< sin(ω0·(x·W + b)) (Sitzmann et al. 2020)
};

struct SirenOptions {
  Index in = 1;
  Index out = 1;
  double omega0 = 30;
  SirenForm form = SirenForm::nif;
  bool first_layer = false;  ///< selects the default weight init: U(±1/in) first, U(±√(6/in)/ω0) hidden
};

/// SIREN layer with the SIREN initialisation (weights as above, bias U(±1/√in)).
template <class T>
class Siren : public UnaryModule<T> {
 public:
  explicit Siren(SirenOptions o) : opt_(o) {
    weight_ = this->register_weight(
        "weight", o.in, o.out,
        o.first_layer ? Initializer::siren_first_layer() : Initializer::siren_hidden_layer(o.omega0));
    bias_ = this->register_bias("bias", o.out, o.in, Initializer::torch_linear_default());
  }
  std::string type_name() const override { return "Siren"; }
  Var<T> forward(Var<T> x) override { return apply(x); }
  ad::Jet<T> forward(const ad::Jet<T>& x) override { return apply(x); }

 private:
  template <class V>
  V apply(const V& x) const {
    auto& tape = x.tape();
    Var<T> w = this->param(tape, weight_), b = this->param(tape, bias_);
    const T w0 = T(opt_.omega0);
    if (opt_.form == SirenForm::nif) return ad::sin(ad::add(ad::scale(ad::matmul(x, w), w0), b));
    return ad::sin(ad::scale(ad::affine(x, w, b), w0));
  }

  SirenOptions opt_;
  Index weight_ = -1, bias_ = -1;
};

/// Applies its children in order.
template <class T>
class Sequential : public UnaryModule<T> {
 public:
  Sequential& add(std::string name, std::shared_ptr<UnaryModule<T>> layer) {
    layers_.push_back(this->register_module(std::move(name), std::move(layer)));
    return *this;
  }
  std::string type_name() const override { return "Sequential"; }
  Var<T> forward(Var<T> x) override { return apply(x); }
  ad::Jet<T> forward(const ad::Jet<T>& x) override { return apply(x); }
  std::size_t size() const { return layers_.size(); }

 private:
  template <class V>
  V apply(V x) {
    for (auto& layer : layers_) x = (*layer)(x);
    return x;
  }

  std::vector<std::shared_ptr<UnaryModule<T>>> layers_;
};

}  // namespace nn
