#include "nif/data.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "nif/csv.hpp"
#include "nn/files.hpp"
#include "nn/npy.hpp"
#include "nn/text.hpp"

namespace nif {

namespace fs = std::filesystem;

namespace {

/// a·b rounded on its own. The volatile store keeps the compiler from fusing the product into
/// a following addition (GCC contracts a·b + c into an FMA by default in C++ on FMA targets);
/// numpy rounds every operation, and the seed's numbers depend on that.
template <class T>
T unfused_product(T a, T b) {
  volatile T product = a * b;
  return product;
}

template <class E, std::size_t N>
using NameTable = std::array<std::pair<std::string_view, E>, N>;

template <class E, std::size_t N>
E parse_name(std::string_view text, const NameTable<E, N>& names, std::string_view what) {
  for (const auto& [name, value] : names)
    if (name == text) return value;
  std::string accepted;
  for (const auto& entry : names) accepted += (accepted.empty() ? "'" : ", '") + std::string(entry.first) + "'";
  throw std::invalid_argument(fmt::format("nif: unknown {} '{}' (expected {})", what, text, accepted));
}

template <class E, std::size_t N>
std::string_view name_of(E value, const NameTable<E, N>& names) {
  return std::find_if(names.begin(), names.end(), [&](const auto& entry) { return entry.second == value; })->first;
}

constexpr NameTable<WaveCase, 2> wave_case_names{
    {{"low-frequency", WaveCase::low_frequency}, {"high-frequency", WaveCase::high_frequency}}};
constexpr NameTable<Normalization, 3> normalization_names{
    {{"none", Normalization::none}, {"standard", Normalization::standard}, {"minmax", Normalization::minmax}}};

// ---------------------------------------------------------------------------------------------
// Tables

/// The first thing wrong with splitting `table` by `columns`, or "" when nothing is.
/// Cells are named "row R, column C" (0-based), R counted from `first_row` (where `table` starts
/// in its file).
std::string table_problem(TableView table, const Columns& columns, Index first_row = 0);

/// The first thing wrong with `columns` of a table of `table_columns` columns, or "".
std::string column_problem(Index table_columns, const Columns& columns) {
  if (columns.coords.empty()) return "no coordinate column selected";
  if (columns.targets.empty()) return "no target column selected";
  std::vector<std::string_view> role(static_cast<std::size_t>(table_columns));
  auto claim = [&](Index column, std::string_view what) -> std::string {
    if (column < 0 || column >= table_columns)
      return fmt::format("{} column {} is out of range (the table has {} columns)", what, column, table_columns);
    std::string_view& owner = role[static_cast<std::size_t>(column)];
    if (!owner.empty()) return fmt::format("column {} is selected twice (as {} and as {})", column, owner, what);
    owner = what;
    return {};
  };
  const std::size_t derivatives = columns.targets.size() * columns.coords.size();
  if (!columns.derivatives.empty() && columns.derivatives.size() != derivatives)
    return fmt::format("{} derivative columns for {} target(s) and {} coordinate(s): expected {}, ∂u_o/∂x_j with o major",
                       columns.derivatives.size(), columns.targets.size(), columns.coords.size(), derivatives);
  for (const auto& [list, what] : {std::pair{&columns.params, "params"}, std::pair{&columns.coords, "coords"},
                                   std::pair{&columns.targets, "targets"}, std::pair{&columns.derivatives, "derivatives"}})
    for (const Index column : *list)
      if (std::string problem = claim(column, what); !problem.empty()) return problem;
  if (columns.weight >= 0) return claim(columns.weight, "weight");
  return {};
}

std::string table_problem(TableView table, const Columns& columns, Index first_row) {
  if (std::string problem = column_problem(table.cols(), columns); !problem.empty()) return problem;
  if (table.rows() == 0) return "the table has no rows";
  std::vector<Index> used = columns.params;
  used.insert(used.end(), columns.coords.begin(), columns.coords.end());
  used.insert(used.end(), columns.targets.begin(), columns.targets.end());
  used.insert(used.end(), columns.derivatives.begin(), columns.derivatives.end());
  if (columns.weight >= 0) used.push_back(columns.weight);
  for (Index r = 0; r < table.rows(); ++r)
    for (const Index c : used) {
      const float v = table(r, c);
      if (std::isnan(v)) return fmt::format("row {}, column {}: value is NaN", first_row + r, c);
      if (std::isinf(v)) return fmt::format("row {}, column {}: value is {}Inf", first_row + r, c, v < 0 ? "-" : "+");
      if (c == columns.weight && v < 0) return fmt::format("row {}, column {}: negative weight {}", first_row + r, c, v);
    }
  return {};
}

/// The columns `indices` of `table`, in that order, into `out` (its storage reused when the size is the same).
void select_columns(TableView table, const std::vector<Index>& indices, ad::Matrix<float>& out) {
  out.resize(table.rows(), static_cast<Index>(indices.size()));
  for (std::size_t k = 0; k < indices.size(); ++k) out.col(static_cast<Index>(k)) = table.col(indices[k]);
}

void split_table(TableView table, const Columns& columns, PointDataset& out) {
  select_columns(table, columns.params, out.params);
  select_columns(table, columns.coords, out.coords);
  select_columns(table, columns.targets, out.targets);
  select_columns(table, columns.derivatives, out.derivatives);
  if (columns.weight >= 0) select_columns(table, {columns.weight}, out.weights);
  else out.weights.resize(0, 0);
}

PointDataset split_table(TableView table, const Columns& columns) {
  PointDataset data;
  split_table(table, columns, data);
  return data;
}

/// The array as a float table. A double beyond float's range would silently become infinite; it
/// is refused naming its cell instead (only doubles can exceed it: 2^64 is far below).
ad::Matrix<float> table_of(const nn::NpyArray& array, const std::string& what) {
  if (array.shape.size() > 2)
    throw nn::FileError(what, fmt::format("expected a table (a 2-d array), found {} dimensions", array.shape.size()));
  ad::Matrix<float> table = array.to_matrix<float>();
  if (array.dtype != nn::DType::f8) return table;
  for (Index r = 0; r < table.rows(); ++r)
    for (Index c = 0; c < table.cols(); ++c) {
      if (!std::isinf(table(r, c))) continue;
      double source = 0;
      std::memcpy(&source, array.data.data() + (r * table.cols() + c) * sizeof(double), sizeof(double));
      if (std::isfinite(source))
        throw nn::FileError(what, fmt::format("row {}, column {}: value {} is beyond float range", r, c, source));
    }
  return table;
}

std::string lowercase_extension(const fs::path& file) {
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

}  // namespace

std::pair<fs::path, std::string> split_member(const fs::path& spec) {
  const std::string text = spec.string();
  const auto colon = text.rfind(':');
  std::error_code ec;
  if (colon == std::string::npos || fs::exists(spec, ec)) return {spec, {}};
  const fs::path file = text.substr(0, colon);
  if (lowercase_extension(file) != ".npz") return {spec, {}};
  return {file, text.substr(colon + 1)};
}

namespace {

constexpr std::string_view kNpySuffix = ".npy";
// A few hundred bytes in practice; the bound keeps a forged member from costing memory.
constexpr std::uint64_t kMaxColumnNamesBytes = 1 << 20;

/// Every array of the archive as "name (shape) dtype", for messages.
std::string list_arrays(const nn::ZipArchive& zip, const std::vector<std::string>& keys) {
  std::vector<std::string> arrays;
  for (const std::string& key : keys) {
    const nn::NpyHeaderInfo h = zip.npy_header(key + std::string(kNpySuffix));
    arrays.push_back(fmt::format("{} ({}) {}", key, fmt::join(h.shape, ", "), h.descr));
  }
  return fmt::format("{}", fmt::join(arrays, ", "));
}

/// The member `member` of the archive, or the one 2-d numeric array when `member` is empty.
std::string choose_array(const nn::ZipArchive& zip, const std::string& member, const fs::path& file) {
  std::vector<std::string> keys, tables;
  for (const std::string& name : zip.names()) {
    if (!name.ends_with(kNpySuffix)) continue;
    keys.push_back(name.substr(0, name.size() - kNpySuffix.size()));
    const nn::NpyHeaderInfo h = zip.npy_header(name);
    if (h.is_numeric() && h.shape.size() == 2) tables.push_back(keys.back());
  }
  if (keys.empty()) throw nn::FileError(file, "the archive holds no arrays");
  if (!member.empty()) {
    if (std::find(keys.begin(), keys.end(), member) == keys.end())
      throw nn::FileError(file, fmt::format("has no array '{}' (arrays: {})", member, list_arrays(zip, keys)));
    return member;
  }
  if (tables.size() == 1) return tables.front();
  throw nn::FileError(file, fmt::format("{} 2-d numeric arrays, choose one as {}:MEMBER (arrays: {})",
                                        tables.empty() ? "no" : "several", file.string(), list_arrays(zip, keys)));
}

/// Which member of an .npz holds the table ("data.npy") and what its columns are called.
struct NpzTable {
  std::string member;
  std::vector<std::string> names;
};

/// The member `member` names (or the one 2-d numeric array) and the `columns` member's names
/// when there is one, checked against the chosen array's column count.
NpzTable find_npz_table(const nn::ZipArchive& zip, const std::string& member, const fs::path& file) {
  NpzTable table{choose_array(zip, member, file) + std::string(kNpySuffix), {}};
  const std::string names = "columns" + std::string(kNpySuffix);
  const nn::ZipArchive::Entry* entry = zip.find(names);
  if (entry == nullptr || table.member == names) return table;
  if (entry->size > kMaxColumnNamesBytes)
    throw nn::FileError(zip.member_label(names), fmt::format("{} bytes of column names, more than the {} accepted",
                                                             entry->size, kMaxColumnNamesBytes));
  table.names = nn::parse_npy_strings(zip.member(names), zip.member_label(names));
  const std::vector<std::int64_t> shape = zip.npy_header(table.member).shape;
  const std::int64_t columns = shape.size() == 2 ? shape[1] : 1;
  if (static_cast<std::int64_t>(table.names.size()) != columns)
    throw nn::FileError(zip.member_label(names),
                        fmt::format("{} column names for the {} columns of '{}'", table.names.size(), columns, table.member));
  return table;
}

Table read_npz_table(const fs::path& file, const std::string& member) {
  const nn::ZipArchive zip = nn::ZipArchive::open(file);
  NpzTable found = find_npz_table(zip, member, file);
  return {table_of(nn::parse_npy(zip.member(found.member), zip.member_label(found.member)), zip.member_label(found.member)),
          std::move(found.names)};
}

/// The table of `file` ("FILE.npz:MEMBER") opened for reading in parts, and its column names.
std::pair<nn::NpyRowFile, std::vector<std::string>> open_row_file(const fs::path& spec) {
  const auto [file, member] = split_member(spec);
  const std::string extension = lowercase_extension(file);
  if (extension == ".npy") return {nn::NpyRowFile(nn::RandomAccessFile(file)), std::vector<std::string>{}};
  if (extension != ".npz")
    throw nn::FileError(file, fmt::format("a '{}' file cannot be read in parts (--memory-budget needs .npy or .npz)", extension));
  nn::RandomAccessFile archive(file);
  const nn::RandomAccessFile::Mapping mapping = archive.map();
  const nn::ZipArchive zip = nn::ZipArchive::view(mapping.bytes(), file.string());
  NpzTable found = find_npz_table(zip, member, file);
  return {nn::NpyRowFile(std::move(archive), zip, found.member), std::move(found.names)};
}

/// Index `item` names among `names`: a decimal index, else a column name.
Index resolve_column(const std::string& item, const std::vector<std::string>& names) {
  if (!item.empty() && std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    Index value = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc()) throw std::invalid_argument(fmt::format("column index {} is out of range", item));
    return value;
  }
  if (names.empty())
    throw std::invalid_argument(fmt::format("column '{}' is not an index, and the table does not name its columns", item));
  const auto first = std::find(names.begin(), names.end(), item);
  if (first == names.end())
    throw std::invalid_argument(fmt::format("no column named '{}' (the columns are {})", item, fmt::join(names, ", ")));
  if (std::find(first + 1, names.end(), item) != names.end())
    throw std::invalid_argument(fmt::format("several columns are named '{}'; give its index", item));
  return first - names.begin();
}

// ---------------------------------------------------------------------------------------------
// Statistics, in numpy's float32 axis-0 arithmetic (see Normalizer)

std::vector<float> column_means(const ad::Matrix<float>& m) {
  std::vector<float> sum(static_cast<std::size_t>(m.cols()), 0.0f);
  for (Index r = 0; r < m.rows(); ++r)
    for (Index c = 0; c < m.cols(); ++c) sum[static_cast<std::size_t>(c)] += m(r, c);
  const auto n = static_cast<float>(m.rows());
  for (float& s : sum) s /= n;
  return sum;
}

std::vector<float> column_stds(const ad::Matrix<float>& m, const std::vector<float>& mean) {
  std::vector<float> sum(mean.size(), 0.0f);
  for (Index r = 0; r < m.rows(); ++r)
    for (std::size_t c = 0; c < mean.size(); ++c) {
      const float deviation = m(r, static_cast<Index>(c)) - mean[c];
      sum[c] += unfused_product(deviation, deviation);
    }
  const auto n = static_cast<float>(m.rows());
  for (float& s : sum) s = std::sqrt(s / n);
  return sum;
}

ColumnScaling identity_scaling(std::size_t columns) { return {std::vector<float>(columns, 0.0f), std::vector<float>(columns, 1.0f)}; }

/// mean = (min+max)/2, scale = (max−min)/2: the column spans [−1, 1].
ColumnScaling range_scaling(const ColumnStatistics& s) {
  ColumnScaling scaling;
  for (std::size_t c = 0; c < s.min.size(); ++c) {
    scaling.mean.push_back((s.min[c] + s.max[c]) / 2);
    scaling.scale.push_back((s.max[c] - s.min[c]) / 2);
  }
  return scaling;
}

/// Refuses scales that would divide by zero or spread NaN; `block` names the columns.
void check_scales(const ColumnScaling& s, std::string_view block) {
  for (std::size_t c = 0; c < s.scale.size(); ++c) {
    if (s.scale[c] == 0)
      throw std::invalid_argument(fmt::format("nif::Normalizer: {} column {} is constant (scale 0)", block, c));
    if (!std::isfinite(s.scale[c]) || !std::isfinite(s.mean[c]) || s.scale[c] < 0)
      throw std::invalid_argument(
          fmt::format("nif::Normalizer: {} column {} has mean {} and scale {}", block, c, s.mean[c], s.scale[c]));
  }
}

Eigen::Map<const Eigen::RowVectorXf> row_of(const std::vector<float>& v) {
  return {v.data(), static_cast<Index>(v.size())};
}

nlohmann::json scaling_to_json(const ColumnScaling& s) { return {{"mean", s.mean}, {"scale", s.scale}}; }

/// Throws unless `json` is an object whose keys are exactly `keys`.
void expect_keys(const nlohmann::json& json, std::initializer_list<std::string_view> keys, std::string_view where) {
  if (!json.is_object())
    throw std::invalid_argument(fmt::format("nif::normalizer_from_json: {} is not an object", where));
  for (const std::string_view key : keys)
    if (!json.contains(key))
      throw std::invalid_argument(fmt::format("nif::normalizer_from_json: {} lacks key '{}'", where, key));
  for (const auto& item : json.items())
    if (std::find(keys.begin(), keys.end(), item.key()) == keys.end())
      throw std::invalid_argument(fmt::format("nif::normalizer_from_json: {} has unknown key '{}'", where, item.key()));
}

ColumnScaling scaling_from_json(const nlohmann::json& json, std::string_view block) {
  expect_keys(json, {"mean", "scale"}, block);
  ColumnScaling s{json["mean"].get<std::vector<float>>(), json["scale"].get<std::vector<float>>()};
  if (s.mean.size() != s.scale.size())
    throw std::invalid_argument(
        fmt::format("nif::normalizer_from_json: {} has {} means but {} scales", block, s.mean.size(), s.scale.size()));
  check_scales(s, block);
  return s;
}

Table read_table_file(const fs::path& spec) {
  const auto [file, member] = split_member(spec);
  const std::string extension = lowercase_extension(file);
  if (extension == ".csv") {
    CsvTable csv = read_csv_table(file);
    if (!csv.header.empty() && static_cast<Index>(csv.header.size()) != csv.values.cols()) csv.header.clear();
    return {std::move(csv.values), std::move(csv.header)};
  }
  if (extension == ".npy") return {table_of(nn::read_npy(file), file.string()), {}};
  if (extension == ".npz") return read_npz_table(file, member);
  throw nn::FileError(file, "unsupported file type '" + extension + "' (expected .npy, .npz or .csv)");
}

}  // namespace

Table read_table(const fs::path& spec) {
  try {
    return read_table_file(spec);
  } catch (const std::bad_alloc&) {
    throw std::runtime_error(spec.string() + ": out of memory loading the table");
  }
}

ColumnSelection::ColumnSelection(const Columns& indices) : weight(indices.weight >= 0 ? std::to_string(indices.weight) : "") {
  for (const auto& [from, to] : {std::pair{&indices.params, &params}, std::pair{&indices.coords, &coords},
                                 std::pair{&indices.targets, &targets}, std::pair{&indices.derivatives, &derivatives}})
    for (const Index i : *from) to->push_back(std::to_string(i));
}

Columns ColumnSelection::resolve(const std::vector<std::string>& names) const {
  Columns columns;
  for (const auto& [from, to] : {std::pair{&params, &columns.params}, std::pair{&coords, &columns.coords},
                                 std::pair{&targets, &columns.targets}, std::pair{&derivatives, &columns.derivatives}})
    for (const std::string& item : *from) to->push_back(resolve_column(item, names));
  if (!weight.empty()) columns.weight = resolve_column(weight, names);
  return columns;
}

std::vector<std::string> parse_column_list(std::string_view text) {
  std::vector<std::string> items = nn::split(text);
  for (std::string& item : items) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) throw std::invalid_argument(fmt::format("'{}' holds an empty column (expected e.g. 0,1 or x,y)", text));
  }
  return items;
}

