#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "nn/random.hpp"

namespace {

/// Pearson's chi-square statistic of observed counts against equal expected counts.
double chi_square_uniform(const std::vector<double>& counts) {
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  const double expected = total / static_cast<double>(counts.size());
  double chi2 = 0;
  for (double c : counts) chi2 += (c - expected) * (c - expected) / expected;
  return chi2;
}

}  // namespace

TEST_CASE("Rng reproduces the published splitmix64 seeding and xoshiro256** outputs") {
  // splitmix64 started at 0 yields these four words (the reference seeding of xoshiro).
  nn::Rng seeded(0);
  CHECK(seeded.state() == nn::Rng::State{0xe220a8397b1dcdafULL, 0x6e789e6aa1b965f4ULL, 0x06c45d188009454fULL,
                                          0xf88bb8a8724c81ecULL});
  // The reference implementation's first outputs from the state {1, 2, 3, 4}.
  nn::Rng rng;
  rng.set_state({1, 2, 3, 4});
  CHECK(rng.next_u64() == 11520ULL);
  CHECK(rng.next_u64() == 0ULL);
  CHECK(rng.next_u64() == 1509978240ULL);
  CHECK(rng.next_u64() == 1215971899390074240ULL);
  CHECK(rng.next_u64() == 1216172134540287360ULL);
}

TEST_CASE("Rng gives identical streams for equal seeds and different streams for different seeds") {
  nn::Rng a(42), b(42), c(43);
  int differing = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t x = a.next_u64();
    CHECK(x == b.next_u64());
    differing += x != c.next_u64();
  }
  CHECK(differing == 1000);
  CHECK(a.normal() == b.normal());
  CHECK(a.uniform() == b.uniform());
}

TEST_CASE("Rng state save and restore continues the identical stream") {
  nn::Rng rng(7);
  for (int i = 0; i < 10; ++i) rng.normal();
  const nn::Rng::State saved = rng.state();
  std::vector<double> first;
  for (int i = 0; i < 100; ++i) first.push_back(i % 2 == 0 ? rng.normal() : rng.uniform());
  nn::Rng restored(999);
  restored.set_state(saved);
  for (int i = 0; i < 100; ++i) CHECK(first[static_cast<std::size_t>(i)] == (i % 2 == 0 ? restored.normal() : restored.uniform()));
  CHECK_THROWS_AS(restored.set_state({0, 0, 0, 0}), std::invalid_argument);
}

TEST_CASE("Rng to_string and from_string round-trip and reject malformed text") {
  nn::Rng rng(123);
  rng.next_u64();
  const std::string text = rng.to_string();
  CHECK(text.starts_with("xoshiro256** "));
  nn::Rng back = nn::Rng::from_string(text);
  CHECK(back == rng);
  CHECK(back.next_u64() == rng.next_u64());

  CHECK_THROWS_AS(nn::Rng::from_string(""), std::invalid_argument);
  CHECK_THROWS_AS(nn::Rng::from_string("pcg64 0000000000000001 0000000000000002 0000000000000003 0000000000000004"),
                  std::invalid_argument);
  CHECK_THROWS_AS(nn::Rng::from_string("xoshiro256** 0000000000000001 0000000000000002 0000000000000003"),
                  std::invalid_argument);
  CHECK_THROWS_AS(nn::Rng::from_string("xoshiro256** 0000000000000001 0000000000000002 0000000000000003 000000000000000g"),
                  std::invalid_argument);
  CHECK_THROWS_AS(nn::Rng::from_string(text + " "), std::invalid_argument);
  CHECK_THROWS_AS(nn::Rng::from_string("xoshiro256** 0000000000000000 0000000000000000 0000000000000000 0000000000000000"),
                  std::invalid_argument);
}

TEST_CASE("Rng uniform draws lie in the half-open unit interval with the moments of U(0, 1)") {
  nn::Rng rng(1);
  const int n = 200000;
  double sum = 0, sum2 = 0, lo = 1, hi = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    sum += u;
    sum2 += u * u;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  const double mean = sum / n;
  const double var = sum2 / n - mean * mean;
  CHECK(lo >= 0.0);
  CHECK(hi < 1.0);
  // Five standard errors: sd(mean) = sqrt(1/12 / n), sd(var) = sqrt((mu4 - sigma^4) / n) = sqrt(1/180 / n).
  CHECK(std::abs(mean - 0.5) < 5 * std::sqrt(1.0 / 12 / n));
  CHECK(std::abs(var - 1.0 / 12) < 5 * std::sqrt(1.0 / 180 / n));

  for (int i = 0; i < 1000; ++i) {
    const double u = rng.uniform(-3.0, 5.0);
    CHECK(u >= -3.0);
    CHECK(u < 5.0);
  }
}

