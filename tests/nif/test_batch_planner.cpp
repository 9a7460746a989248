#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "nif/batch_planner.hpp"
#include "support/alloc_counter.hpp"

using nif::Index;

namespace {

/// n rows whose ParameterNet input (one column) is row / per_group: groups of `per_group` rows.
ad::Matrix<float> snapshot_params(Index n, Index per_group) {
  ad::Matrix<float> p(n, 1);
  for (Index i = 0; i < n; ++i) p(i, 0) = float(i / per_group);
  return p;
}

}  // namespace

TEST_CASE("distinct ParameterNet inputs are numbered in order of first appearance") {
  ad::Matrix<float> p(12, 2);
  for (Index i = 0; i < 12; ++i) p.row(i) = i % 2 == 0 ? Eigen::RowVector2f(5, 1) : Eigen::RowVector2f(2, 0);
  p(11, 1) = 0.5f;  // 3 distinct rows among 12
  const nif::InputGroups g = nif::InputGroups::find(p);
  REQUIRE_FALSE(g.empty());
  CHECK(g.group_of == std::vector<Index>{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 2});
  REQUIRE(g.inputs.rows() == 3);
  CHECK(g.input_of(11)(0, 1) == 0.5f);
  CHECK(g.input_of(2)(0, 0) == 5);
}

TEST_CASE("inputs are not grouped when more than a quarter of them are distinct") {
  CHECK(nif::InputGroups::find(snapshot_params(16, 4)).group_of.size() == 16);
  CHECK(nif::InputGroups::find(snapshot_params(16, 3)).empty());  // 6 distinct among 16
}

TEST_CASE("a batch is ordered into runs of one input, keeping the given order inside each run") {
  nif::BatchPlanner planner(16, nif::InputGroups::find(snapshot_params(16, 4)), 1);
  const std::vector<Index> batch{10, 1, 7, 0, 11, 4, 2};  // groups 2, 0, 1, 0, 2, 1, 0 (3 is absent)
  const nif::BatchPlan plan = planner.plan(batch, std::vector<double>{0});
  CHECK(std::vector<Index>(plan.rows.begin(), plan.rows.end()) == std::vector<Index>{1, 0, 2, 7, 4, 10, 11});
  CHECK(std::vector<Index>(plan.run_start.begin(), plan.run_start.end()) == std::vector<Index>{0, 3, 5, 7});
  CHECK(std::vector<Index>(plan.cuts.begin(), plan.cuts.end()) == std::vector<Index>{0, 7});
  ad::Arena arena;
  const ad::RowGroups runs = plan.runs(2, 4, arena);  // rows 2..5 of the plan: part of each run
  REQUIRE(runs.count == 3);
  CHECK(std::vector<Index>(runs.offsets, runs.offsets + 4) == std::vector<Index>{0, 1, 3, 4});
}

TEST_CASE("without groups a batch keeps its order and its slices have no runs") {
  nif::BatchPlanner planner(10, nif::InputGroups{}, 2);
  const std::vector<Index> batch{9, 3, 5, 1, 0};
  const nif::BatchPlan plan = planner.plan(batch, std::vector<double>{0, 0});
  CHECK(std::vector<Index>(plan.rows.begin(), plan.rows.end()) == batch);
  CHECK(std::vector<Index>(plan.cuts.begin(), plan.cuts.end()) == std::vector<Index>{0, 2, 5});
  CHECK(plan.run_start.empty());
  ad::Arena arena;
  CHECK(plan.runs(0, 2, arena).empty());
}

TEST_CASE("slices are cut at a run boundary near the even cut, or by the workers' speeds") {
  // 4 groups of 64 rows; an even cut of 250 rows falls at 125, 3 rows from the boundary at 128.
  nif::BatchPlanner planner(256, nif::InputGroups::find(snapshot_params(256, 64)), 2);
  std::vector<Index> batch(250);
  for (Index i = 0; i < 250; ++i) batch[static_cast<std::size_t>(i)] = i;
  nif::BatchPlan plan = planner.plan(batch, std::vector<double>{0, 0});
  CHECK(plan.cuts[1] == 128);
  plan = planner.plan(batch, std::vector<double>{3e6, 1e6});  // 188: 4 rows from 192
  CHECK(plan.cuts[1] == 192);
  plan = planner.plan(std::span<const Index>(batch).first(100), std::vector<double>{0, 0});  // 50: 14 from 64
  CHECK(plan.cuts[1] == 50);
}

TEST_CASE("an epoch's order is a permutation of the planner's rows, fixed by the RNG state") {
  const std::vector<Index> split{1, 4, 5, 8, 9};  // e.g. a training split
  nif::BatchPlanner planner(10, nif::InputGroups{}, 1, split), again(10, nif::InputGroups{}, 1, split);
  CHECK(planner.rows() == 5);
  nn::Rng rng(11), copy = rng;
  planner.shuffle(rng);
  again.shuffle(copy);
  const std::span<const Index> order = planner.ordered(0, 5), repeat = again.ordered(0, 5);
  CHECK(std::equal(order.begin(), order.end(), repeat.begin()));
  std::vector<Index> sorted(order.begin(), order.end());
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == split);
  CHECK(planner.ordered(3, 2).data() == order.data() + 3);
  planner.shuffle(rng);  // the next epoch draws again from the same rows
  sorted.assign(planner.ordered(0, 5).begin(), planner.ordered(0, 5).end());
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == split);
}

TEST_CASE("a planner refuses empty batches, rows outside the data and a wrong number of speeds") {
  nif::BatchPlanner planner(10, nif::InputGroups::find(snapshot_params(10, 5)), 2);
  const std::vector<double> speeds{0, 0};
  CHECK_THROWS_AS(planner.plan({}, speeds), std::invalid_argument);
  CHECK_THROWS_AS(planner.plan(std::vector<Index>{0, 10}, speeds), std::invalid_argument);
  CHECK_THROWS_AS(planner.plan(std::vector<Index>{-1}, speeds), std::invalid_argument);
  CHECK_THROWS_AS(planner.plan(std::vector<Index>{0}, std::vector<double>{0}), std::invalid_argument);
  CHECK_THROWS_AS(nif::BatchPlanner(10, nif::InputGroups{}, 1, {3, 12}), std::invalid_argument);
  CHECK_THROWS_AS(nif::BatchPlanner(10, nif::InputGroups{}, 0), std::invalid_argument);
  CHECK_THROWS_AS(nif::BatchPlanner(12, nif::InputGroups::find(snapshot_params(10, 5)), 1), std::invalid_argument);
}

TEST_CASE("planning a batch allocates nothing once the largest batch has been planned") {
  nif::BatchPlanner planner(512, nif::InputGroups::find(snapshot_params(512, 64)), 2);
  nn::Rng rng(5);
  const std::vector<double> speeds{0, 0};
  planner.shuffle(rng);
  planner.plan(planner.ordered(0, 256), speeds);
  const std::size_t before = testing::allocation_count();
  for (int epoch = 0; epoch < 3; ++epoch) {
    planner.shuffle(rng);
    planner.plan(planner.ordered(0, 256), speeds);
    planner.plan(planner.ordered(256, 200), speeds);
  }
  if (testing::kAllocationCounting) CHECK(testing::allocation_count() == before);
}
