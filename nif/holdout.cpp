#include "nif/holdout.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <stdexcept>

namespace nif {

namespace {

constexpr std::string_view kForms = "every:K, param:NAME=VALUE, file:PATH or points:K";

[[noreturn]] void bad_spec(std::string_view text, std::string_view problem) {
  throw std::invalid_argument(fmt::format("--holdout '{}': {} (expected {})", text, problem, kForms));
}

/// K of every:K / points:K: an integer ≥ 2 (K = 1 would hold out everything).
int parse_every(std::string_view text, std::string_view k) {
  int value = 0;
  const auto [end, error] = std::from_chars(k.data(), k.data() + k.size(), value);
  if (error != std::errc() || end != k.data() + k.size() || k.empty()) bad_spec(text, "K is not an integer");
  if (value < 2) bad_spec(text, "K must be at least 2");
  return value;
}

/// The index into the params of column `name`: a table column name mapped through
/// `columns.params`, or a 0-based index into the params.
Index param_index(const std::string& name, const Columns& columns, const std::vector<std::string>& names) {
  const auto named = std::find(names.begin(), names.end(), name);
  if (named != names.end()) {
    const Index table_column = named - names.begin();
    const auto at = std::find(columns.params.begin(), columns.params.end(), table_column);
    if (at == columns.params.end())
      throw std::invalid_argument(fmt::format("--holdout param:{}: column '{}' is not a ParameterNet input", name, name));
    return at - columns.params.begin();
  }
  Index index = -1;
  const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), index);
  if (error != std::errc() || end != name.data() + name.size() || index < 0 ||
      index >= static_cast<Index>(columns.params.size()))
    throw std::invalid_argument(fmt::format(
        "--holdout param:{}: no such ParameterNet column (give a column name or an index below {})", name,
        columns.params.size()));
  return index;
}

/// Rows r with `test(r)` go to the test part, the others to training.
HoldoutSplit split_by(const PointDataset& data, auto&& test) {
  std::vector<Index> train_rows, test_rows;
  for (Index r = 0; r < data.size(); ++r) (test(r) ? test_rows : train_rows).push_back(r);
  return {select_rows(data, train_rows), select_rows(data, test_rows)};
}

HoldoutSplit split_param(const PointDataset& data, const HoldoutSpec& spec, const Columns& columns,
                         const std::vector<std::string>& names) {
  const Index c = param_index(spec.column, columns, names);
  const auto value = static_cast<float>(spec.value);
  HoldoutSplit split = split_by(data, [&](Index r) { return data.params(r, c) == value; });
  if (split.test.size() == 0) {
    std::vector<float> present;
    for (Index r = 0; r < data.size(); ++r) present.push_back(data.params(r, c));
    std::sort(present.begin(), present.end());
    present.erase(std::unique(present.begin(), present.end()), present.end());
    std::string list;
    for (std::size_t i = 0; i < present.size() && i < 20; ++i) list += fmt::format("{}{}", i ? ", " : "", present[i]);
    if (present.size() > 20) list += fmt::format(", … ({} values)", present.size());
    throw std::invalid_argument(
        fmt::format("--holdout '{}': the value {} is not in the data (present: {})", spec.text, spec.value, list));
  }
  return split;
}

}  // namespace

HoldoutSpec parse_holdout(std::string_view text) {
  HoldoutSpec spec;
  spec.text = std::string(text);
  if (text.empty()) return spec;
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) bad_spec(text, "no ':'");
  const std::string_view form = text.substr(0, colon), rest = text.substr(colon + 1);
  if (form == "every" || form == "points") {
    spec.kind = form == "every" ? HoldoutKind::every : HoldoutKind::points;
    spec.every = parse_every(text, rest);
  } else if (form == "file") {
    if (rest.empty()) bad_spec(text, "no PATH");
    spec.kind = HoldoutKind::file;
    spec.path = std::string(rest);
  } else if (form == "param") {
    const auto equals = rest.find('=');
    if (equals == std::string_view::npos || equals == 0) bad_spec(text, "expected NAME=VALUE");
    spec.kind = HoldoutKind::param;
    spec.column = std::string(rest.substr(0, equals));
    const std::string value(rest.substr(equals + 1));
    std::size_t used = 0;
    try {
      spec.value = std::stod(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != value.size() || !std::isfinite(spec.value)) bad_spec(text, "VALUE is not a number");
  } else {
    bad_spec(text, fmt::format("unknown form '{}'", form));
  }
  return spec;
}

std::vector<Index> snapshot_of_rows(const ad::Matrix<float>& params, std::vector<Index>* first_rows) {
  std::map<std::vector<float>, Index> seen;
  std::vector<Index> snapshot(std::size_t(params.rows()));
  if (first_rows != nullptr) first_rows->clear();
  std::vector<float> key(std::size_t(params.cols()));
  for (Index r = 0; r < params.rows(); ++r) {
    for (Index c = 0; c < params.cols(); ++c) key[std::size_t(c)] = params(r, c);
    const auto [at, inserted] = seen.try_emplace(key, Index(seen.size()));
    if (inserted && first_rows != nullptr) first_rows->push_back(r);
    snapshot[std::size_t(r)] = at->second;
  }
  return snapshot;
}

PointDataset select_rows(const PointDataset& data, const std::vector<Index>& rows) {
  const auto pick = [&](const ad::Matrix<float>& m) {
    ad::Matrix<float> out(Index(rows.size()), m.cols());
    for (std::size_t i = 0; i < rows.size(); ++i) out.row(Index(i)) = m.row(rows[i]);
    return out;
  };
  PointDataset out{pick(data.params), pick(data.coords), pick(data.targets), {}, {}};
  if (data.weighted()) out.weights = pick(data.weights);
  if (data.derivatives.size() > 0) out.derivatives = pick(data.derivatives);
  return out;
}

HoldoutSplit split_holdout(const PointDataset& data, const HoldoutSpec& spec, const Columns& columns,
                           const std::vector<std::string>& names) {
  HoldoutSplit split;
  switch (spec.kind) {
    case HoldoutKind::none: return {data, {}};
    case HoldoutKind::file: return {data, load_points(spec.path, columns)};
    case HoldoutKind::param: split = split_param(data, spec, columns, names); break;
    case HoldoutKind::every: {
      const std::vector<Index> snapshot = snapshot_of_rows(data.params);
      split = split_by(data, [&](Index r) { return (snapshot[std::size_t(r)] + 1) % spec.every == 0; });
      break;
    }
    case HoldoutKind::points: {
      // The position of every row inside its snapshot, counted in file order.
      const std::vector<Index> snapshot = snapshot_of_rows(data.params);
      std::vector<Index> position(snapshot.size()), count;
      for (std::size_t r = 0; r < snapshot.size(); ++r) {
        const auto s = std::size_t(snapshot[r]);
        if (s >= count.size()) count.resize(s + 1, 0);
        position[r] = count[s]++;
      }
      split = split_by(data, [&](Index r) { return (position[std::size_t(r)] + 1) % spec.every == 0; });
      break;
    }
  }
  if (split.test.size() == 0)
    throw std::invalid_argument(fmt::format("--holdout '{}': holds out no data (too few snapshots or points)", spec.text));
  if (split.train.size() == 0) throw std::invalid_argument(fmt::format("--holdout '{}': leaves no training data", spec.text));
  return split;
}

}  // namespace nif
