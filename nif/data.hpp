#pragma once
// Point-wise data: every sample is one point (parameters p, coordinates x, targets u, optional
// weight w), as NIF trains on them; the traveling-wave generator of the seed study; and the
// normalisations of upstream NIF (column statistics that map predictions back to physical units).

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "autodiff/tape.hpp"
#include "nn/npy.hpp"

namespace nif {

using ad::Index;

/// N points, one per row of every matrix.
struct PointDataset {
  ad::Matrix<float> params;   ///< N x P: ParameterNet inputs (e.g. t)
  ad::Matrix<float> coords;   ///< N x D: ShapeNet inputs (e.g. x)
  ad::Matrix<float> targets;  ///< N x O: fields at the points (e.g. u)
  ad::Matrix<float> weights;  ///< N x 1 loss weights (cell area or volume), or 0 x 0 when unweighted
  /// N x (O·D) target derivatives ∂u_o/∂x_j in column o·D + j, or no columns. Always in physical
  /// units: Normalizer::apply leaves them as they are (the Sobolev loss term maps them).
  ad::Matrix<float> derivatives;

  /// Number of points N.
  Index size() const { return coords.rows(); }
  bool weighted() const { return weights.size() > 0; }
};

// ---------------------------------------------------------------------------------------------
// Traveling wave (seed study)

enum class WaveCase { low_frequency, high_frequency };

/// "low-frequency" or "high-frequency"; anything else → std::invalid_argument listing both.
WaveCase parse_wave_case(std::string_view name);
std::string_view name(WaveCase wave_case);

/// The seed's 2000 x 3 table of columns (t, x, u): t = 10·i (i < 10), x = j·0.005 (j < 200),
/// row 200·i + j, u = exp(−1000·s²)·sin(ω·s) with s = x − 0.2 − 0.006·t, ω = 4 (low) or 400
/// (high). Computed in double exactly as numpy evaluates it (linspace's x = j·step, every
/// operation rounded separately, no fused multiply-add), then rounded to float, so it equals
/// the seed's traveling_wave.npz / traveling_wave_high_freq.npz bit for bit. Other grids
/// (`snapshots` times t = (100/snapshots)·i, `points` positions x = j/points) make larger tables
/// of the same wave, e.g. for throughput at large batches.
ad::Matrix<float> traveling_wave(WaveCase wave_case, int snapshots = 10, int points = 200);

// ---------------------------------------------------------------------------------------------
// Tables to datasets

/// Which table columns (0-based) hold what. Params may be empty; `weight` < 0 means unweighted.
/// Derivatives, when given, are O·D columns: ∂u_o/∂x_j for each target o and coordinate j, o major.
struct Columns {
  std::vector<Index> params = {};
  std::vector<Index> coords = {};
  std::vector<Index> targets = {};
  Index weight = -1;
  std::vector<Index> derivatives = {};
};

/// The traveling-wave layout: t → params, x → coords, u → targets.
Columns traveling_wave_columns();

/// A read-only table of points (a matrix, or a view of memory owned elsewhere, e.g. a numpy array).
using TableView = Eigen::Ref<const ad::Matrix<float>>;

/// Columns as a user names them: each item is a 0-based index ("2") or a column name ("u") of
/// a table whose columns are named (a CSV header, an .npz `columns` member). Converts from
/// Columns (indices).
struct ColumnSelection {
  std::vector<std::string> params = {};
  std::vector<std::string> coords = {};
  std::vector<std::string> targets = {};
  std::string weight = {};  ///< empty: unweighted
  std::vector<std::string> derivatives = {};  ///< ∂u_o/∂x_j, o major (see Columns)

  ColumnSelection() = default;
  ColumnSelection(const Columns& indices);  // NOLINT(google-explicit-constructor): indices are a selection

