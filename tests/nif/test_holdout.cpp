#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "nif/error_metrics.hpp"
#include "nif/holdout.hpp"
#include "nn/files.hpp"
#include "nn/npy.hpp"
#include "support/scratch_dir.hpp"

using ad::Index;
using nif::HoldoutKind;

namespace {

/// Columns (t, Re, x, u, area): 3 values of Re × 2 times, 4 points each, snapshots in the order
/// (t, Re) = (0, 80), (1, 80), (0, 100), (1, 100), (0, 120), (1, 120); u = 100·snapshot + point.
ad::Matrix<float> table() {
  ad::Matrix<float> m(24, 5);
  for (Index s = 0; s < 6; ++s)
    for (Index k = 0; k < 4; ++k)
      m.row(4 * s + k) << float(s % 2), float(80 + 20 * (s / 2)), float(k), float(100 * s + k), float(k + 1);
  return m;
}

const nif::Columns kColumns{.params = {0, 1}, .coords = {2}, .targets = {3}, .weight = 4};

nif::PointDataset dataset() { return nif::from_table(table(), kColumns); }

template <class F>
std::string error_of(F&& action) {
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

/// The distinct u / 100 (the snapshot numbers) of `data`, in row order.
std::vector<int> snapshots_in(const nif::PointDataset& data) {
  std::vector<int> out;
  for (Index r = 0; r < data.size(); ++r) {
    const int s = int(data.targets(r, 0)) / 100;
    if (out.empty() || out.back() != s) out.push_back(s);
  }
  return out;
}

}  // namespace

TEST_CASE("parse_holdout reads the four forms and refuses bad specs with one line") {
  CHECK(nif::parse_holdout("").kind == HoldoutKind::none);
  const auto every = nif::parse_holdout("every:3");
  CHECK(every.kind == HoldoutKind::every);
  CHECK(every.every == 3);
  CHECK(every.text == "every:3");
  const auto param = nif::parse_holdout("param:Re=100.5");
  CHECK(param.kind == HoldoutKind::param);
  CHECK(param.column == "Re");
  CHECK(param.value == 100.5);
  const auto file = nif::parse_holdout("file:a:b.npz");
  CHECK(file.kind == HoldoutKind::file);
  CHECK(file.path == "a:b.npz");
  CHECK(nif::parse_holdout("points:5").every == 5);
  for (const char* bad : {"every", "every:1", "every:0", "every:x", "every:3x", "every:", "points:1", "param:Re",
                          "param:=3", "param:Re=", "param:Re=abc", "param:Re=nan", "file:", "random:3"}) {
    CAPTURE(bad);
    const std::string message = error_of([&] { nif::parse_holdout(bad); });
    CHECK(message.find("--holdout") == 0);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("snapshots are the distinct ParameterNet inputs in order of first appearance") {
  ad::Matrix<float> p(5, 2);
  p << 1, 2, 0, 0, 1, 2, 0, 1, 0, 0;
  std::vector<Index> first;
  CHECK(nif::snapshot_of_rows(p, &first) == std::vector<Index>{0, 1, 0, 2, 1});
  CHECK(first == std::vector<Index>{0, 1, 3});
}

TEST_CASE("every:K holds out the K-th, 2K-th, ... snapshot") {
  const auto split = nif::split_holdout(dataset(), nif::parse_holdout("every:3"), kColumns, {});
  CHECK(snapshots_in(split.test) == std::vector<int>{2, 5});
  CHECK(snapshots_in(split.train) == std::vector<int>{0, 1, 3, 4});
  CHECK(split.test.size() == 8);
  CHECK(split.test.weights.rows() == 8);
  CHECK(split.test.params(0, 1) == 100.0f);
}

TEST_CASE("param:NAME=VALUE holds out one parameter value, by column name or params index") {
  const std::vector<std::string> names{"t", "Re", "x", "u", "area"};
  const auto by_name = nif::split_holdout(dataset(), nif::parse_holdout("param:Re=100"), kColumns, names);
  CHECK(snapshots_in(by_name.test) == std::vector<int>{2, 3});
  CHECK(snapshots_in(by_name.train) == std::vector<int>{0, 1, 4, 5});
  const auto by_index = nif::split_holdout(dataset(), nif::parse_holdout("param:1=100"), kColumns, {});
  CHECK(snapshots_in(by_index.test) == std::vector<int>{2, 3});
  const auto by_t = nif::split_holdout(dataset(), nif::parse_holdout("param:t=1"), kColumns, names);
  CHECK(snapshots_in(by_t.test) == std::vector<int>{1, 3, 5});

  const std::string absent = error_of([&] { nif::split_holdout(dataset(), nif::parse_holdout("param:Re=90"), kColumns, names); });
  CHECK(absent.find("90 is not in the data (present: 80, 100, 120)") != std::string::npos);
  CHECK(error_of([&] { nif::split_holdout(dataset(), nif::parse_holdout("param:x=1"), kColumns, names); })
            .find("'x' is not a ParameterNet input") != std::string::npos);
  CHECK(error_of([&] { nif::split_holdout(dataset(), nif::parse_holdout("param:2=1"), kColumns, {}); })
            .find("no such ParameterNet column") != std::string::npos);
  CHECK(error_of([&] { nif::split_holdout(dataset(), nif::parse_holdout("param:Re=1"), kColumns, {}); })
            .find("no such ParameterNet column") != std::string::npos);
}

TEST_CASE("points:K holds out every K-th point of each snapshot") {
  const auto split = nif::split_holdout(dataset(), nif::parse_holdout("points:2"), kColumns, {});
  REQUIRE(split.test.size() == 12);
  for (Index r = 0; r < split.test.size(); ++r) CHECK(int(split.test.coords(r, 0)) % 2 == 1);
  CHECK(snapshots_in(split.test) == std::vector<int>{0, 1, 2, 3, 4, 5});
  CHECK(split.train.size() == 12);
}

TEST_CASE("file:PATH trains on all the data and tests on the file") {
  testing::ScratchDir dir;
  const ad::Matrix<float> test_table = table().topRows(8);
  nn::write_npy(dir / "test.npy", nn::NpyArray::from_matrix(test_table));
  const auto split = nif::split_holdout(dataset(), nif::parse_holdout("file:" + (dir / "test.npy").string()), kColumns, {});
  CHECK(split.train.size() == 24);
  CHECK(split.test.size() == 8);
  CHECK_THROWS_AS(nif::split_holdout(dataset(), nif::parse_holdout("file:" + (dir / "none.npy").string()), kColumns, {}),
                  nn::FileError);
}

TEST_CASE("a split that leaves no test data is refused") {
  const nif::PointDataset two = nif::select_rows(dataset(), {0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(error_of([&] { nif::split_holdout(two, nif::parse_holdout("every:3"), kColumns, {}); }).find("holds out no data") !=
        std::string::npos);
  CHECK(error_of([&] { nif::split_holdout(dataset(), nif::parse_holdout("points:5"), kColumns, {}); })
            .find("holds out no data") != std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Error metrics

TEST_CASE("relative_l2 is sqrt(sum w (p-u)^2 / sum w u^2) per field and over all fields") {
  ad::Matrix<double> u(2, 2), p(2, 2);
  u << 3, 1, 4, 0;
  p << 3, 2, 1, 0;
  const auto plain = nif::relative_l2(u, p, {});
  // field 0: errors (0, 3), norms (9, 16) -> sqrt(9/25); field 1: errors (1, 0), norms (1, 0) -> 1.
  CHECK(plain.per_field[0] == doctest::Approx(0.6));
  CHECK(plain.per_field[1] == doctest::Approx(1.0));
  CHECK(plain.overall == doctest::Approx(std::sqrt(10.0 / 26.0)));
  ad::Matrix<float> w(2, 1);
  w << 2, 0.5;
  const auto weighted = nif::relative_l2(u, p, w);
  // field 0: 0.5·9 / (2·9 + 0.5·16) = 4.5/26; field 1: 2·1 / (2·1) = 1.
  CHECK(weighted.per_field[0] == doctest::Approx(std::sqrt(4.5 / 26.0)));
  CHECK(weighted.per_field[1] == doctest::Approx(1.0));
  CHECK(weighted.overall == doctest::Approx(std::sqrt(6.5 / 28.0)));
  ad::Matrix<double> zero = ad::Matrix<double>::Zero(2, 2);
  CHECK(nif::relative_l2(zero, zero, {}).overall == 0);
  CHECK(nif::relative_l2(zero, p, {}).overall == std::numeric_limits<double>::infinity());
  CHECK_THROWS_AS(nif::relative_l2(u, p.topRows(1), {}), std::invalid_argument);
}

TEST_CASE("per-snapshot errors group the rows by ParameterNet input and carry its values") {
  nif::PointDataset test = nif::select_rows(dataset(), {0, 1, 4, 5});  // snapshots (0, 80) and (1, 80)
  ad::Matrix<double> p = test.targets.cast<double>();
  p(1, 0) += 1;  // snapshot 0, point 1 (u = 1, weight 2): error 2·1 / (2·1) over norm 1·0 + 2·1
  const auto errors = nif::held_out_errors(test, p);
  REQUIRE(errors.snapshots.size() == 2);
  CHECK(errors.snapshots[0].params == std::vector<double>{0, 80});
  CHECK(errors.snapshots[0].errors.overall == doctest::Approx(1.0));
  CHECK(errors.snapshots[1].params == std::vector<double>{1, 80});
  CHECK(errors.snapshots[1].errors.overall == 0);
  // Over both: 2·1 / (1·0 + 2·1 + 1·100² + 2·101²).
  CHECK(errors.total.overall == doctest::Approx(std::sqrt(2.0 / (2.0 + 1e4 + 2.0 * 101 * 101))));
  const nlohmann::json j = nif::to_json(errors, {"u"}, {"t", "Re"});
  CHECK(j["test_rel_l2_u"].get<double>() == doctest::Approx(errors.total.overall));
  CHECK(j["test_snapshots"][1]["params"]["Re"] == 80.0);
  CHECK(j["test_snapshots"][0]["rel_l2_u"].get<double>() == doctest::Approx(1.0));
}

TEST_CASE("normalized_mse is the training loss: sum of w times squared errors over N times O") {
  nif::PointDataset test;
  test.targets = ad::Matrix<float>::Zero(2, 2);
  test.weights = ad::Matrix<float>(2, 1);
  test.weights << 1, 3;
  ad::Matrix<float> p(2, 2);
  p << 1, 2, 0, 1;
  CHECK(nif::normalized_mse(test, p) == doctest::Approx((1 * (1 + 4) + 3 * 1) / 4.0));
  test.weights.resize(0, 0);
  CHECK(nif::normalized_mse(test, p) == doctest::Approx(6 / 4.0));
}

TEST_CASE("column labels are the table's names, else a prefix and the position") {
  CHECK(nif::column_labels({"t", "x", "u", "v"}, {2, 3}, "f") == std::vector<std::string>{"u", "v"});
  CHECK(nif::column_labels({}, {2, 3}, "f") == std::vector<std::string>{"f0", "f1"});
}
