// Aggregation of finished run folders into the seed study's tables, on the fixture study in
// tests/data/runs/study: three finished low-frequency pytorch/adam runs, two finished
// high-frequency functional/adam runs, and a 0-epoch run whose metrics.json has no losses.
#include <doctest/doctest.h>

#include <string>

#include "experiments/study.hpp"

namespace {

const std::string kStudy = std::string(NIF_TEST_DATA_DIR) + "/runs/study";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("aggregate_runs groups finished runs by cell: min best, median and min final, median speeds") {
  const auto cells = experiments::aggregate_runs(kStudy);
  REQUIRE(cells.size() == 2);  // the 0-epoch adabelief run has no losses and is ignored

  // Seed table order: the low-frequency case first.
  const auto& low = cells[0];
  CHECK(low.case_name == "low-frequency");
  CHECK(low.architecture == "pytorch");
  CHECK(low.optimizer == "adam");
  CHECK(low.runs == 3);
  CHECK(low.best_loss == doctest::Approx(9.0e-5).epsilon(1e-12));          // min of 2.5e-4, 9e-5, 1.5e-4
  CHECK(low.median_final_loss == doctest::Approx(2.0e-4).epsilon(1e-12));  // median of 3e-4, 1e-4, 2e-4
  CHECK(low.best_final_loss == doctest::Approx(1.0e-4).epsilon(1e-12));
  CHECK(low.median_samples_per_s == 110000);
  CHECK(low.median_seed_points_per_s == 28160);

  const auto& high = cells[1];
  CHECK(high.case_name == "high-frequency");
  CHECK(high.architecture == "functional");
  CHECK(high.runs == 2);
  CHECK(high.best_loss == doctest::Approx(4.0e-4).epsilon(1e-12));
  // An even count: the median is the mean of the two middle values.
  CHECK(high.median_final_loss == doctest::Approx(7.0e-4).epsilon(1e-12));  // of 6e-4, 8e-4
  CHECK(high.best_final_loss == doctest::Approx(6.0e-4).epsilon(1e-12));
  CHECK(high.median_samples_per_s == 85000);
  CHECK(high.median_seed_points_per_s == 21760);
}

TEST_CASE("markdown_tables puts our numbers next to the seed's for the same cell") {
  const std::string md = experiments::markdown_tables(experiments::aggregate_runs(kStudy));
  // Loss table: model sizes (0: runs that did not record them), ours (best, best final, median
  // final), then the seed's (best, median final).
  CHECK(contains(md, "| low-frequency | pytorch | adam | 3 | 0 | 0 | 9.000e-05 | 1.000e-04 | 2.000e-04 | 1.549e-04 | 1.794e-04 |"));
  CHECK(contains(md, "| high-frequency | functional | adam | 2 | 0 | 0 | 4.000e-04 | 6.000e-04 | 7.000e-04 | 5.415e-04 | 6.817e-04 |"));
  // Speed table: ours, the paper's range, the seed's true samples/s and the speed-up.
  CHECK(contains(md, "| low-frequency | pytorch | adam | 110,000 | 28,160 | 12000-15000 | 56,900 | 1.9x |"));
  CHECK_FALSE(contains(md, "adabelief"));
}

TEST_CASE("markdown_tables marks cells the seed never ran") {
  experiments::Aggregate upstream_high{.case_name = "high-frequency", .architecture = "upstream", .optimizer = "adam",
                                       .runs = 1, .best_loss = 1e-3, .median_final_loss = 2e-3, .best_final_loss = 2e-3,
                                       .median_samples_per_s = 1000, .median_seed_points_per_s = 256};
  const std::string md = experiments::markdown_tables({upstream_high});
  CHECK(contains(md, "| high-frequency | upstream | adam | 1 | 0 | 0 | 1.000e-03 | 2.000e-03 | 2.000e-03 | not run | not run |"));
}

TEST_CASE("seed_results holds the seed's ten published cells") {
  const auto& seed = experiments::seed_results();
  CHECK(seed.size() == 10);
  bool found = false;
  for (const auto& s : seed)
    if (s.case_name == "low-frequency" && s.architecture == "pytorch" && s.optimizer == "adam") {
      found = true;
      CHECK(s.best_loss == 1.549e-4);
      CHECK(s.median_final_loss == 1.794e-4);
      CHECK(s.median_true_samples_per_s == 56900);
    }
  CHECK(found);
}

TEST_CASE("run_name is the folder name compare gives a run") {
  CHECK(experiments::run_name("pytorch", "low-frequency", "adam", 3) == "pytorch-low-frequency-adam-seed3");
}