  /// The indices these items denote in a table with `names` (empty: the table has no names, so
  /// only indices are accepted). Throws std::invalid_argument naming an unknown or ambiguous
  /// name and listing the table's names. Range checks are left to from_table.
  Columns resolve(const std::vector<std::string>& names) const;
};

/// Splits "x,y" or "0,1" into its items; std::invalid_argument when an item is empty.
std::vector<std::string> parse_column_list(std::string_view text);

/// A table of points and, when the file names them, its column names (one per column).
struct Table {
  ad::Matrix<float> values;
  std::vector<std::string> names;
};

/// Splits `table` into a dataset. Throws std::invalid_argument (one line, naming the column or
/// the cell as "row R, column C", 0-based) when a column is out of range or used twice, when
/// there is no coordinate or no target column, when the derivative columns are not O·D, when
/// the table has no rows, when a used cell is NaN or infinite, or when a weight is negative.
PointDataset from_table(TableView table, const Columns& columns);

/// "FILE.npz:MEMBER" split into the file and the member ("" when none is given). A path that
/// exists as written is a file, whatever colons it holds.
std::pair<std::filesystem::path, std::string> split_member(const std::filesystem::path& spec);

/// The table stored in `file`, chosen by its extension: `.npy`, `.csv` (column names from its
/// header) or `.npz`. In an .npz, `FILE.npz:MEMBER` picks the array MEMBER; without it the one
/// 2-d numeric array is used, and none or several are refused listing the members. A 1-d string
/// array `columns` (np.array(["t", "x", "u"])) names the columns. Only the chosen array and
/// `columns` are inflated. Arrays of any numeric dtype are converted to float; a finite value
/// beyond float's range is refused naming its row and column. Throws nn::FileError
/// "<file>: <problem>".
Table read_table(const std::filesystem::path& file);

/// Reads a point table (see read_table) and splits it with from_table, columns given by index
/// or by name. Every problem, including from_table's, throws nn::FileError "<file>: <problem>",
/// e.g. "data.csv: row 17, column 3: value is NaN" (rows and columns 0-based, header not counted).
PointDataset load_points(const std::filesystem::path& file, const ColumnSelection& columns);

/// Points read from a file with the columns the selection resolved to and the file's column
/// names (empty when it names none).
struct NamedPoints {
  PointDataset points;
  Columns columns;
  std::vector<std::string> names;
};

/// load_points, also telling which columns were used and what the file calls its columns.
NamedPoints load_named_points(const std::filesystem::path& file, const ColumnSelection& columns);

/// load_points with the columns given by index.
inline PointDataset load_points(const std::filesystem::path& file, const Columns& columns) {
  return load_points(file, ColumnSelection(columns));
}

/// A point table on disk read part by part, for files larger than memory: a .npy file, or an
/// array of an .npz that numpy.savez stored (compressed members would have to be inflated from
/// their start). Columns are chosen as in load_points.
class PointFile {
 public:
  /// Opens `file` ("FILE.npz:MEMBER" as in read_table) and resolves `selection`. nn::FileError
  /// "<file>: <problem>" for anything read_table or from_table refuse before reading values
  /// (unknown or repeated columns, no rows, Fortran order) and for CSV files and compressed members.
  PointFile(const std::filesystem::path& file, const ColumnSelection& selection);

  Index rows() const { return table_.rows(); }
  const Columns& columns() const { return columns_; }
  /// The file's column names (empty when it names none).
  const std::vector<std::string>& names() const { return names_; }
  /// Bytes a point takes in a PointDataset.
  Index point_bytes() const;

  /// Rows [first, first + count) as points in the file's units into `out` (its storage reused),
  /// checked like from_table; nn::FileError names the cell by its row in the file.
  void read(Index first, Index count, PointDataset& out);

 private:
  PointFile(std::pair<nn::NpyRowFile, std::vector<std::string>> opened, const ColumnSelection& selection);

  nn::NpyRowFile table_;
  std::vector<std::string> names_;
  Columns columns_;
  ad::Matrix<float> block_;  ///< the rows being read, all columns
};

// ---------------------------------------------------------------------------------------------
// Normalisation

enum class Normalization { none, standard, minmax };

/// "none", "standard" or "minmax"; anything else → std::invalid_argument listing them.
Normalization parse_normalization(std::string_view name);
std::string_view name(Normalization normalization);

/// The seed's choice: standard for the low-frequency wave, minmax for the high-frequency one.
Normalization default_normalization(WaveCase wave_case);

/// Per-column affine maps v̂ = (v − mean)/scale, evaluated in float like numpy on float32
/// arrays (subtraction rounded, then division rounded).
struct ColumnScaling {
  std::vector<float> mean;
  std::vector<float> scale;

