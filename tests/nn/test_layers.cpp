// Layers: gradient checks, parameter naming and layout, initialisation, summaries.

#include <doctest/doctest.h>

#include "nn/layers.hpp"
#include "nn/summary.hpp"
#include "support/gradcheck.hpp"

using namespace nn;
using ad::Matrix;
using ad::ParameterBuffer;
using ad::Tape;
using testing::random_matrix;

namespace {

/// Binds `layer` to a fresh buffer with random parameters and gradient-checks it on `x`
/// with respect to both its parameters and its input.
template <class L>
void check_layer(L& layer, const Matrix<double>& x) {
  ParameterBuffer<double> params;
  Rng rng(3);
  layer.bind(params, rng);
  params.values() = random_matrix(params.size(), 1, 5);  // nonzero biases too
  CHECK_GRADIENT_RESULT(testing::gradcheck_parameters([&](Tape<double>& t) { return layer(t.constant(x)); }, params));
  CHECK_GRADIENTS([&](Tape<double>&, std::span<const Var<double>> v) { return layer(v[0]); }, {x});
}

}  // namespace

TEST_CASE("Dense, Shortcut, ResNet block and both SIREN forms are gradient-checked") {
  const Matrix<double> x = random_matrix(4, 3, 1);
  for (Activation act : {Activation::identity, Activation::swish, Activation::tanh, Activation::sigmoid, Activation::sin}) {
    Dense<double> dense({.in = 3, .out = 2, .activation = act});
    check_layer(dense, x);
  }
  Dense<double> no_bias({.in = 3, .out = 2, .bias = false});
  check_layer(no_bias, x);
  Shortcut<double> shortcut({.width = 3});
  check_layer(shortcut, x);
  ResNetBlock<double> resnet({.width = 3, .activation = Activation::tanh});
  check_layer(resnet, x);
  Siren<double> siren_nif({.in = 3, .out = 2, .omega0 = 2, .form = SirenForm::nif});
  check_layer(siren_nif, x);
  Siren<double> siren_sitzmann({.in = 3, .out = 2, .omega0 = 2, .form = SirenForm::sitzmann, .first_layer = true});
  check_layer(siren_sitzmann, x);
  Sequential<double> seq;
  seq.add("first", std::make_shared<Dense<double>>(DenseOptions{.in = 3, .out = 4, .activation = Activation::swish}))
      .add("block", std::make_shared<Shortcut<double>>(ShortcutOptions{.width = 4}))
      .add("out", std::make_shared<Dense<double>>(DenseOptions{.in = 4, .out = 1}));
  check_layer(seq, x);
}

TEST_CASE("the two SIREN forms differ exactly in where omega0 multiplies the bias") {
  Siren<double> nif_form({.in = 1, .out = 1, .omega0 = 30, .form = SirenForm::nif});
  Siren<double> sitzmann({.in = 1, .out = 1, .omega0 = 30, .form = SirenForm::sitzmann});
  ParameterBuffer<double> a, b;
  Rng r1(1), r2(1);
  nif_form.bind(a, r1);
  sitzmann.bind(b, r2);
  a.values() << 0.02, 0.1;  // W, b
  b.values() << 0.02, 0.1;
  Tape<double> tape;
  auto x = tape.constant(Matrix<double>::Constant(1, 1, 0.5));
  CHECK(nif_form(x).item() == doctest::Approx(std::sin(30 * 0.5 * 0.02 + 0.1)));
  CHECK(sitzmann(x).item() == doctest::Approx(std::sin(30 * (0.5 * 0.02 + 0.1))));
}

TEST_CASE("parameters get stable dotted names in one flat buffer, depth first") {
  Sequential<float> seq;
  seq.add("hidden0", std::make_shared<Shortcut<float>>(ShortcutOptions{.width = 2}))
      .add("out", std::make_shared<Dense<float>>(DenseOptions{.in = 2, .out = 1}));
  ParameterBuffer<float> params;
  Rng rng(0);
  seq.bind(params, rng);
  std::vector<std::string> names;
  for (const auto& e : params.entries()) names.push_back(e.name);
  CHECK(names == std::vector<std::string>{"hidden0.dense.weight", "hidden0.dense.bias", "out.weight", "out.bias"});
  CHECK(params.size() == 4 + 2 + 2 + 1);
  CHECK(seq.parameter_count() == 9);
  CHECK(params.entry(1).is_matrix == false);
  const auto named = seq.named_parameters();
  CHECK(named[2].first == "out.weight");
  CHECK(named[2].second == 2);
}

TEST_CASE("the same seed gives the same weights and another seed gives others") {
  auto init = [](std::uint64_t seed) {
    Dense<float> d({.in = 5, .out = 7, .weight_init = Initializer::keras_truncated_normal(0.1),
                    .bias_init = Initializer::keras_truncated_normal(0.1)});
    ParameterBuffer<float> p;
    Rng rng(seed);
    d.bind(p, rng);
    return ad::Vector<float>(p.values());
  };
  CHECK(init(42) == init(42));
  CHECK(init(42) != init(43));
  CHECK(init(42).cwiseAbs().maxCoeff() <= 0.2f);
}

TEST_CASE("train and eval mode propagate through the tree") {
  Sequential<float> seq;
  auto d = std::make_shared<Dense<float>>(DenseOptions{.in = 1, .out = 1});
  seq.add("d", d);
  seq.eval();
  CHECK_FALSE(d->is_training());
  seq.train();
  CHECK(d->is_training());
}

TEST_CASE("a layer used before bind() is a clear error") {
  Dense<float> d({.in = 1, .out = 1});
  Tape<float> tape;
  CHECK_THROWS_WITH_AS(d(tape.constant(Matrix<float>::Zero(1, 1))), "nn::Module: Dense used before bind()", std::logic_error);
}

TEST_CASE("the summary lists each layer's output shape and parameter count, and the total") {
  Sequential<float> pnet;
  pnet.add("first", std::make_shared<Dense<float>>(DenseOptions{.in = 1, .out = 30, .activation = Activation::swish}))
      .add("hidden0", std::make_shared<Shortcut<float>>(ShortcutOptions{.width = 30}))
      .add("hidden1", std::make_shared<Shortcut<float>>(ShortcutOptions{.width = 30}))
      .add("bottleneck", std::make_shared<Dense<float>>(DenseOptions{.in = 30, .out = 1}))
      .add("last", std::make_shared<Dense<float>>(DenseOptions{.in = 1, .out = 1951}));
  ParameterBuffer<float> params;
  Rng rng(0);
  pnet.bind(params, rng);
  const std::string s = summary(pnet, "ParameterNet", [&](Tape<float>& tape) { pnet(tape.constant(Matrix<float>::Zero(1, 1))); });
  CHECK(s.find("first") != std::string::npos);
  CHECK(s.find("(batch, 1951)") != std::string::npos);
  CHECK(s.find("3,902") != std::string::npos);
  CHECK(s.find("hidden0.dense") != std::string::npos);
  CHECK(s.find("Total params: 5,853") != std::string::npos);
}