// ---------------------------------------------------------------------------------------------

WaveCase parse_wave_case(std::string_view name) { return parse_name(name, wave_case_names, "wave case"); }
std::string_view name(WaveCase wave_case) { return name_of(wave_case, wave_case_names); }

Normalization parse_normalization(std::string_view name) {
  return parse_name(name, normalization_names, "normalization");
}
std::string_view name(Normalization normalization) { return name_of(normalization, normalization_names); }

Normalization default_normalization(WaveCase wave_case) {
  return wave_case == WaveCase::low_frequency ? Normalization::standard : Normalization::minmax;
}

ad::Matrix<float> traveling_wave(WaveCase wave_case, int snapshots, int points) {
  if (snapshots < 1 || points < 1) throw std::invalid_argument("traveling_wave: the grid needs at least one snapshot and one point");
  constexpr double x0 = 0.2;
  constexpr double speed = 0.006;
  const double omega = wave_case == WaveCase::low_frequency ? 4.0 : 400.0;
  // linspace(start, stop, num, endpoint=False) is start + k·step with step = (stop − start)/num.
  const double dt = 100.0 / snapshots;
  const double dx = 1.0 / points;
  ad::Matrix<float> table(Index(snapshots) * points, 3);
  for (int i = 0; i < snapshots; ++i) {
    const double t = unfused_product(static_cast<double>(i), dt);
    const double shift = unfused_product(speed, t);
    for (int j = 0; j < points; ++j) {
      const double x = unfused_product(static_cast<double>(j), dx);
      const double s = (x - x0) - shift;
      const double envelope = std::exp(unfused_product(-1000.0, unfused_product(s, s)));
      const double u = envelope * std::sin(unfused_product(omega, s));
      table.row(Index(i) * points + j) << static_cast<float>(t), static_cast<float>(x), static_cast<float>(u);
    }
  }
  return table;
}