  Index size() const { return static_cast<Index>(mean.size()); }
  /// (v − mean)/scale per column. Throws std::invalid_argument on a column-count mismatch.
  ad::Matrix<float> normalize(const ad::Matrix<float>& values) const;
  /// normalize() in place, for data read part by part into storage that is reused.
  void normalize_in_place(ad::Matrix<float>& values) const;
  /// v̂·scale + mean per column: the inverse of normalize up to rounding.
  ad::Matrix<float> denormalize(const ad::Matrix<float>& normalized) const;
};

/// The per-column statistics a normalisation is made of.
struct ColumnStatistics {
  std::vector<float> mean;
  std::vector<float> deviation;  ///< population standard deviation (ddof 0); empty when not needed
  std::vector<float> min, max;
  std::vector<float> peak;  ///< max |v|

  /// Of the columns of `m` (at least one row), in the seed's float32 arithmetic (see
  /// Normalizer); the deviation only when `with_deviation`.
  static ColumnStatistics of(const ad::Matrix<float>& m, bool with_deviation);
};

/// What Normalizer::fit needs to know of a dataset, however it was computed (in memory here, or
/// in one pass over a file: nif/point_stream.hpp).
struct DatasetStatistics {
  ColumnStatistics params, coords, targets;
  bool weighted = false;
  float weight_mean = 0;  ///< the raw weights' mean when weighted
};

/// The statistics of one dataset that normalise it (and any data in the same units) and map
/// predictions back to physical units.
///
/// Statistics are computed in float with numpy's axis-0 arithmetic on a C-ordered float32
/// table: sums accumulate row by row in float32 (no pairwise summation), the mean is
/// sum/float(N), the population variance (ddof 0) is the float32 sum of the rounded squares of
/// the rounded deviations divided by float(N). That is what the seed computed, so the seed's
/// statistics (e.g. the low-frequency u mean 3.7969415e-12) are reproduced bit for bit.
///
/// Weights (cell areas or volumes; upstream's area_weighted) are divided by their mean over the
/// fitted dataset, whatever the normalisation, so they average 1 there and the weighted loss
/// keeps the scale of the unweighted one.
struct Normalizer {
  Normalization kind = Normalization::none;
  ColumnScaling params;
  ColumnScaling coords;
  ColumnScaling targets;
  float weight_scale = 1;  ///< mean raw weight of the fitted dataset (1 when unweighted)

  /// Statistics of `data` for `kind`:
  ///  * none: mean 0, scale 1;
  ///  * standard: mean and population standard deviation of every column (z-score);
  ///  * minmax: params and coords get mean = (min+max)/2, scale = (max−min)/2, mapping them to
  ///    [−1, 1]; targets get the column mean and scale = max|v| of the raw (uncentred) values.
  /// Throws std::invalid_argument naming the column (e.g. "coords column 1") when its scale is
  /// 0 (a constant column), and when the weights average 0 or the dataset is empty.
  static Normalizer fit(const PointDataset& data, Normalization kind);
  /// The normaliser fit makes of a dataset with these statistics (same errors).
  static Normalizer from_statistics(const DatasetStatistics& statistics, Normalization kind);

  /// `data` normalised: every block mapped by its scaling, weights divided by weight_scale.
  PointDataset apply(const PointDataset& data) const;
  /// apply() in place, for data read part by part into storage that is reused.
  void apply_in_place(PointDataset& data) const;

  ad::Matrix<float> normalize_params(const ad::Matrix<float>& params) const { return this->params.normalize(params); }
  ad::Matrix<float> normalize_coords(const ad::Matrix<float>& coords) const { return this->coords.normalize(coords); }
  ad::Matrix<float> normalize_targets(const ad::Matrix<float>& targets) const {
    return this->targets.normalize(targets);
  }
  /// Predictions in physical units: û·scale + mean.
  ad::Matrix<float> denormalize_targets(const ad::Matrix<float>& normalized) const {
    return targets.denormalize(normalized);
  }
};

/// The statistics as a JSON object, e.g. {"kind": "standard", "params": {"mean": [45.0],
/// "scale": [28.72...]}, "coords": {...}, "targets": {...}, "weight_scale": 1.0}; floats are
/// stored as the doubles equal to them, so normalizer_from_json restores them exactly.
nlohmann::json to_json(const Normalizer& normalizer);

/// Reads what to_json wrote. Throws std::invalid_argument for missing or unknown keys, mean
/// and scale lists of different lengths, and scales that are zero or not finite.
Normalizer normalizer_from_json(const nlohmann::json& json);

}  // namespace nif
