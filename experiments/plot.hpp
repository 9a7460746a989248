#pragma once
// Figures drawn with cairo: curves (a loss against epochs, a test error against time) and rows of
// true / predicted / error panels of fields, on a (t, x) grid or on scattered 2-D points. Every
// writer chooses the format by the file's extension (.png or .svg) and replaces the file
// atomically; a file that cannot be written throws nn::WriteError naming it, and bad options or
// data throw std::invalid_argument. Sizes are bounded: no side of a figure exceeds max_figure_side.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/tape.hpp"

namespace experiments {

/// Largest width or height of any figure, in pixels.
inline constexpr int max_figure_side = 16384;

// ---- Colours --------------------------------------------------------------------------------

/// An 8-bit sRGB colour.
struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Rgb&, const Rgb&) = default;
};

/// The perceptual sequential map for fields: s = 0 dark blue-violet, through teal and green, to
/// s = 1 light yellow, with lightness (OKLab L) rising linearly in s. s is clamped to [0, 1];
/// NaN counts as 0.
Rgb sequential_colour(double s);

/// The diverging map for errors: s = -1 dark blue, s = 0 white (255, 255, 255), s = +1 dark red,
/// lightness falling linearly with |s| on both sides. s is clamped to [-1, 1]; NaN counts as 0.
Rgb diverging_colour(double s);

/// Panel pixels whose value is NaN or infinite.
inline constexpr Rgb non_finite_colour{90, 90, 90};
/// Panel pixels no data point reaches (e.g. the inside of a cylinder).
inline constexpr Rgb no_data_colour{214, 214, 214};

// ---- Panel figures: rows of true / predicted / error ------------------------------------------

/// A pixel rectangle with top-left corner (x, y).
struct PixelRect {
  int x = 0, y = 0, width = 0, height = 0;
};

/// Where a panel figure puts things. Each row holds three panels of identical size (true,
/// predicted, error = predicted - true), a colour bar for true and predicted after the second
/// and one for the error after the third. Panel pixels are painted exactly: a pixel shows the
/// colour of the one data value drawn there (no blending). Colour bars run from the top of the
/// scale (first pixel row) to its bottom (last pixel row) and are as tall as the panels.
struct PanelsLayout {
  struct Row {
    PixelRect truth, prediction, error, field_bar, error_bar;
  };
  int width = 0, height = 0;  ///< the whole figure
  std::vector<Row> rows;
};

/// A field and its prediction sampled on a (t, x) grid, drawn as one row with t horizontal and
/// x vertical (increasing upwards). Truth and prediction share one sequential colour scale over
/// [min, max] of both; the error has a diverging scale ±max|error|. Degenerate scales are
/// widened (a constant c to c ± |c|/2, or ± 1 for 0). Non-finite values are drawn in
/// non_finite_colour and ignored by the scales.
struct FieldPanels {
  ad::Matrix<float> truth = {};       ///< n_t x n_x: row i is time t[i], column j is position x[j]
  ad::Matrix<float> prediction = {};  ///< n_t x n_x
  std::vector<double> t = {};         ///< n_t strictly increasing, finite
  std::vector<double> x = {};         ///< n_x strictly increasing, finite
  std::string title = {};             ///< figure title (may be empty)
  std::string t_label = "t";
  std::string x_label = "x";
  int panel_width = 300;    ///< pixels of each panel, in [16, 4096], whatever the grid size
  int panel_height = 300;   ///< pixels of each panel, in [16, 4096]
  double font_size = 13;    ///< pixels, in [6, 48]; titles and labels are drawn slightly larger
};

/// The layout of the figure for `panels`; it depends on the options and on the widths of the
/// tick labels. The panels show [t0 - dt0/2, t_last + dt_last/2] (half a cell beyond the first
/// and last sample; ±0.5 for a single sample), likewise for x, and each pixel shows the grid
/// point nearest to its centre. Throws std::invalid_argument on inconsistent shapes,
/// coordinates that are not strictly increasing and finite, or sizes out of range.
PanelsLayout field_panels_layout(const FieldPanels& panels);

/// Writes the field figure (PNG or SVG by the extension).
void write_field_panels(const std::filesystem::path& file, const FieldPanels& panels);

