// The tape's bookkeeping: leaves, no-grad mode, memory reuse, precision emulation, errors.

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <vector>

#include "autodiff/subnormals.hpp"
#include "support/alloc_counter.hpp"
#include "support/gradcheck.hpp"

using namespace ad;
using testing::random_matrix;

namespace {

/// One training step of a tiny NIF-like model on flat parameters: dense ParameterNet layer
/// producing per-sample ShapeNet weights, two hyper layers, MSE, backward, SGD update.
struct TinyHyperModel {
  ParameterBuffer<float> params;
  Index w0, b0;
  Matrix<float> t = random_matrix(64, 1, 1).cast<float>();
  Matrix<float> x = random_matrix(64, 1, 2).cast<float>();
  Matrix<float> u = random_matrix(64, 1, 3).cast<float>();
  static constexpr Index kWidth = 8;
  // ShapeNet 1 -> 8 -> 1: weights 8 + 8, biases 8 + 1.
  HyperSlice first{.in = 1, .out = kWidth, .weight_offset = 0, .bias_offset = 2 * kWidth};
  HyperSlice last{.in = kWidth, .out = 1, .weight_offset = kWidth, .bias_offset = 3 * kWidth};
  TinyHyperModel() {
    w0 = params.add("pnet.weight", 1, 3 * kWidth + 1);
    b0 = params.add("pnet.bias", 1, 3 * kWidth + 1, false);
    params.values() = random_matrix(params.size(), 1, 4).cast<float>() * 0.3f;
  }
  float step(Tape<float>& tape) {
    tape.clear();
    params.zero_grad();
    auto P = affine(tape.constant(t), params.on(tape, w0), params.on(tape, b0));
    auto h = swish(hyper_affine(tape.constant(x), P, first));
    auto loss = mse(hyper_affine(h, P, last), tape.constant(u));
    tape.backward(loss);
    params.values() -= 0.01f * params.grads();
    return loss.item();
  }
};

}  // namespace

TEST_CASE("a steady-state training step performs no heap allocation") {
  Tape<float> tape;
  TinyHyperModel model;
  model.step(tape);  // warm-up: the arena and the node list grow to their working size
  const TapeStats warm = tape.stats();
  const std::size_t before = testing::allocation_count();
  float first_loss = model.step(tape), loss = first_loss;
  for (int i = 0; i < 20; ++i) loss = model.step(tape);
  const std::size_t allocations = testing::allocation_count() - before;
  if (testing::kAllocationCounting) CHECK(allocations == 0);
  // The arena statistics stay flat whether or not allocations can be counted.
  CHECK(tape.stats().arena_bytes_reserved == warm.arena_bytes_reserved);
  CHECK(tape.stats().arena_blocks == warm.arena_blocks);
  CHECK(tape.stats().node_capacity == warm.node_capacity);
  CHECK(loss < first_loss);
}

TEST_CASE("a grouped hyper layer with one input gives the sums of the plain Eigen expression and allocates nothing after warm-up") {
  // Runs of 1 row (an axpy loop of its own), 2 rows (below Eigen's threshold for coefficient-wise
  // products), 4 and 33 rows (past it, where Eigen would evaluate s·Xᵀ into a heap temporary).
  constexpr Index rows = 40, out = 16, runs = 4;
  const std::vector<Index> offsets{0, 1, 3, 7, rows};
  const RowGroups groups{offsets.data(), runs};
  const HyperSlice slice{.in = 1, .out = out, .weight_offset = 0, .bias_offset = out, .weight_scale = 30};
  const Matrix<float> X = random_matrix(rows, 1, 50).cast<float>(), C = random_matrix(rows, out, 51).cast<float>();
  const Matrix<float> P = random_matrix(runs, 2 * out, 52).cast<float>();
  Tape<float> tape;
  Var<float> p;
  auto step = [&] {
    tape.clear();
    p = tape.variable(P);
    tape.backward(sum(mul(hyper_affine(tape.constant(X), p, slice, groups), tape.constant(C))));
  };
  step();
  const std::size_t before = testing::allocation_count();
  step();
  if (testing::kAllocationCounting) CHECK(testing::allocation_count() == before);
  for (Index g = 1; g < runs; ++g) {
    const Index first = offsets[std::size_t(g)], n = offsets[std::size_t(g) + 1] - first;
    Matrix<float> expected = Matrix<float>::Zero(1, out);
    const MatrixMap<float> Xm(const_cast<float*>(X.data()), rows, 1), Cm(const_cast<float*>(C.data()), rows, out);
    Eigen::Map<Matrix<float>>(expected.data(), 1, out).noalias() += 30.0f * (Xm.middleRows(first, n).transpose() * Cm.middleRows(first, n));
    CAPTURE(g);
    // Not bit for bit: the op and this test are compiled apart, and FMA contraction may differ.
    for (Index j = 0; j < out; ++j) CHECK(p.grad()(g, j) == doctest::Approx(expected(0, j)).epsilon(1e-5));
  }
}

