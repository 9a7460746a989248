#include <doctest/doctest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <stdexcept>
#include <vector>

#include "nn/parallel.hpp"
#include "support/address_space.hpp"
#include "support/alloc_counter.hpp"

TEST_CASE("a worker team runs every worker index exactly once per job, job after job") {
  for (int threads : {1, 2, 3}) {
    nn::WorkerTeam team(threads);
    CHECK(team.size() == threads);
    std::vector<int> calls(static_cast<std::size_t>(threads), 0);
    for (int job = 0; job < 2000; ++job) {
      auto work = [&](int w) { ++calls[static_cast<std::size_t>(w)]; };
      team.run(work);
    }
    for (int c : calls) CHECK(c == 2000);
  }
}

TEST_CASE("a worker team's run returns only after every worker has finished") {
  nn::WorkerTeam team(2);
  std::atomic<long> sum{0};
  for (int job = 0; job < 200; ++job) {
    auto work = [&](int w) {
      for (int i = 0; i < 1000 * (w + 1); ++i) sum.fetch_add(1, std::memory_order_relaxed);
    };
    team.run(work);
    REQUIRE(sum.load() == 3000L * (job + 1));
  }
}

TEST_CASE("an exception thrown by a helper thread is rethrown by run, and the team keeps working") {
  nn::WorkerTeam team(2);
  auto failing = [](int w) {
    if (w == 1) throw std::runtime_error("worker 1 failed");
  };
  CHECK_THROWS_WITH_AS(team.run(failing), "worker 1 failed", std::runtime_error);
  int done = 0;
  auto work = [&](int w) {
    if (w == 0) ++done;
  };
  team.run(work);
  CHECK(done == 1);
}

TEST_CASE("a worker team needs at least one thread") {
  CHECK_THROWS_AS(nn::WorkerTeam(0), std::invalid_argument);
}

TEST_CASE("a barrier inside a job lets every worker see what the others wrote before it") {
  for (int threads : {1, 2, 3}) {
    nn::WorkerTeam team(threads);
    std::vector<long> written(static_cast<std::size_t>(threads), 0), seen(static_cast<std::size_t>(threads), 0);
    for (long job = 1; job <= 500; ++job) {
      auto work = [&](int w) {
        written[static_cast<std::size_t>(w)] = job * (w + 1);
        team.barrier();
        long sum = 0;
        for (long v : written) sum += v;
        seen[static_cast<std::size_t>(w)] = sum;
        team.barrier();  // nobody overwrites `written` of the next phase before all have read it
        written[static_cast<std::size_t>(w)] = -1;
      };
      team.run(work);
      for (long s : seen) REQUIRE(s == job * threads * (threads + 1) / 2);
    }
  }
}

TEST_CASE("a worker that throws before a barrier releases the others; run rethrows its exception") {
  nn::WorkerTeam team(3);
  for (int thrower : {0, 1, 2}) {
    CAPTURE(thrower);
    auto failing = [&](int w) {
      if (w == thrower) throw std::runtime_error("the worker failed");
      team.barrier();
      team.barrier();
    };
    CHECK_THROWS_WITH_AS(team.run(failing), "the worker failed", std::runtime_error);
  }
  std::atomic<int> passed{0};
  auto work = [&](int) {
    team.barrier();
    passed.fetch_add(1);
  };
  team.run(work);
  CHECK(passed.load() == 3);
}

TEST_CASE("a team whose threads cannot all be started stops the started ones and throws instead of aborting" * doctest::skip(testing::kAddressSanitizer)) {
  // In a child process: its address space is capped so thread stacks cannot be mapped.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    testing::cap_address_space(rlim_t{64} << 20);
    try {
      nn::WorkerTeam team(64);  // 64 stacks of 8 MiB do not fit in 64 MiB more
    } catch (const std::runtime_error& e) {
      ::_exit(std::string(e.what()).starts_with("cannot start 64 worker threads") ? 0 : 3);
    }
    ::_exit(4);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));  // not killed by std::terminate's SIGABRT
  CHECK(WEXITSTATUS(status) == 0);
}