/// One snapshot of fields at scattered 2-D points.
struct ScatterSnapshot {
  std::string label = {};              ///< names the snapshot in its rows, e.g. "t = 1.52"
  ad::Matrix<float> points = {};       ///< n x 2: x and y of each point (finite)
  ad::Matrix<float> truth = {};        ///< n x F: every field at every point
  ad::Matrix<float> prediction = {};   ///< n x F
};

/// True / predicted / error of F fields at chosen snapshots, one row per field and snapshot
/// (field-major: every snapshot of the first field, then of the next). The panels keep x and y
/// at equal scale. Every field has one sequential colour scale over its truth and prediction
/// at all snapshots, and one diverging error scale, so rows of a field compare directly.
///
/// Points are rasterised by nearest point: a pixel shows the point nearest to its centre,
/// provided that point is within 0.75 of its spacing (the distance to its 4th nearest
/// neighbour, which covers its cell on a structured or unstructured quad mesh) or within half a
/// pixel diagonal; other pixels show no_data_colour, so holes in the data (a body in the flow)
/// stay visible. Values are never interpolated.
struct ScatterFields {
  std::vector<ScatterSnapshot> snapshots = {};
  std::vector<std::string> field_names = {};  ///< F names; empty: "field 1", "field 2", ...
  std::string title = {};
  std::string x_label = "x";
  std::string y_label = "y";
  int panel_width = 420;   ///< largest panel width in pixels, in [16, 4096]
  int panel_height = 420;  ///< largest panel height in pixels, in [16, 4096]
  double font_size = 13;   ///< pixels, in [6, 48]
};

/// Most rows (fields x snapshots) a scatter figure may have.
inline constexpr std::size_t max_panel_rows = 48;

/// The layout of the scatter figure. The axes span the points' bounding box, widened on one axis
/// to the panel's aspect ratio (a degenerate box becomes a square around it). Throws
/// std::invalid_argument on no snapshots, inconsistent shapes, non-finite coordinates, more
/// than max_panel_rows rows or sizes out of range.
PanelsLayout scatter_fields_layout(const ScatterFields& fields);

/// Writes the scatter figure (PNG or SVG by the extension).
void write_scatter_fields(const std::filesystem::path& file, const ScatterFields& fields);

// ---- Curves -------------------------------------------------------------------------------

/// One named curve: values[i] at x[i] (at i when `x` is empty).
struct Series {
  std::string name = {};
  std::vector<double> values = {};
  std::vector<double> x = {};
};

/// Most series one curve figure may hold (each has its own colour).
inline constexpr std::size_t max_series = 10;

/// The colour of the i-th series, i < max_series.
Rgb series_colour(std::size_t i);

struct CurveOptions {
  std::string title = {};
  std::string x_label = "epoch";
  std::string y_label = "loss";
  bool log_y = true;     ///< log10 axis over whole decades; else a linear axis with round ticks
  bool markers = false;  ///< a dot at every point besides the line
  int width = 800;       ///< pixels, in [320, 4096]
  int height = 500;      ///< pixels, in [240, 4096]
  double font_size = 13; ///< pixels, in [6, 48]
};

/// Curves against a linear x axis with round-number ticks, a legend (in the corner of the plot
/// holding fewest points; when every corner holds some, the y axis grows upwards to free the top)
/// and a title. A log y axis spanning a single decade also labels 2 and 5 times its power of ten. Non-finite values, and on a log axis values <= 0, are
/// not drawn and break their line. A series with more points than twice the plot's width in
/// pixels is reduced to the lowest and highest point of each pixel column, so the file size is
/// bounded whatever the history's length. Throws std::invalid_argument when a series has x of
/// another length than its values, a non-finite x, more than max_series series or sizes out of
/// range.
void write_curves(const std::filesystem::path& file, const std::vector<Series>& series, const CurveOptions& options);

/// A training loss against epochs: write_curves with options.log_y set, whatever it was.
void write_loss_curve(const std::filesystem::path& file, const std::vector<Series>& series,
                      const CurveOptions& options = {});

/// A test error against time or snapshot: write_curves with markers, linear y unless asked.
void write_error_curve(const std::filesystem::path& file, const std::vector<Series>& series,
                       const CurveOptions& options = {.x_label = "t", .y_label = "relative L2 error", .log_y = false,
                                                      .markers = true});

/// The (width, height) of the PNG `file`. Throws nn::FileError when it cannot be read as a PNG.
std::pair<int, int> png_size(const std::filesystem::path& file);

}  // namespace experiments