Columns traveling_wave_columns() { return {.params = {0}, .coords = {1}, .targets = {2}}; }

PointDataset from_table(TableView table, const Columns& columns) {
  if (const std::string problem = table_problem(table, columns); !problem.empty())
    throw std::invalid_argument("nif::from_table: " + problem);
  return split_table(table, columns);
}

NamedPoints load_named_points(const fs::path& file, const ColumnSelection& selection) {
  Table table = read_table(file);
  Columns columns;
  try {
    columns = selection.resolve(table.names);
  } catch (const std::invalid_argument& e) {
    throw nn::FileError(file, e.what());
  }
  if (const std::string problem = table_problem(table.values, columns); !problem.empty()) throw nn::FileError(file, problem);
  return {split_table(table.values, columns), columns, std::move(table.names)};
}

PointDataset load_points(const fs::path& file, const ColumnSelection& selection) {
  return load_named_points(file, selection).points;
}

PointFile::PointFile(const fs::path& file, const ColumnSelection& selection) : PointFile(open_row_file(file), selection) {}

PointFile::PointFile(std::pair<nn::NpyRowFile, std::vector<std::string>> opened, const ColumnSelection& selection)
    : table_(std::move(opened.first)), names_(std::move(opened.second)) {
  try {
    columns_ = selection.resolve(names_);
  } catch (const std::invalid_argument& e) {
    throw nn::FileError(table_.what(), e.what());
  }
  // The values are checked part by part as they are read.
  if (const std::string problem = column_problem(table_.cols(), columns_); !problem.empty())
    throw nn::FileError(table_.what(), problem);
  if (table_.rows() == 0) throw nn::FileError(table_.what(), "the table has no rows");
}

