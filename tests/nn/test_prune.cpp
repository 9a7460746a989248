// Magnitude pruning (nn/prune.hpp): the polynomial schedule, the masks per layer and global, and
// pruned weights held at exactly zero through optimizer steps and checkpoints.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "nn/checkpoint.hpp"
#include "nn/files.hpp"
#include "nn/prune.hpp"
#include "nn/random.hpp"
#include "support/scratch_dir.hpp"

namespace {

/// Two weight matrices and a bias, random values.
ad::ParameterBuffer<float> random_buffer(std::uint64_t seed = 3) {
  ad::ParameterBuffer<float> p;
  p.add("a.w", 4, 5);
  p.add("a.b", 1, 5, /*is_matrix=*/false);
  p.add("b.w", 5, 6);
  nn::Rng rng(seed);
  for (ad::Index i = 0; i < p.size(); ++i) p.values()[i] = float(rng.uniform(-1, 1)) * (i < 20 ? 1.0f : 0.1f);
  return p;
}

ad::Index zeros_in(const ad::Vector<float>& v, const ad::ParameterBuffer<float>::Entry& e) {
  return (v.segment(e.offset, e.size()).array() == 0).count();
}

}  // namespace

TEST_CASE("the polynomial schedule rises cubically from 0 at begin to the target at end, as tfmot's PolynomialDecay") {
  CHECK(nn::polynomial_sparsity(0.8, 10, 20, 0) == 0);
  CHECK(nn::polynomial_sparsity(0.8, 10, 20, 10) == 0);
  CHECK(nn::polynomial_sparsity(0.8, 10, 20, 15) == doctest::Approx(0.8 * (1 - 0.125)));
  CHECK(nn::polynomial_sparsity(0.8, 10, 20, 12) == doctest::Approx(0.8 * (1 - std::pow(0.8, 3))));
  CHECK(nn::polynomial_sparsity(0.8, 10, 20, 20) == doctest::Approx(0.8));
  CHECK(nn::polynomial_sparsity(0.8, 10, 20, 500) == doctest::Approx(0.8));
  CHECK(nn::polynomial_sparsity(0.5, 7, 7, 6) == 0);  // one-shot at begin == end
  CHECK(nn::polynomial_sparsity(0.5, 7, 7, 7) == doctest::Approx(0.5));
}

TEST_CASE("layer scope prunes the smallest magnitudes of each weight matrix, biases never") {
  ad::ParameterBuffer<float> p = random_buffer();
  nn::PruneMask<float> mask;
  mask.update(p, 0.5, nn::PruneScope::layer);
  mask.apply(p, nullptr);
  CHECK(zeros_in(p.values(), p.entry(0)) == 10);
  CHECK(zeros_in(p.values(), p.entry(1)) == 0);
  CHECK(zeros_in(p.values(), p.entry(2)) == 15);
  CHECK(mask.sparsity(p) == doctest::Approx(25.0 / 50));
  // Every kept value of a matrix is at least as large as every value pruned from it.
  const ad::Vector<float> before = random_buffer().values();
  for (ad::Index k : {0, 2}) {
    const auto& e = p.entry(k);
    float largest_pruned = 0, smallest_kept = 1e9f;
    for (ad::Index i = e.offset; i < e.offset + e.size(); ++i)
      (mask.keep()[i] == 0 ? largest_pruned = std::max(largest_pruned, std::abs(before[i]))
                           : smallest_kept = std::min(smallest_kept, std::abs(before[i])));
    CHECK(largest_pruned <= smallest_kept);
  }
}

TEST_CASE("global scope takes one threshold over all weight matrices, so the matrix of small weights loses most") {
  ad::ParameterBuffer<float> p = random_buffer();  // b.w is ten times smaller than a.w
  nn::PruneMask<float> mask;
  mask.update(p, 0.5, nn::PruneScope::global);
  CHECK((mask.keep().array() == 0).count() == 25);
  CHECK((mask.keep().segment(p.entry(2).offset, 30).array() == 0).count() > 15);
}

