// Every op's reverse-mode gradient against finite differences, on ordinary and edge shapes.

#include <doctest/doctest.h>

#include <utility>

#include "support/gradcheck.hpp"

using namespace ad;
using testing::random_matrix;
using V = Var<double>;
using Ins = std::span<const V>;

namespace {
const std::pair<Index, Index> kShapes[] = {{3, 4}, {1, 1}, {1, 5}, {5, 1}};
// Operand shapes that broadcast against a 3 x 4 matrix.
const std::pair<Index, Index> kBroadcast[] = {{3, 4}, {1, 4}, {3, 1}, {1, 1}};

Matrix<double> away_from_zero(Index r, Index c, unsigned seed) {
  // Keeps kinks (relu at 0) and poles (division by ~0) out of the finite-difference stencil.
  Matrix<double> m = random_matrix(r, c, seed, 0.3, 1.5);
  Matrix<double> sign = random_matrix(r, c, seed + 100);
  return (sign.array() < 0).select(-m, m);
}
}  // namespace

TEST_CASE("add, sub, mul and div broadcast either operand over rows, columns or scalars") {
  for (auto [r, c] : kBroadcast) {
    CAPTURE(r);
    CAPTURE(c);
    const auto A = random_matrix(3, 4, 1), B = random_matrix(r, c, 2), Bnz = away_from_zero(r, c, 3);
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return add(v[0], v[1]); }, {A, B});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return add(v[1], v[0]); }, {A, B});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return sub(v[0], v[1]); }, {A, B});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return sub(v[1], v[0]); }, {A, B});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return mul(v[0], v[1]); }, {A, B});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return mul(v[1], v[0]); }, {A, B});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return div(v[0], v[1]); }, {A, Bnz});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return div(v[1], v[0]); }, {away_from_zero(3, 4, 4), B});
  }
}

TEST_CASE("an input used twice accumulates both contributions") {
  const auto A = random_matrix(3, 4, 5);
  CHECK_GRADIENTS([](Tape<double>&, Ins v) { return mul(v[0], v[0]); }, {A});
  CHECK_GRADIENTS([](Tape<double>&, Ins v) { return add(v[0], tanh(v[0])); }, {A});
  CHECK_GRADIENTS([](Tape<double>&, Ins v) { return matmul_nt(v[0], v[0]); }, {A});
}

TEST_CASE("constant inputs receive no gradient and do not disturb the others") {
  const auto A = random_matrix(3, 4, 6), B = random_matrix(1, 4, 7);
  CHECK_GRADIENTS([](Tape<double>&, Ins v) { return mul(v[0], v[1]); }, {A, B}, {.differentiable = {true, false}});
  CHECK_GRADIENTS([](Tape<double>&, Ins v) { return mul(v[0], v[1]); }, {A, B}, {.differentiable = {false, true}});
}

TEST_CASE("scale, add_constant, square, abs and to_compute_precision") {
  for (auto [r, c] : kShapes) {
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return square(to_compute_precision(v[0])); }, {random_matrix(r, c, 45)});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return scale(v[0], -2.5); }, {random_matrix(r, c, 8)});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return add_constant(v[0], 0.75); }, {random_matrix(r, c, 9)});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return square(v[0]); }, {random_matrix(r, c, 43)});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return abs(v[0]); }, {away_from_zero(r, c, 44)});
  }
}

TEST_CASE("matrix products in all transposition variants, including vector and scalar shapes") {
  const std::tuple<Index, Index, Index> dims[] = {{3, 4, 2}, {1, 1, 1}, {1, 4, 3}, {3, 4, 1}, {3, 1, 2}};
  for (auto [m, k, n] : dims) {
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return matmul(v[0], v[1]); }, {random_matrix(m, k, 10), random_matrix(k, n, 11)});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return matmul_nt(v[0], v[1]); }, {random_matrix(m, k, 12), random_matrix(n, k, 13)});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return matmul_tn(v[0], v[1]); }, {random_matrix(k, m, 14), random_matrix(k, n, 15)});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return affine(v[0], v[1], v[2]); },
                    {random_matrix(m, k, 16), random_matrix(k, n, 17), random_matrix(1, n, 18)});
  }
}