TEST_CASE("parameter leaves alias the flat buffers: backward writes gradients in place") {
  ParameterBuffer<double> params;
  const Index w = params.add("w", 2, 3), b = params.add("b", 1, 3, false);
  params.values().setLinSpaced(-1, 1);
  Tape<double> tape;
  auto x = tape.constant(random_matrix(4, 2, 5));
  auto y = affine(x, params.on(tape, w), params.on(tape, b));
  tape.backward(sum(y));
  // d sum(XW + b)/dW = Xᵀ·1, d/db = column count of rows.
  const Matrix<double> X = x.value();
  CHECK((params.grad(w) - X.transpose() * Matrix<double>::Ones(4, 3)).norm() < 1e-12);
  CHECK((params.grad(b).array() == 4.0).all());
  CHECK(params.grads().size() == 9);
}

TEST_CASE("frozen parameters enter the tape without a gradient") {
  ParameterBuffer<double> params;
  const Index w = params.add("w", 1, 1);
  params.set_trainable(w, false);
  Tape<double> tape;
  auto v = params.on(tape, w);
  CHECK_FALSE(v.requires_grad());
}

TEST_CASE("no-grad mode records no closures and allocates no adjoints") {
  Tape<double> tape;
  auto x = tape.variable(random_matrix(3, 3, 6));
  {
    NoGradGuard<double> guard(tape);
    auto y = tanh(matmul(x, x));
    CHECK_FALSE(y.requires_grad());
    CHECK_FALSE(tape.variable(random_matrix(1, 1, 7)).requires_grad());
  }
  CHECK(tape.grad_enabled());
  CHECK(tanh(x).requires_grad());
}

TEST_CASE("values computed without gradients equal those computed with them") {
  Tape<double> a, b;
  const auto X = random_matrix(5, 3, 8), W = random_matrix(3, 2, 9);
  const Matrix<double> with = swish(matmul(a.variable(X), a.variable(W))).value();
  NoGradGuard<double> guard(b);
  const Matrix<double> without = swish(matmul(b.variable(X), b.variable(W))).value();
  CHECK(with == without);
}

TEST_CASE("shape mismatches are reported with both shapes") {
  Tape<double> tape;
  auto a = tape.constant(random_matrix(2, 3, 10)), b = tape.constant(random_matrix(4, 5, 11));
  CHECK_THROWS_WITH_AS(add(a, b), "ad::add: incompatible shapes 2x3 and 4x5", std::invalid_argument);
  CHECK_THROWS_WITH_AS(matmul(a, b), "ad::matmul: incompatible shapes 2x3 and 4x5", std::invalid_argument);
  CHECK_THROWS_AS(slice_cols(a, 2, 2), std::invalid_argument);
  CHECK_THROWS_AS(hyper_affine(a, b, HyperSlice{.in = 3, .out = 1}), std::invalid_argument);
  CHECK_THROWS_AS(tape.backward(a), std::invalid_argument);
}

TEST_CASE("emulated half precision rounds every op's value") {
  Tape<float> tape;
  tape.set_precision(Precision::fp16);
  auto x = tape.constant(Matrix<float>::Constant(1, 1, 1.0f));
  auto y = add_constant(x, 1e-4f);  // 1 + 1e-4 is not representable in fp16 (spacing 2^-10)
  CHECK(y.item() == 1.0f);
  tape.set_precision(Precision::bf16);
  auto z = add_constant(x, 1.0f / 256);  // bf16 spacing at 1 is 2^-7
  CHECK(z.item() == 1.0f);
  tape.set_precision(Precision::fp32);
  CHECK(add_constant(x, 1e-4f).item() == 1.0f + 1e-4f);
}

TEST_CASE("data enters an emulated precision only through to_compute_precision, whose gradient passes straight through") {
  Tape<float> tape;
  tape.set_precision(Precision::fp16);
  auto x = tape.variable(Matrix<float>::Constant(1, 2, 1.0f + 1e-4f));
  CHECK(x.value()(0, 0) == 1.0f + 1e-4f);  // a leaf keeps what it was given
  auto y = to_compute_precision(x);
  CHECK(y.value()(0, 0) == 1.0f);
  tape.backward(sum(scale(y, 3.0f)));
  CHECK(x.grad()(0, 1) == 3.0f);
  tape.set_precision(Precision::fp32);
  CHECK(to_compute_precision(x).id() == x.id());  // in fp32 the op is no node at all
}

