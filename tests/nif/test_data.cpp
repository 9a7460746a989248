#include <doctest/doctest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "nif/data.hpp"
#include "nn/files.hpp"
#include "nn/npy.hpp"

namespace fs = std::filesystem;
using ad::Index;
using nif::Normalization;
using nif::Normalizer;
using nif::WaveCase;

namespace {

fs::path data_file(const std::string& name) { return fs::path(NIF_TEST_DATA_DIR) / name; }

ad::Matrix<float> npz_data(const std::string& name) {
  for (const auto& [key, array] : nn::read_npz(data_file(name)))
    if (key == "data") return array.to_matrix<float>();
  throw std::runtime_error(name + " has no 'data'");
}

nif::PointDataset wave_dataset(WaveCase wave_case) {
  return nif::from_table(nif::traveling_wave(wave_case), nif::traveling_wave_columns());
}

/// Number of elements whose bits differ (NaNs compare by bits too).
Index bit_mismatches(const ad::Matrix<float>& a, const ad::Matrix<float>& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  Index count = 0;
  for (Index i = 0; i < a.size(); ++i)
    count += std::bit_cast<std::uint32_t>(a.data()[i]) != std::bit_cast<std::uint32_t>(b.data()[i]);
  return count;
}

/// The message of the exception of type E that `action` throws ("" when it throws nothing).
template <class E, class F>
std::string error_of(F&& action) {
  try {
    action();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Traveling wave

TEST_CASE("traveling_wave reproduces the seed's npz files bit for bit") {
  const ad::Matrix<float> low = nif::traveling_wave(WaveCase::low_frequency);
  const ad::Matrix<float> high = nif::traveling_wave(WaveCase::high_frequency);
  CHECK(low.rows() == 2000);
  CHECK(low.cols() == 3);
  CHECK(bit_mismatches(low, npz_data("traveling_wave.npz")) == 0);
  CHECK(bit_mismatches(high, npz_data("traveling_wave_high_freq.npz")) == 0);
  // Row 200·i + j holds (t_i, x_j): t-major order.
  CHECK(low(201, 0) == 10.0f);
  CHECK(low(201, 1) == 0.005f);
  CHECK(low(1999, 1) == 0.995f);
}

TEST_CASE("traveling_wave on a finer grid samples the same wave on more snapshots and points") {
  const ad::Matrix<float> seed = nif::traveling_wave(WaveCase::low_frequency);
  const ad::Matrix<float> fine = nif::traveling_wave(WaveCase::low_frequency, 20, 400);
  REQUIRE(fine.rows() == 20 * 400);
  // Every other snapshot and point of the finer grid is a point of the seed's, value for value.
  for (Index i = 0; i < 10; ++i)
    for (Index j = 0; j < 200; ++j) CHECK(bit_mismatches(fine.row(2 * i * 400 + 2 * j), seed.row(i * 200 + j)) == 0);
  CHECK(fine(400, 0) == 5.0f);
  CHECK_THROWS_AS(nif::traveling_wave(WaveCase::low_frequency, 0, 200), std::invalid_argument);
}

TEST_CASE("wave case and normalization names parse, print and map to the seed's defaults") {
  CHECK(nif::parse_wave_case("low-frequency") == WaveCase::low_frequency);
  CHECK(nif::parse_wave_case("high-frequency") == WaveCase::high_frequency);
  CHECK(nif::name(WaveCase::high_frequency) == "high-frequency");
  CHECK(error_of<std::invalid_argument>([] { nif::parse_wave_case("lf"); }) ==
        "nif: unknown wave case 'lf' (expected 'low-frequency', 'high-frequency')");
  for (const Normalization n : {Normalization::none, Normalization::standard, Normalization::minmax})
    CHECK(nif::parse_normalization(nif::name(n)) == n);
  CHECK(error_of<std::invalid_argument>([] { nif::parse_normalization("auto"); }) ==
        "nif: unknown normalization 'auto' (expected 'none', 'standard', 'minmax')");
  CHECK(nif::default_normalization(WaveCase::low_frequency) == Normalization::standard);
  CHECK(nif::default_normalization(WaveCase::high_frequency) == Normalization::minmax);
}

// ---------------------------------------------------------------------------------------------
// Normalisation

TEST_CASE("standard statistics of the low-frequency wave equal numpy's float32 ones") {
  const Normalizer n = Normalizer::fit(wave_dataset(WaveCase::low_frequency), Normalization::standard);
  // Seed values (docs/seed-study.md §3) ...
  CHECK(n.params.mean[0] == 45.0f);
  CHECK(n.coords.mean[0] == doctest::Approx(0.4975).epsilon(1e-7));
  CHECK(n.targets.mean[0] == doctest::Approx(3.8e-12).epsilon(0.01));
  CHECK(n.params.scale[0] == doctest::Approx(28.722813).epsilon(1e-7));
  CHECK(n.coords.scale[0] == doctest::Approx(0.2886715).epsilon(1e-6));
  CHECK(n.targets.scale[0] == doctest::Approx(0.0125658).epsilon(1e-5));
  // ... and numpy 1.24's float32 results bit for bit, whose u mean is pure rounding noise: the
  // order of the float32 accumulation shows in every bit (pairwise summation gives -3.79e-12).
  CHECK(n.coords.mean[0] == 0x1.fd70a4p-2f);
  CHECK(n.targets.mean[0] == 0x1.0b2f9ep-38f);
  CHECK(n.params.scale[0] == 0x1.cb90a4p+4f);
  CHECK(n.coords.scale[0] == 0x1.27998p-2f);
  CHECK(n.targets.scale[0] == 0x1.9bc1fap-7f);
}

TEST_CASE("standard normalisation of the low-frequency wave gives the seed's ranges and unit variance") {
  const nif::PointDataset data = wave_dataset(WaveCase::low_frequency);
  const nif::PointDataset z = Normalizer::fit(data, Normalization::standard).apply(data);
  CHECK(z.params(0, 0) == -0x1.91132ep+0f);  // numpy's (t − mean)/std at t = 0
  CHECK(z.params.maxCoeff() == doctest::Approx(1.5667).epsilon(1e-4));
  CHECK(z.coords.minCoeff() == doctest::Approx(-1.7234).epsilon(1e-4));
  CHECK(z.targets.maxCoeff() == doctest::Approx(4.2630).epsilon(1e-4));
  CHECK(z.targets.minCoeff() == doctest::Approx(-4.2630).epsilon(1e-4));
  CHECK(z.targets.cast<double>().squaredNorm() / 2000 == doctest::Approx(1.0).epsilon(1e-5));
}

TEST_CASE("minmax statistics of the high-frequency wave: inputs span -1 to 1, targets divide by max|u|") {
  const nif::PointDataset data = wave_dataset(WaveCase::high_frequency);
  const Normalizer n = Normalizer::fit(data, Normalization::minmax);
  CHECK(n.params.mean[0] == 45.0f);
  CHECK(n.params.scale[0] == 45.0f);
  CHECK(n.coords.mean[0] == 0.4975f);
  CHECK(n.coords.scale[0] == 0.4975f);
  CHECK(n.targets.scale[0] == doctest::Approx(0.88684678).epsilon(1e-7));
  CHECK(n.targets.mean[0] == -0x1.4ca792p-37f);  // numpy's float32 axis-0 mean, ≈ −9.5e-12

  const nif::PointDataset m = n.apply(data);
  CHECK(m.params.minCoeff() == -1.0f);
  CHECK(m.params.maxCoeff() == 1.0f);
  CHECK(m.coords.minCoeff() == -1.0f);
  CHECK(m.coords.maxCoeff() == 1.0f);
  CHECK(m.targets.cwiseAbs().maxCoeff() == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(m.targets.cast<double>().squaredNorm() / 2000 == doctest::Approx(0.025196).epsilon(1e-4));
}

TEST_CASE("minmax targets scale by the raw max|u|, not the centred one") {
  ad::Matrix<float> table(3, 2);
  table << 0, 1,  //
      1, 2,       //
      2, 6;
  const Normalizer n = Normalizer::fit(nif::from_table(table, {.coords = {0}, .targets = {1}}), Normalization::minmax);
  CHECK(n.targets.mean[0] == 3.0f);
  CHECK(n.targets.scale[0] == 6.0f);  // max|u − mean| would be 3
}

TEST_CASE("denormalize_targets inverts normalize_targets to float rounding") {
  for (const WaveCase wave_case : {WaveCase::low_frequency, WaveCase::high_frequency}) {
    const nif::PointDataset data = wave_dataset(wave_case);
    const Normalizer n = Normalizer::fit(data, nif::default_normalization(wave_case));
    const ad::Matrix<float> back = n.denormalize_targets(n.normalize_targets(data.targets));
    const float mean = std::abs(n.targets.mean[0]);
    for (Index r = 0; r < data.size(); ++r) {
      const float u = data.targets(r, 0);
      CAPTURE(r);
      CHECK(std::abs(back(r, 0) - u) <= 8 * std::numeric_limits<float>::epsilon() * (std::abs(u) + mean));
    }
    CHECK(bit_mismatches(n.normalize_targets(data.targets), n.apply(data).targets) == 0);
  }
}

TEST_CASE("normalization none leaves every value as it is") {
  const nif::PointDataset data = wave_dataset(WaveCase::low_frequency);
  const nif::PointDataset same = Normalizer::fit(data, Normalization::none).apply(data);
  CHECK(bit_mismatches(same.params, data.params) == 0);
  CHECK(bit_mismatches(same.coords, data.coords) == 0);
  CHECK(bit_mismatches(same.targets, data.targets) == 0);
}

TEST_CASE("a constant column is refused with its name instead of dividing by zero") {
  ad::Matrix<float> table(3, 3);
  table << 0, 5, 1,  //
      1, 5, 2,       //
      2, 5, 3;
  const nif::PointDataset data = nif::from_table(table, {.params = {0}, .coords = {1}, .targets = {2}});
  for (const Normalization kind : {Normalization::standard, Normalization::minmax})
    CHECK(error_of<std::invalid_argument>([&] { Normalizer::fit(data, kind); }) ==
          "nif::Normalizer: coords column 0 is constant (scale 0)");
  CHECK_NOTHROW(Normalizer::fit(data, Normalization::none));

  ad::Matrix<float> zero_target = table;
  zero_target.col(2).setZero();
  zero_target.col(1) << 0, 1, 2;
  CHECK(error_of<std::invalid_argument>([&] {
          Normalizer::fit(nif::from_table(zero_target, {.params = {0}, .coords = {1}, .targets = {2}}),
                          Normalization::minmax);
        }) == "nif::Normalizer: targets column 0 is constant (scale 0)");
  CHECK_THROWS_AS(Normalizer::fit(nif::PointDataset{}, Normalization::none), std::invalid_argument);
}

TEST_CASE("normalising data with the wrong number of columns is refused") {
  const Normalizer n = Normalizer::fit(wave_dataset(WaveCase::low_frequency), Normalization::standard);
  CHECK_THROWS_AS(n.normalize_coords(ad::Matrix<float>::Zero(4, 2)), std::invalid_argument);
  CHECK_THROWS_AS(n.denormalize_targets(ad::Matrix<float>::Zero(4, 3)), std::invalid_argument);
}

TEST_CASE("area weights are divided by their mean so they average 1") {
  ad::Matrix<float> table(4, 3);
  table << 0, 0, 0.25,  //
      1, 1, 0.5,        //
      2, 4, 0.75,       //
      3, 9, 1.5;
  const nif::PointDataset data = nif::from_table(table, {.coords = {0}, .targets = {1}, .weight = 2});
  REQUIRE(data.weighted());
  CHECK(data.params.cols() == 0);
  for (const Normalization kind : {Normalization::none, Normalization::standard, Normalization::minmax}) {
    const Normalizer n = Normalizer::fit(data, kind);
    CHECK(n.weight_scale == 0.75f);
    const nif::PointDataset w = n.apply(data);
    CHECK(w.weights.mean() == doctest::Approx(1.0).epsilon(1e-7));
    CHECK(w.weights(3, 0) == 2.0f);
    CHECK(w.weights(0, 0) == doctest::Approx(1.0 / 3.0).epsilon(1e-7));
  }
  CHECK(Normalizer::fit(wave_dataset(WaveCase::low_frequency), Normalization::standard).weight_scale == 1.0f);

  table.col(2).setZero();
  CHECK(error_of<std::invalid_argument>([&] {
          Normalizer::fit(nif::from_table(table, {.coords = {0}, .targets = {1}, .weight = 2}), Normalization::none);
        }) == "nif::Normalizer::fit: the weights average 0");
}

TEST_CASE("normalizer statistics survive a JSON round trip exactly") {
  const nif::PointDataset data = wave_dataset(WaveCase::low_frequency);
  const Normalizer n = Normalizer::fit(data, Normalization::standard);
  const nlohmann::json json = nlohmann::json::parse(nif::to_json(n).dump());
  CHECK(json["kind"] == "standard");
  const Normalizer back = nif::normalizer_from_json(json);
  CHECK(back.kind == Normalization::standard);
  CHECK(back.params.mean == n.params.mean);
  CHECK(back.coords.scale == n.coords.scale);
  CHECK(back.targets.mean == n.targets.mean);
  CHECK(back.targets.scale == n.targets.scale);
  CHECK(back.weight_scale == n.weight_scale);
  CHECK(bit_mismatches(back.denormalize_targets(back.normalize_targets(data.targets)),
                       n.denormalize_targets(n.normalize_targets(data.targets))) == 0);
}

TEST_CASE("normalizer_from_json refuses malformed statistics") {
  const nlohmann::json good =
      nif::to_json(Normalizer::fit(wave_dataset(WaveCase::high_frequency), Normalization::minmax));
  auto error = [](const nlohmann::json& json) {
    return error_of<std::invalid_argument>([&] { nif::normalizer_from_json(json); });
  };
  CHECK(error(good).empty());
  nlohmann::json j = good;
  j.erase("coords");
  CHECK(error(j) == "nif::normalizer_from_json: the normalizer lacks key 'coords'");
  j = good;
  j["extra"] = 1;
  CHECK(error(j) == "nif::normalizer_from_json: the normalizer has unknown key 'extra'");
  j = good;
  j["targets"]["scale"] = {1.0, 2.0};
  CHECK(error(j) == "nif::normalizer_from_json: targets has 1 means but 2 scales");
  j = good;
  j["params"]["scale"] = {0.0};
  CHECK(error(j) == "nif::Normalizer: params column 0 is constant (scale 0)");
  j = good;
  j["coords"]["mean"] = {"x"};
  CHECK(error(j).starts_with("nif::normalizer_from_json: [json.exception.type_error"));
  j = good;
  j["kind"] = "zscore";
  CHECK(error(j) == "nif: unknown normalization 'zscore' (expected 'none', 'standard', 'minmax')");
  CHECK(error(nlohmann::json::array()) == "nif::normalizer_from_json: the normalizer is not an object");
}

// ---------------------------------------------------------------------------------------------
// Tables and files

TEST_CASE("from_table selects the columns in the order given") {
  ad::Matrix<float> table(2, 5);
  table << 0, 1, 2, 3, 4,  //
      5, 6, 7, 8, 9;
  const nif::PointDataset data = nif::from_table(table, {.params = {4, 0}, .coords = {2}, .targets = {1, 3}});
  CHECK(data.size() == 2);
  CHECK_FALSE(data.weighted());
  CHECK(data.params(1, 0) == 9.0f);
  CHECK(data.params(1, 1) == 5.0f);
  CHECK(data.coords(0, 0) == 2.0f);
  CHECK(data.targets(1, 1) == 8.0f);
}

TEST_CASE("from_table fills the derivative block from named columns, o major, and refuses a count other than O·D") {
  ad::Matrix<float> table(2, 7);
  table << 0, 1, 2, 3, 4, 5, 6,  //
      7, 8, 9, 10, 11, 12, 13;
  const std::vector<std::string> names{"t", "x", "y", "u", "u_y", "u_x", "v"};
  nif::ColumnSelection selection;
  selection.params = {"t"};
  selection.coords = {"x", "y"};
  selection.targets = {"u"};
  selection.derivatives = {"u_x", "u_y"};
  const nif::PointDataset data = nif::from_table(table, selection.resolve(names));
  REQUIRE(data.derivatives.rows() == 2);
  REQUIRE(data.derivatives.cols() == 2);
  CHECK(data.derivatives(1, 0) == 12.0f);  // ∂u/∂x
  CHECK(data.derivatives(1, 1) == 11.0f);  // ∂u/∂y
  CHECK(nif::from_table(table, {.params = {0}, .coords = {1}, .targets = {2}}).derivatives.size() == 0);
  selection.targets = {"u", "v"};
  CHECK_THROWS_WITH_AS(nif::from_table(table, selection.resolve(names)),
                       "nif::from_table: 2 derivative columns for 2 target(s) and 2 coordinate(s): expected 4, ∂u_o/∂x_j with o major",
                       std::invalid_argument);
  selection.targets = {"u"};
  selection.derivatives = {"u_x", "u"};
  CHECK_THROWS_WITH_AS(nif::from_table(table, selection.resolve(names)),
                       "nif::from_table: column 3 is selected twice (as targets and as derivatives)", std::invalid_argument);
  selection.derivatives = {"u_x", "u_z"};
  CHECK_THROWS_AS(selection.resolve(names), std::invalid_argument);
}

TEST_CASE("from_table names the bad column or cell") {
  ad::Matrix<float> table = ad::Matrix<float>::Ones(3, 4);
  auto error = [&](const nif::Columns& columns) {
    return error_of<std::invalid_argument>([&] { nif::from_table(table, columns); });
  };
  CHECK(error({.params = {0}, .coords = {7}, .targets = {2}}) ==
        "nif::from_table: coords column 7 is out of range (the table has 4 columns)");
  CHECK(error({.params = {-1}, .coords = {1}, .targets = {2}}) ==
        "nif::from_table: params column -1 is out of range (the table has 4 columns)");
  CHECK(error({.params = {0}, .coords = {1}, .targets = {1}}) ==
        "nif::from_table: column 1 is selected twice (as coords and as targets)");
  CHECK(error({.coords = {0}, .targets = {1}, .weight = 0}) ==
        "nif::from_table: column 0 is selected twice (as coords and as weight)");
  CHECK(error({.coords = {0, 0}, .targets = {1}}) ==
        "nif::from_table: column 0 is selected twice (as coords and as coords)");
  CHECK(error({.params = {0}, .targets = {1}}) == "nif::from_table: no coordinate column selected");
  CHECK(error({.params = {0}, .coords = {1}}) == "nif::from_table: no target column selected");
  CHECK(error({.coords = {0}, .targets = {1}, .weight = 4}) ==
        "nif::from_table: weight column 4 is out of range (the table has 4 columns)");

  table(2, 1) = std::numeric_limits<float>::quiet_NaN();
  CHECK(error({.coords = {0}, .targets = {1}}) == "nif::from_table: row 2, column 1: value is NaN");
  CHECK(error({.coords = {0}, .targets = {2}}).empty());  // unused columns may hold anything
  table(1, 2) = -std::numeric_limits<float>::infinity();
  CHECK(error({.coords = {0}, .targets = {1, 2}}) == "nif::from_table: row 1, column 2: value is -Inf");
  table(0, 3) = -2;
  CHECK(error({.coords = {0}, .targets = {1}, .weight = 3}) == "nif::from_table: row 0, column 3: negative weight -2");
  CHECK(error_of<std::invalid_argument>([] {
          nif::from_table(ad::Matrix<float>(0, 3), {.coords = {0}, .targets = {1}});
        }) == "nif::from_table: the table has no rows");
}

TEST_CASE("load_points reads npz (the one table, or FILE.npz:MEMBER), npy and csv") {
  const nif::PointDataset wave = nif::load_points(data_file("traveling_wave.npz"), nif::traveling_wave_columns());
  const nif::PointDataset generated = wave_dataset(WaveCase::low_frequency);
  CHECK(bit_mismatches(wave.targets, generated.targets) == 0);
  CHECK(bit_mismatches(wave.params, generated.params) == 0);

  // f4_c.npy is [[-1, -0.5, 0], [0.5, 1, 1.5]].
  const nif::PointDataset npy = nif::load_points(data_file("npy/f4_c.npy"), {.coords = {2}, .targets = {0}});
  CHECK(npy.coords(1, 0) == 1.5f);
  CHECK(npy.targets(0, 0) == -1.0f);

  // two_members.npz holds "weights" [[0.5, -0.25], [2, 8]], its one 2-d array, then "steps".
  const nif::PointDataset first = nif::load_points(data_file("npy/two_members.npz"), {.coords = {0}, .targets = {1}});
  CHECK(first.targets(1, 0) == 8.0f);

  const fs::path archive = fs::temp_directory_path() / ("nif_test_data_" + std::to_string(::getpid()) + ".npz");
  nn::NpzWriter writer;
  writer.add("grid", nn::NpyArray::from_matrix<float>(ad::Matrix<float>::Zero(2, 2)));
  ad::Matrix<double> table(2, 2);
  table << 1, 2, 3, 4;
  writer.add("data", nn::NpyArray::from_matrix(table));
  writer.write(archive);
  const nif::PointDataset named = nif::load_points(archive.string() + ":data", {.coords = {0}, .targets = {1}});
  const std::string ambiguous = error_of<nn::FileError>([&] { nif::load_points(archive, {.coords = {0}, .targets = {1}}); });
  fs::remove(archive);
  CHECK(named.targets(1, 0) == 4.0f);
  CHECK(ambiguous == archive.string() + ": several 2-d numeric arrays, choose one as " + archive.string() +
                         ":MEMBER (arrays: grid (2, 2) <f4, data (2, 2) <f8)");

  // points.csv: header, comments, a blank line and CRLF endings around 4 rows of (t, x, u, area).
  const nif::PointDataset csv =
      nif::load_points(data_file("csv/points.csv"), {.params = {0}, .coords = {1}, .targets = {2}, .weight = 3});
  REQUIRE(csv.size() == 4);
  CHECK(csv.params(2, 0) == 10.0f);
  CHECK(csv.coords(1, 0) == 0.5f);
  CHECK(csv.targets(1, 0) == -1.25f);
  CHECK(csv.weights(3, 0) == 1.5f);
}

TEST_CASE("load_points errors name the file, and a NaN its row and column") {
  auto error = [](const fs::path& file, const nif::Columns& columns) {
    return error_of<nn::FileError>([&] { nif::load_points(file, columns); });
  };
  const fs::path nan = data_file("csv/nan.csv");
  CHECK(error(nan, {.params = {0}, .coords = {1}, .targets = {2}}) == nan.string() + ": row 2, column 1: value is NaN");
  CHECK(error(nan, {.params = {0}, .coords = {2}, .targets = {2}}) ==
        nan.string() + ": column 2 is selected twice (as coords and as targets)");
  CHECK(error(data_file("npy/i2_fortran_3d.npy"), {.coords = {0}, .targets = {1}}) ==
        data_file("npy/i2_fortran_3d.npy").string() + ": expected a table (a 2-d array), found 3 dimensions");
  CHECK(error(data_file("README.md"), {.coords = {0}, .targets = {1}}) ==
        data_file("README.md").string() + ": unsupported file type '.md' (expected .npy, .npz or .csv)");
  CHECK(error(data_file("csv/ragged.csv"), {.coords = {0}, .targets = {1}}) ==
        data_file("csv/ragged.csv").string() + ": line 3, column 3: expected 3 columns, found 2");
  CHECK(error(data_file("csv/absent.csv"), {.coords = {0}, .targets = {1}})
            .starts_with(data_file("csv/absent.csv").string()));
}

TEST_CASE("an npz written by numpy with a 'columns' string array is read with its column names") {
  for (const char* name : {"npz/named_columns.npz", "npz/named_columns_compressed.npz"}) {
    CAPTURE(name);
    const nif::Table table = nif::read_table(data_file(name));
    CHECK(table.names == std::vector<std::string>{"t", "x", "u", "area"});
    REQUIRE(table.values.rows() == 12);
    REQUIRE(table.values.cols() == 4);
    CHECK(table.values(5, 0) == 0.5f);
    CHECK(table.values(5, 1) == 0.25f);
    nif::ColumnSelection by_name;
    by_name.params = {"t"};
    by_name.coords = {"x"};
    by_name.targets = {"u"};
    by_name.weight = "area";
    const nif::PointDataset named = nif::load_points(data_file(name), by_name);
    const nif::PointDataset indexed =
        nif::load_points(data_file(name), {.params = {0}, .coords = {1}, .targets = {2}, .weight = 3});
    CHECK(bit_mismatches(named.coords, indexed.coords) == 0);
    CHECK(bit_mismatches(named.targets, indexed.targets) == 0);
    CHECK(bit_mismatches(named.weights, indexed.weights) == 0);
  }
}

TEST_CASE("npz tables: member selection, no table, several tables, unknown names and values beyond float") {
  const auto error = [](const std::string& file, const nif::ColumnSelection& columns) {
    return error_of<nn::FileError>([&] { nif::load_points(file, columns); });
  };
  const std::string each = data_file("npz/one_array_each.npz").string();
  CHECK(error(each, nif::Columns{.coords = {0}, .targets = {1}}) ==
        each + ": no 2-d numeric arrays, choose one as " + each + ":MEMBER (arrays: t (12) <f4, x (12) <f4, u (12) <f4)");
  const nif::Table u = nif::read_table(each + ":u");
  CHECK(u.values.rows() == 12);
  CHECK(u.values.cols() == 1);
  const std::string two = data_file("npz/two_tables.npz").string();
  CHECK(error(two, nif::Columns{.coords = {0}, .targets = {1}}).find("several 2-d numeric arrays") != std::string::npos);
  CHECK(nif::read_table(two + ":test").values(0, 2) == nif::read_table(two + ":train").values(0, 2) * 2);
  CHECK(error(two + ":validation", nif::Columns{.coords = {0}, .targets = {1}}) ==
        two + ": has no array 'validation' (arrays: train (12, 4) <f4, test (4, 4) <f4)");

  const std::string named = data_file("npz/named_columns.npz").string();
  nif::ColumnSelection unknown;
  unknown.coords = {"y"};
  unknown.targets = {"u"};
  CHECK(error(named, unknown) == named + ": no column named 'y' (the columns are t, x, u, area)");
  CHECK(error(two, unknown) == two + ": several 2-d numeric arrays, choose one as " + two +
                                   ":MEMBER (arrays: train (12, 4) <f4, test (4, 4) <f4)");
  CHECK(error(two + ":train", unknown) ==
        two + ":train: column 'y' is not an index, and the table does not name its columns");

  const std::string wide = data_file("npz/beyond_float.npz").string();
  CHECK(error(wide, nif::Columns{.coords = {0}, .targets = {1}}) ==
        wide + "[data.npy]: row 2, column 1: value 1e+300 is beyond float range");
}

TEST_CASE("parse_column_list splits names and indices and refuses empty items") {
  CHECK(nif::parse_column_list("x, y") == std::vector<std::string>{"x", "y"});
  CHECK(nif::parse_column_list("0") == std::vector<std::string>{"0"});
  CHECK_THROWS_AS(nif::parse_column_list("x,,y"), std::invalid_argument);
  CHECK_THROWS_AS(nif::parse_column_list(""), std::invalid_argument);
}
