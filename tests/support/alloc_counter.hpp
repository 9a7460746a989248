#pragma once
// Counts heap allocations made by this process (malloc family and operator new, which uses
// malloc), so tests can prove that a steady-state training step allocates nothing.
// Unavailable under AddressSanitizer, which owns malloc itself.

#include <cstddef>

namespace testing {

// GCC announces AddressSanitizer with __SANITIZE_ADDRESS__, clang through __has_feature.
#if defined(__SANITIZE_ADDRESS__)
#define NIF_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NIF_TEST_ASAN 1
#endif
#endif

/// Whether AddressSanitizer runs this process. It reserves terabytes of address space, so tests
/// that cap the address space (RLIMIT_AS) cannot run under it.
#if defined(NIF_TEST_ASAN)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
inline constexpr bool kAllocationCounting = !kAddressSanitizer;

/// Number of allocations since the process started.
std::size_t allocation_count();

}  // namespace testing
