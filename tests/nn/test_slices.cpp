#include <doctest/doctest.h>

#include <vector>

#include "nn/slices.hpp"

using nn::Index;

TEST_CASE("batches are cut evenly in exact integers, or in proportion to measured speeds within limits") {
  std::vector<Index> cuts(3);
  nn::proportional_cuts(512, std::vector<double>{0, 0}, cuts);
  CHECK(cuts == std::vector<Index>{0, 256, 512});
  nn::proportional_cuts(512, std::vector<double>{2e6, 0}, cuts);  // one speed unknown: even
  CHECK(cuts == std::vector<Index>{0, 256, 512});
  nn::proportional_cuts(512, std::vector<double>{3e6, 1e6}, cuts);  // the faster worker takes 3/4
  CHECK(cuts == std::vector<Index>{0, 384, 512});
  nn::proportional_cuts(512, std::vector<double>{1e6, 99e6}, cuts);  // at least half an even share
  CHECK(cuts == std::vector<Index>{0, 128, 512});
  std::vector<Index> three(4);
  nn::proportional_cuts(3, std::vector<double>{0, 0, 0}, three);
  CHECK(three == std::vector<Index>{0, 1, 2, 3});
  nn::proportional_cuts(900, std::vector<double>{1, 1, 2}, three);
  CHECK(three == std::vector<Index>{0, 225, 450, 900});
  nn::proportional_cuts(900, std::vector<double>{100, 100, 1}, three);  // the slow one keeps 1/6 of 1
  CHECK(three == std::vector<Index>{0, 385, 771, 900});
}

TEST_CASE("a cut moves to the nearest run boundary only when that keeps the slices balanced") {
  // n = 320, 2 slices: a cut may move by at most 320 / 32 = 10 rows.
  std::vector<Index> cuts{0, 160, 320};
  nn::snap_cuts_to_runs(cuts, std::vector<Index>{0, 100, 155, 320});
  CHECK(cuts == std::vector<Index>{0, 155, 320});  // the nearer boundary, below
  cuts = {0, 160, 320};
  nn::snap_cuts_to_runs(cuts, std::vector<Index>{0, 168, 320});
  CHECK(cuts == std::vector<Index>{0, 168, 320});  // above
  cuts = {0, 160, 320};
  nn::snap_cuts_to_runs(cuts, std::vector<Index>{0, 100, 200, 320});
  CHECK(cuts == std::vector<Index>{0, 160, 320});  // too far: the run is split between workers
  // Two cuts may meet at one boundary (the worker between them gets no rows): 3 slices of 96 rows,
  // a cut may move by 96 / 48 = 2.
  std::vector<Index> three{0, 32, 33, 96};
  nn::snap_cuts_to_runs(three, std::vector<Index>{0, 31, 96});
  CHECK(three == std::vector<Index>{0, 31, 31, 96});
}

TEST_CASE("a slice's runs are the runs it overlaps, relative to its first row") {
  ad::Arena arena;
  const std::vector<Index> run_start{0, 4, 10, 12};
  ad::RowGroups g = nn::slice_runs(run_start, 2, 9, arena);  // rows 2..10: runs 0, 1, 2
  REQUIRE(g.count == 3);
  CHECK(std::vector<Index>(g.offsets, g.offsets + 4) == std::vector<Index>{0, 2, 8, 9});
  g = nn::slice_runs(run_start, 4, 6, arena);  // exactly run 1
  REQUIRE(g.count == 1);
  CHECK(std::vector<Index>(g.offsets, g.offsets + 2) == std::vector<Index>{0, 6});
  g = nn::slice_runs(run_start, 11, 1, arena);  // inside the last run
  REQUIRE(g.count == 1);
  CHECK(std::vector<Index>(g.offsets, g.offsets + 2) == std::vector<Index>{0, 1});
}