Index PointFile::point_bytes() const {
  const auto floats = columns_.params.size() + columns_.coords.size() + columns_.targets.size() + columns_.derivatives.size() +
                      (columns_.weight >= 0 ? 1 : 0);
  return static_cast<Index>(floats * sizeof(float));
}

void PointFile::read(Index first, Index count, PointDataset& out) {
  table_.read(first, count, block_);
  if (const std::string problem = table_problem(block_, columns_, first); !problem.empty())
    throw nn::FileError(table_.what(), problem);
  split_table(block_, columns_, out);
}

// ---------------------------------------------------------------------------------------------

ad::Matrix<float> ColumnScaling::normalize(const ad::Matrix<float>& values) const {
  ad::Matrix<float> out = values;
  normalize_in_place(out);
  return out;
}

void ColumnScaling::normalize_in_place(ad::Matrix<float>& values) const {
  if (values.cols() != size())
    throw std::invalid_argument(
        fmt::format("nif::ColumnScaling::normalize: {} columns, the statistics have {}", values.cols(), size()));
  values = ((values.rowwise() - row_of(mean)).array().rowwise() / row_of(scale).array()).matrix();
}

ad::Matrix<float> ColumnScaling::denormalize(const ad::Matrix<float>& normalized) const {
  if (normalized.cols() != size())
    throw std::invalid_argument(
        fmt::format("nif::ColumnScaling::denormalize: {} columns, the statistics have {}", normalized.cols(), size()));
  return (normalized.array().rowwise() * row_of(scale).array()).matrix().rowwise() + row_of(mean);
}

