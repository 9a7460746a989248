#pragma once
// One seeded random number generator for the whole project, fully specified so that a seed
// gives the same stream on every platform and compiler (the std:: distributions are not: their
// algorithms are implementation-defined).

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "autodiff/tape.hpp"

namespace nn {

/// xoshiro256** (Blackman & Vigna, 2018) with a 256-bit state, seeded by splitmix64.
///
/// Reproducibility: next_u64, uniform, below and shuffle are bit-identical everywhere (integer
/// arithmetic and exact floating-point scaling only). normal() consumes a platform-independent
/// number of raw draws (its accept/reject test uses exactly rounded IEEE operations); its value
/// goes through std::log, so it may differ in the last bit between math libraries.
/// The state is the four xoshiro words and nothing else (normal() caches no second value), so
/// state()/set_state() and to_string()/from_string() capture the generator completely.
class Rng {
 public:
  static constexpr std::size_t state_words = 4;
  using State = std::array<std::uint64_t, state_words>;

  /// Seeds the four state words with four consecutive outputs of splitmix64 started at `seed`.
  explicit Rng(std::uint64_t seed = 0);

  /// The next raw 64-bit output of xoshiro256**.
  std::uint64_t next_u64();

  /// Uniform in [0, 1) on the grid k·2⁻⁵³ (the top 53 bits of one draw).
  double uniform();

  /// Uniform in [lo, hi): lo + (hi − lo)·uniform(). Rounding may yield hi itself when the
  /// result is cast to a narrower type.
  double uniform(double lo, double hi);

  /// Standard normal N(0, 1) by the Marsaglia polar method: draw u, v ~ U(−1, 1) until
  /// 0 < s = u² + v² < 1, return u·√(−2·ln s / s). The second value of the pair is discarded.
  double normal();

  /// Unbiased integer in [0, n) by rejection: raw draws below 2⁶⁴ mod n are redrawn, the rest
  /// reduced mod n. Throws std::invalid_argument for n = 0.
  std::uint64_t below(std::uint64_t n);

  /// Uniformly random permutation in place (Fisher–Yates: for i = n−1 … 1 swap i with below(i+1)).
  void shuffle(std::span<ad::Index> items);

  /// A new generator for stream `stream`, a deterministic function of this generator's current
  /// state and `stream` (mixed through splitmix64). Does not advance this generator, so
  /// split(k) names one fixed stream per k (e.g. one per layer).
  Rng split(std::uint64_t stream) const;

  State state() const { return s_; }
  /// Restores a state from state(). Throws std::invalid_argument for the all-zero state
  /// (a fixed point of xoshiro).
  void set_state(const State& state);

  /// The state as text, "xoshiro256** " followed by the four words in 16-digit hex.
  std::string to_string() const;
  /// Parses to_string() output. Throws std::invalid_argument for any other text.
  static Rng from_string(std::string_view text);

  friend bool operator==(const Rng&, const Rng&) = default;

 private:
  State s_{};
};

}  // namespace nn
