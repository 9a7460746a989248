#pragma once
// Counts heap allocations made by this process (malloc family and operator new, which uses
// malloc), so tests can prove that a steady-state training step allocates nothing.
// Unavailable under AddressSanitizer, which owns malloc itself.

#include <cstddef>

namespace testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAllocationCounting = false;
#else
inline constexpr bool kAllocationCounting = true;
#endif

/// Number of allocations since the process started.
std::size_t allocation_count();

}  // namespace testing