TEST_CASE("Rng normal draws have the moments and tail mass of N(0, 1)") {
  nn::Rng rng(2);
  const int n = 400000;
  double s1 = 0, s2 = 0, s3 = 0, s4 = 0, beyond2 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = rng.normal();
    s1 += z;
    s2 += z * z;
    s3 += z * z * z;
    s4 += z * z * z * z;
    beyond2 += std::abs(z) > 2;
  }
  const double mean = s1 / n, m2 = s2 / n, m3 = s3 / n, m4 = s4 / n;
  CHECK(std::abs(mean) < 5 / std::sqrt(n));
  CHECK(std::abs(m2 - 1) < 5 * std::sqrt(2.0 / n));
  CHECK(std::abs(m3) < 5 * std::sqrt(15.0 / n));
  CHECK(std::abs(m4 - 3) < 5 * std::sqrt(96.0 / n));
  const double p2 = std::erfc(2 / std::sqrt(2.0));  // P(|z| > 2) = 0.0455
  CHECK(std::abs(beyond2 / n - p2) < 5 * std::sqrt(p2 * (1 - p2) / n));
}

TEST_CASE("Rng below is unbiased, including for n near 2^64 where plain modulo is biased") {
  nn::Rng rng(3);
  CHECK_THROWS_AS(rng.below(0), std::invalid_argument);
  CHECK(rng.below(1) == 0);

  const int n = 7, draws = 70000;
  std::vector<double> counts(n, 0.0);
  for (int i = 0; i < draws; ++i) {
    const std::uint64_t k = rng.below(n);
    REQUIRE(k < static_cast<std::uint64_t>(n));
    counts[k] += 1;
  }
  // Chi-square with 6 degrees of freedom exceeds 35 with probability ~5e-6.
  CHECK(chi_square_uniform(counts) < 35);

  // n = 3·2^62: raw % n would put half the mass below 2^62 instead of a third.
  const std::uint64_t big = 3ULL << 62;
  const int m = 30000;
  double low = 0;
  for (int i = 0; i < m; ++i) low += rng.below(big) < (1ULL << 62);
  CHECK(std::abs(low / m - 1.0 / 3) < 5 * std::sqrt(2.0 / 9 / m));
}

TEST_CASE("Rng shuffle yields permutations with all orders equally likely") {
  nn::Rng rng(4);
  std::vector<ad::Index> items(100);
  std::iota(items.begin(), items.end(), 0);
  rng.shuffle(items);
  std::vector<ad::Index> sorted = items;
  std::sort(sorted.begin(), sorted.end());
  std::vector<ad::Index> identity(100);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(sorted == identity);
  CHECK(items != identity);

  std::map<std::array<ad::Index, 3>, double> seen;
  const int trials = 60000;
  for (int t = 0; t < trials; ++t) {
    std::array<ad::Index, 3> p{0, 1, 2};
    rng.shuffle(p);
    seen[p] += 1;
  }
  REQUIRE(seen.size() == 6);
  std::vector<double> counts;
  for (const auto& [perm, c] : seen) counts.push_back(c);
  // Chi-square with 5 degrees of freedom exceeds 32 with probability ~6e-6.
  CHECK(chi_square_uniform(counts) < 32);
}

TEST_CASE("Rng split derives fixed, distinct streams without advancing the parent") {
  nn::Rng parent(5);
  const nn::Rng before = parent;
  nn::Rng s0 = parent.split(0), s0_again = parent.split(0), s1 = parent.split(1);
  CHECK(parent == before);
  CHECK(s0 == s0_again);
  CHECK(s0 != s1);
  CHECK(s0 != parent);
  const std::uint64_t x0 = s0.next_u64(), x1 = s1.next_u64(), xp = parent.next_u64();
  CHECK(x0 != x1);
  CHECK(x0 != xp);
  // Another parent state gives other streams for the same stream number.
  CHECK(nn::Rng(6).split(0) != nn::Rng(5).split(0));
}
