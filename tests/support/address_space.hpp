#pragma once
// Capping this process's address space, for tests (in a forked child) of what happens when memory
// or thread stacks cannot be mapped.

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

namespace testing {

/// Limits the address space (RLIMIT_AS) to what the process maps now plus `headroom` bytes.
inline void cap_address_space(rlim_t headroom) {
  rlimit limit{};
  ::getrlimit(RLIMIT_AS, &limit);
  long pages = 0;
  if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
    std::fclose(statm);
  }
  limit.rlim_cur = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + headroom;
  ::setrlimit(RLIMIT_AS, &limit);
}

}  // namespace testing