TEST_CASE("a rising sparsity only adds to the mask") {
  ad::ParameterBuffer<float> p = random_buffer();
  nn::PruneMask<float> mask;
  mask.update(p, 0.3, nn::PruneScope::layer);
  mask.apply(p, nullptr);
  const ad::Vector<float> first = mask.keep();
  mask.update(p, 0.7, nn::PruneScope::layer);
  CHECK(((first.array() == 0) <= (mask.keep().array() == 0)).all());
}

TEST_CASE("pruned weights stay exactly zero through Adam steps: gradients and moments are masked after every step") {
  ad::ParameterBuffer<float> p = random_buffer();
  auto adam = nn::make_optimizer<float>("adam", p);
  nn::Rng rng(9);
  auto random_step = [&] {
    for (ad::Index i = 0; i < p.size(); ++i) p.grads()[i] = float(rng.uniform(-1, 1));
    adam->step();
  };
  for (int s = 0; s < 5; ++s) random_step();  // moments everywhere non-zero
  nn::PruneMask<float> mask;
  mask.update(p, 0.6, nn::PruneScope::layer);
  mask.apply(p, adam.get());
  for (int s = 0; s < 50; ++s) {
    random_step();
    mask.apply(p, adam.get());
    REQUIRE(((mask.keep().array() == 0) <= (p.values().array() == 0)).all());
  }
  for (const auto& [name, state] : adam->state()) CHECK(((mask.keep().array() == 0) <= (state.array() == 0)).all());
  CHECK((p.values().array() != 0).count() == p.size() - 30);  // the kept ones trained
}

TEST_CASE("a checkpoint keeps the masks, and a pruned weight that is not zero or a mask that is not 0/1 is refused") {
  testing::ScratchDir tmp;
  ad::ParameterBuffer<float> p = random_buffer();
  nn::PruneMask<float> mask;
  mask.update(p, 0.5, nn::PruneScope::layer);
  mask.apply(p, nullptr);
  nn::save_checkpoint(tmp / "c.npz", p, static_cast<nn::Optimizer<float>*>(nullptr), {}, &mask);

  ad::ParameterBuffer<float> q = random_buffer(4);
  nn::PruneMask<float> loaded;
  nn::load_checkpoint(tmp / "c.npz", q, static_cast<nn::Optimizer<float>*>(nullptr), &loaded);
  CHECK(loaded.keep() == mask.keep());
  CHECK(q.values() == p.values());

  // Without masks the checkpoint loads with an inactive mask.
  nn::save_checkpoint(tmp / "plain.npz", p, static_cast<nn::Optimizer<float>*>(nullptr), {});
  nn::load_checkpoint(tmp / "plain.npz", q, static_cast<nn::Optimizer<float>*>(nullptr), &loaded);
  CHECK_FALSE(loaded.active());

  // A pruned weight given a value: refused, nothing changed.
  ad::ParameterBuffer<float> bad = p;
  for (ad::Index i = 0; i < bad.size(); ++i)
    if (mask.keep()[i] == 0) bad.values()[i] = 0.25f;
  nn::save_checkpoint(tmp / "bad.npz", bad, static_cast<nn::Optimizer<float>*>(nullptr), {}, &mask);
  ad::ParameterBuffer<float> r = random_buffer(5);
  const ad::Vector<float> untouched = r.values();
  nn::PruneMask<float> none;
  CHECK_THROWS_AS(nn::load_checkpoint(tmp / "bad.npz", r, static_cast<nn::Optimizer<float>*>(nullptr), &none), nn::FileError);
  CHECK(r.values() == untouched);
  CHECK_FALSE(none.active());
  CHECK_THROWS_AS(mask.assign(p, ad::Vector<float>::Constant(p.size(), 0.5f)), std::invalid_argument);
}

TEST_CASE("an unknown prune scope and a sparsity below 0 or at or above 1 are refused") {
  CHECK_THROWS_AS(nn::parse_prune_scope("row"), std::invalid_argument);
  ad::ParameterBuffer<float> p = random_buffer();
  nn::PruneMask<float> mask;
  CHECK_THROWS_AS(mask.update(p, 1.0, nn::PruneScope::layer), std::invalid_argument);
  CHECK_THROWS_AS(mask.update(p, -0.1, nn::PruneScope::layer), std::invalid_argument);
}
