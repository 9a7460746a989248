#include "nn/random.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace nn {
namespace {

constexpr std::string_view text_tag = "xoshiro256**";

/// splitmix64 (Steele, Lea & Flood): advances `x` by the golden-ratio increment and returns
/// the mixed value.
std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

bool all_zero(const Rng::State& s) {
  for (std::uint64_t w : s) {
    if (w != 0) return false;
  }
  return true;
}

}  // namespace

Rng::Rng(std::uint64_t seed) {
  // Consecutive splitmix64 outputs are distinct (the mix is a bijection), so at most one word
  // is zero and the forbidden all-zero state cannot arise.
  for (std::uint64_t& w : s_) w = splitmix64(seed);
}

std::uint64_t Rng::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

double Rng::normal() {
  for (;;) {
    const double u = 2.0 * uniform() - 1.0;  // exact: uniform() is a multiple of 2^-53
    const double v = 2.0 * uniform() - 1.0;
    // Separate statements so no compiler contracts u*u + v*v into an FMA: the accept test
    // must round identically everywhere or the number of draws consumed would differ.
    const double uu = u * u;
    const double vv = v * v;
    const double s = uu + vv;
    if (s > 0.0 && s < 1.0) return u * std::sqrt(-2.0 * std::log(s) / s);
  }
}

std::uint64_t Rng::below(std::uint64_t n) {
  if (n == 0) throw std::invalid_argument("nn::Rng::below: n must be positive");
  // (2^64 - n) mod n == 2^64 mod n: the raw draws in [0, threshold) are the incomplete
  // wrap-around of the modulo and would favour small results.
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t r = next_u64();
    if (r >= threshold) return r % n;
  }
}

void Rng::shuffle(std::span<ad::Index> items) {
  for (std::size_t i = items.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(below(i));
    std::swap(items[i - 1], items[j]);
  }
}

Rng Rng::split(std::uint64_t stream) const {
  std::uint64_t x = stream;
  std::uint64_t seed = splitmix64(x);
  for (std::uint64_t w : s_) {
    x ^= w;
    seed ^= splitmix64(x);
  }
  return Rng(seed);
}

void Rng::set_state(const State& state) {
  if (all_zero(state)) throw std::invalid_argument("nn::Rng::set_state: the all-zero state is invalid for xoshiro256**");
  s_ = state;
}

std::string Rng::to_string() const {
  return fmt::format("{} {:016x} {:016x} {:016x} {:016x}", text_tag, s_[0], s_[1], s_[2], s_[3]);
}

Rng Rng::from_string(std::string_view text) {
  const auto fail = [&]() {
    return std::invalid_argument(fmt::format("nn::Rng::from_string: expected \"{} <4 hex words>\", got \"{}\"", text_tag, text));
  };
  if (!text.starts_with(text_tag)) throw fail();
  std::string_view rest = text.substr(text_tag.size());
  State state{};
  for (std::uint64_t& w : state) {
    if (rest.size() < 17 || rest[0] != ' ') throw fail();
    const std::string_view digits = rest.substr(1, 16);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), w, 16);
    if (ec != std::errc() || end != digits.data() + digits.size()) throw fail();
    rest = rest.substr(17);
  }
  if (!rest.empty()) throw fail();
  if (all_zero(state)) throw fail();
  Rng rng;
  rng.s_ = state;
  return rng;
}

}  // namespace nn