TEST_CASE("an op whose operands live on different tapes is refused, naming the op") {
  Tape<double> one, other;
  auto a = one.variable(random_matrix(2, 2, 30)), b = other.variable(random_matrix(2, 2, 31));
  CHECK_THROWS_WITH_AS(add(a, b), "ad::add: operands live on different tapes", std::invalid_argument);
  CHECK_THROWS_WITH_AS(mul(a, b), "ad::mul: operands live on different tapes", std::invalid_argument);
  CHECK_THROWS_WITH_AS(matmul(a, b), "ad::matmul: operands live on different tapes", std::invalid_argument);
  CHECK_THROWS_WITH_AS(affine(a, a, b), "ad::affine: operands live on different tapes", std::invalid_argument);
  CHECK_THROWS_WITH_AS(concat_cols({a, a, b}), "ad::concat_cols: operands live on different tapes", std::invalid_argument);
  CHECK_THROWS_WITH_AS(mse(a, b), "ad::mse: operands live on different tapes", std::invalid_argument);
  CHECK_THROWS_WITH_AS(hyper_affine(a, b, HyperSlice{.in = 2, .out = 1}), "ad::hyper_affine: operands live on different tapes",
                       std::invalid_argument);
  CHECK(one.stats().nodes == 1);  // nothing was recorded by the refused ops
}

TEST_CASE("fp16 and bf16 rounding agree with Eigen's conversions on edge values") {
  std::vector<float> values = {0.0f, -0.0f, 1.0f, 1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048, 65504.0f, 65519.0f, 65520.0f,
                               -70000.0f, 6.0e-5f, 6.2e-5f, 1e-8f, -3e-8f, 2.9802322e-08f, 1e30f,
                               std::numeric_limits<float>::infinity(), 3.14159265f, -2.7182818f, 1e-40f};
  for (int i = 0; i < 2000; ++i) values.push_back(std::ldexp(float(i % 97) / 97.0f + 1.0f, i % 60 - 30) * (i % 2 ? 1 : -1));
  for (Precision p : {Precision::fp16, Precision::bf16}) {
    std::vector<float> rounded = values;
    round_to_precision(rounded.data(), Index(rounded.size()), p);
    for (std::size_t i = 0; i < values.size(); ++i) {
      const float expected = p == Precision::fp16 ? float(Eigen::half(values[i])) : float(Eigen::bfloat16(values[i]));
      CAPTURE(values[i]);
      CHECK(std::bit_cast<std::uint32_t>(rounded[i]) == std::bit_cast<std::uint32_t>(expected));
    }
  }
  float nan = std::numeric_limits<float>::quiet_NaN();
  round_to_precision(&nan, 1, Precision::fp16);
  CHECK(std::isnan(nan));
}

TEST_CASE("end to end: a two-layer MLP is gradient-checked as a whole") {
  CHECK_GRADIENTS(
      [](Tape<double>&, std::span<const Var<double>> v) {
        auto h = tanh(affine(v[0], v[1], v[2]));
        return mse(affine(h, v[3], v[4]), v[5]);
      },
      {random_matrix(6, 2, 12), random_matrix(2, 5, 13), random_matrix(1, 5, 14), random_matrix(5, 1, 15),
       random_matrix(1, 1, 16), random_matrix(6, 1, 17)},
      {.differentiable = {true, true, true, true, true, false}});
}

TEST_CASE("end to end: a small hypernetwork (dense layer producing P, two hyper ops) is gradient-checked") {
  // P = t·Wp + bp gives per sample a 2x3 first layer (+bias) and a 3x1 last layer (+bias).
  const HyperSlice l1{.in = 2, .out = 3, .weight_offset = 0, .bias_offset = 9};
  const HyperSlice l2{.in = 3, .out = 1, .weight_offset = 6, .bias_offset = 12};
  CHECK_GRADIENTS(
      [l1, l2](Tape<double>&, std::span<const Var<double>> v) {
        auto P = affine(v[0], v[1], v[2]);
        auto h = swish(hyper_affine(v[3], P, l1));
        return mse(hyper_affine(h, P, l2), v[4]);
      },
      {random_matrix(5, 1, 18), random_matrix(1, 13, 19), random_matrix(1, 13, 20), random_matrix(5, 2, 21),
       random_matrix(5, 1, 22)},
      {.differentiable = {true, true, true, true, false}});
}

TEST_CASE("FlushSubnormals flushes subnormal results on this thread and restores the mode after") {
  volatile float tiny = 1e-30f, factor = 1e-10f;  // volatile: computed at run time, not folded
  const float before = tiny * factor;
  CHECK(std::fpclassify(before) == FP_SUBNORMAL);
  {
    const ad::FlushSubnormals flush;
    CHECK(tiny * factor == 0.0f);
    const ad::FlushSubnormals keep(false);  // nested guards only ever add the mode
    CHECK(tiny * factor == 0.0f);
  }
  CHECK(tiny * factor == before);
}