ColumnStatistics ColumnStatistics::of(const ad::Matrix<float>& m, bool with_deviation) {
  ColumnStatistics s;
  s.mean = column_means(m);
  if (with_deviation) s.deviation = column_stds(m, s.mean);
  for (Index c = 0; c < m.cols(); ++c) {
    s.min.push_back(m.col(c).minCoeff());
    s.max.push_back(m.col(c).maxCoeff());
    s.peak.push_back(m.col(c).cwiseAbs().maxCoeff());
  }
  return s;
}

Normalizer Normalizer::fit(const PointDataset& data, Normalization kind) {
  if (data.size() == 0) throw std::invalid_argument("nif::Normalizer::fit: empty dataset");
  const bool deviation = kind == Normalization::standard;
  DatasetStatistics statistics{ColumnStatistics::of(data.params, deviation), ColumnStatistics::of(data.coords, deviation),
                               ColumnStatistics::of(data.targets, deviation), data.weighted(), 0};
  if (data.weighted()) statistics.weight_mean = column_means(data.weights).front();
  return from_statistics(statistics, kind);
}

Normalizer Normalizer::from_statistics(const DatasetStatistics& statistics, Normalization kind) {
  Normalizer n;
  n.kind = kind;
  const auto scaling = [kind](const ColumnStatistics& s, bool peak) -> ColumnScaling {
    switch (kind) {
      case Normalization::none: return identity_scaling(s.mean.size());
      case Normalization::standard: return {s.mean, s.deviation};
      case Normalization::minmax: return peak ? ColumnScaling{s.mean, s.peak} : range_scaling(s);
    }
    throw std::invalid_argument("nif::Normalizer: invalid normalization");
  };
  n.params = scaling(statistics.params, false);
  n.coords = scaling(statistics.coords, false);
  n.targets = scaling(statistics.targets, true);
  check_scales(n.params, "params");
  check_scales(n.coords, "coords");
  check_scales(n.targets, "targets");
  if (statistics.weighted) {
    n.weight_scale = statistics.weight_mean;
    if (!(n.weight_scale > 0) || !std::isfinite(n.weight_scale))
      throw std::invalid_argument(fmt::format("nif::Normalizer::fit: the weights average {}", n.weight_scale));
  }
  return n;
}