TEST_CASE("sums and means over everything, per row and per column") {
  for (auto [r, c] : kShapes) {
    const auto A = random_matrix(r, c, 19);
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return sum(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return mean(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return sum_rows(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return mean_rows(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return sum_cols(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return mean_cols(v[0]); }, {A});
  }
}

TEST_CASE("column slices and concatenation") {
  CHECK_GRADIENTS([](Tape<double>&, Ins v) { return slice_cols(v[0], 1, 2); }, {random_matrix(3, 4, 20)});
  CHECK_GRADIENTS([](Tape<double>&, Ins v) { return slice_cols(v[0], 0, 1); }, {random_matrix(1, 1, 21)});
  CHECK_GRADIENTS([](Tape<double>&, Ins v) { return concat_cols({v[0], v[1], v[0]}); },
                  {random_matrix(3, 2, 22), random_matrix(3, 1, 23)});
  CHECK_GRADIENTS([](Tape<double>&, Ins v) { return concat_cols({v[0], v[1]}); }, {random_matrix(1, 1, 24), random_matrix(1, 3, 25)});
}

TEST_CASE("activations and their derivatives, each differentiable") {
  for (auto [r, c] : kShapes) {
    const auto A = random_matrix(r, c, 26, -2, 2), Anz = away_from_zero(r, c, 27);
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return swish(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return sigmoid(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return tanh(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return sin(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return cos(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return relu(v[0]); }, {Anz});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return identity(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return swish_prime(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return sigmoid_prime(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return tanh_prime(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return sin_prime(v[0]); }, {A});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return mul(relu_prime(v[0]), v[0]); }, {Anz});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return mul(identity_prime(v[0]), v[0]); }, {A});
  }
}

TEST_CASE("each derivative op is the derivative of its activation") {
  Tape<double> tape;
  const auto A = random_matrix(4, 3, 28, -3, 3);
  for (Activation act : {Activation::swish, Activation::sigmoid, Activation::tanh, Activation::sin, Activation::identity}) {
    tape.clear();
    V x = tape.variable(A);
    V y = activate(x, act);
    tape.backward(sum(y));
    const Matrix<double> expected = activate_prime(tape.constant(A), act).value();
    CHECK((x.grad() - expected).cwiseAbs().maxCoeff() < 1e-12);
  }
}

TEST_CASE("mse and weighted mse") {
  for (auto [r, c] : kShapes) {
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return mse(v[0], v[1]); }, {random_matrix(r, c, 29), random_matrix(r, c, 30)});
    CHECK_GRADIENTS([](Tape<double>&, Ins v) { return weighted_mse(v[0], v[1], v[2]); },
                    {random_matrix(r, c, 31), random_matrix(r, c, 32), random_matrix(r, 1, 33, 0, 2)});
  }
}

TEST_CASE("weighted mse with unit weights equals mse") {
  Tape<double> tape;
  const auto P = random_matrix(5, 2, 34), Tm = random_matrix(5, 2, 35);
  const double plain = mse(tape.constant(P), tape.constant(Tm)).item();
  const double weighted = weighted_mse(tape.constant(P), tape.constant(Tm), tape.constant(Matrix<double>::Ones(5, 1))).item();
  CHECK(weighted == doctest::Approx(plain).epsilon(1e-14));
}

TEST_CASE("hyper_affine: per-sample weights and bias sliced from the parameter matrix") {
  // P holds, per row, a 3x2 weight block at offset 1 and a bias at offset 8 (plus unused columns).
  const HyperSlice with_bias{.in = 3, .out = 2, .weight_offset = 1, .bias_offset = 8};
  const HyperSlice scaled_no_bias{.in = 3, .out = 2, .weight_offset = 2, .bias_offset = -1, .weight_scale = 30};
  const HyperSlice aliased_bias{.in = 3, .out = 2, .weight_offset = 0, .bias_offset = 4};  // bias overlaps W
  for (HyperSlice s : {with_bias, scaled_no_bias, aliased_bias}) {
    CHECK_GRADIENTS([s](Tape<double>&, Ins v) { return hyper_affine(v[0], v[1], s); },
                    {random_matrix(4, 3, 36), random_matrix(4, 11, 37)});
  }
  const HyperSlice scalar{.in = 1, .out = 1, .weight_offset = 0, .bias_offset = 1};
  CHECK_GRADIENTS([scalar](Tape<double>&, Ins v) { return hyper_affine(v[0], v[1], scalar); },
                  {random_matrix(1, 1, 38), random_matrix(1, 2, 39)});
}

TEST_CASE("hyper_affine with row groups: runs of samples share one row of the parameter matrix") {
  static const Index offsets[] = {0, 2, 3, 6};
  const RowGroups groups{offsets, 3};
  const HyperSlice with_bias{.in = 3, .out = 2, .weight_offset = 1, .bias_offset = 8, .weight_scale = 2};
  CHECK_GRADIENTS([&](Tape<double>&, Ins v) { return hyper_affine(v[0], v[1], with_bias, groups); },
                  {random_matrix(6, 3, 42), random_matrix(3, 11, 43)});
  // Grouped evaluation equals the per-sample evaluation with each run's row repeated.
  Tape<double> tape;
  const auto X = random_matrix(6, 3, 44), P = random_matrix(3, 11, 45);
  Matrix<double> repeated(6, 11);
  for (Index g = 0; g < 3; ++g)
    for (Index b = offsets[g]; b < offsets[g + 1]; ++b) repeated.row(b) = P.row(g);
  const Matrix<double> grouped = hyper_affine(tape.constant(X), tape.constant(P), with_bias, groups).value();
  const Matrix<double> per_sample = hyper_affine(tape.constant(X), tape.constant(repeated), with_bias).value();
  CHECK((grouped - per_sample).cwiseAbs().maxCoeff() < 1e-14);
  CHECK_THROWS_AS(hyper_affine(tape.constant(X), tape.constant(random_matrix(2, 11, 46)), with_bias, groups),
                  std::invalid_argument);
}

TEST_CASE("expand_rows repeats each run's row for its samples") {
  static const Index offsets[] = {0, 2, 3, 6};
  const RowGroups groups{offsets, 3};
  CHECK_GRADIENTS([&](Tape<double>&, Ins v) { return expand_rows(v[0], groups); }, {random_matrix(3, 4, 47)});
  Tape<double> tape;
  const auto P = random_matrix(3, 4, 48);
  const Matrix<double> Y = expand_rows(tape.constant(P), groups).value();
  CHECK(Y.rows() == 6);
  CHECK(Y.row(4) == P.row(2));
  CHECK(expand_rows(tape.constant(P), RowGroups{}).value() == P);
}

TEST_CASE("hyper_affine matches einsum('ai,aij->aj') plus bias computed by hand") {
  Tape<double> tape;
  const auto X = random_matrix(2, 2, 40), P = random_matrix(2, 7, 41);
  const HyperSlice s{.in = 2, .out = 2, .weight_offset = 0, .bias_offset = 4, .weight_scale = 1.5};
  const Matrix<double> Y = hyper_affine(tape.constant(X), tape.constant(P), s).value();
  for (Index b = 0; b < 2; ++b)
    for (Index j = 0; j < 2; ++j) {
      double expected = P(b, 4 + j);
      for (Index i = 0; i < 2; ++i) expected += 1.5 * X(b, i) * P(b, i * 2 + j);
      CHECK(Y(b, j) == doctest::Approx(expected).epsilon(1e-14));
    }
}
