#pragma once
// Emulated compute precision: the policy a tape applies to what it computes.
//
// Storage (and master weights) stay in the tape's scalar type T; under fp16 or bf16 a tape rounds
// every op's result to that format when the op is recorded, and every adjoint before its node's
// backward runs, so values and gradients are what hardware computing in that format would give
// (Keras' mixed_float16 policy, emulated). Inputs enter the compute format explicitly, through the
// op ad::to_compute_precision (Keras casts a layer's inputs). Each node keeps the precision in force
// when it was created, so a loss can be computed in fp32 on top of an fp16 model.

#include <Eigen/Core>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace ad {

enum class Precision { fp32, fp16, bf16 };

/// Rounds `n` values in place to precision `p`: round to nearest even, fp16 overflow gives ±inf,
/// fp16 subnormals keep their fixed 2⁻²⁴ spacing, NaN stays NaN. Written as branch-free integer
/// operations on the float bits so the loop vectorises (this runs after every op under fp16).
template <class T>
void round_to_precision(T* data, Eigen::Index n, Precision p) {
  if (p == Precision::fp32) return;
  for (Eigen::Index i = 0; i < n; ++i) {
    const float x = float(data[i]);
    const auto u = std::bit_cast<std::uint32_t>(x);
    float r;
    if (p == Precision::bf16) {
      const std::uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
      r = x != x ? x : std::bit_cast<float>(rounded);
    } else {
      const float a = std::abs(x);
      const std::uint32_t rounded = (u + 0x0FFFu + ((u >> 13) & 1u)) & ~0x1FFFu;
      const float normal = std::bit_cast<float>(rounded);
      // The float grid near 0.75 is fp16's subnormal spacing 2⁻²⁴; the sign survives rounding to 0.
      const float subnormal = std::copysign((a + 0.75f) - 0.75f, x);
      r = a < 6.103515625e-05f ? subnormal : normal;
      r = a >= 65520.0f ? std::copysign(std::numeric_limits<float>::infinity(), x) : r;
      r = x != x ? x : r;
    }
    data[i] = T(r);
  }
}

}  // namespace ad