PointDataset Normalizer::apply(const PointDataset& data) const {
  PointDataset out = data;
  apply_in_place(out);
  return out;
}

void Normalizer::apply_in_place(PointDataset& data) const {
  params.normalize_in_place(data.params);
  coords.normalize_in_place(data.coords);
  targets.normalize_in_place(data.targets);
  if (data.weighted()) data.weights /= weight_scale;
}

nlohmann::json to_json(const Normalizer& normalizer) {
  return {{"kind", name(normalizer.kind)},
          {"params", scaling_to_json(normalizer.params)},
          {"coords", scaling_to_json(normalizer.coords)},
          {"targets", scaling_to_json(normalizer.targets)},
          {"weight_scale", normalizer.weight_scale}};
}

Normalizer normalizer_from_json(const nlohmann::json& json) {
  try {
    expect_keys(json, {"kind", "params", "coords", "targets", "weight_scale"}, "the normalizer");
    Normalizer n;
    n.kind = parse_normalization(json["kind"].get<std::string>());
    n.params = scaling_from_json(json["params"], "params");
    n.coords = scaling_from_json(json["coords"], "coords");
    n.targets = scaling_from_json(json["targets"], "targets");
    n.weight_scale = json["weight_scale"].get<float>();
    if (!(n.weight_scale > 0) || !std::isfinite(n.weight_scale))
      throw std::invalid_argument(fmt::format("nif::normalizer_from_json: weight_scale {}", n.weight_scale));
    return n;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("nif::normalizer_from_json: ") + e.what());
  }
}

}  // namespace nif
