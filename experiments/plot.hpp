#pragma once
// Figures drawn by the program itself: a built-in bitmap font, a diverging colour map, the
// "true / predicted / error" field figure (PNG) and loss curves (SVG).

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "autodiff/tape.hpp"
#include "experiments/png.hpp"

namespace experiments {

// ---- Bitmap font -------------------------------------------------------------------------
// Glyphs are 5 x 9 pixel masks in a 6 x 10 cell: 7 rows above the baseline (capitals and
// digits), 2 below it (descenders), a blank column and row as spacing. Every printable ASCII
// character has a glyph; any other character (one per UTF-8 code point) is a hollow box.
// `scale` draws each glyph pixel as a scale x scale square.

/// Horizontal advance of one character: 6 * scale.
int glyph_advance(int scale);
/// Height of a line of text: 10 * scale.
int text_height(int scale);
/// Width of `text`: characters * 6 * scale minus the trailing spacing column (0 when empty).
int text_width(std::string_view text, int scale);
/// Draws `text` on one line with the top-left corner of its first cell at (x, y).
void draw_text(Image& image, int x, int y, std::string_view text, Rgb colour, int scale);
/// Draws `text` rotated 90 degrees anticlockwise (read bottom to top); its bounding box has
/// top-left corner (x, y), width text_height(scale) and height text_width(text, scale).
void draw_text_vertical(Image& image, int x, int y, std::string_view text, Rgb colour, int scale);

// ---- Colour map ---------------------------------------------------------------------------

/// A diverging blue-white-red map, piecewise linear in RGB: s = -1 deep blue, s = 0 pure white
/// (255, 255, 255), s = +1 deep red; s is clamped to [-1, 1].
Rgb diverging_colour(double s);

/// Colour of cells whose value is NaN or infinite.
inline constexpr Rgb non_finite_colour{128, 128, 128};

// ---- Field figure: true / predicted / error over (t, x) ------------------------------------

/// A field and its prediction sampled on a (t, x) grid. The figure shows three panels side by
/// side: truth, prediction and error = prediction - truth, with t horizontal and x vertical
/// (increasing upwards). Truth and prediction share one symmetric colour scale
/// ±max(max|truth|, max|prediction|) and one colour bar; the error has its own symmetric scale
/// ±max|error| and colour bar, and its title states max|error|. A scale of 0 is widened to ±1
/// (an all-zero field is white). Non-finite cells are drawn in non_finite_colour and ignored
/// by the scales.
struct FieldPanels {
  ad::Matrix<float> truth = {};       ///< n_t x n_x: row i is time t[i], column j is position x[j]
  ad::Matrix<float> prediction = {};  ///< n_t x n_x
  std::vector<double> t = {};         ///< n_t strictly increasing, finite
  std::vector<double> x = {};         ///< n_x strictly increasing, finite
  std::string title = {};             ///< figure title above the panels (may be empty)
  std::string t_label = "t";
  std::string x_label = "x";
  int panel_width = 300;   ///< pixels of each field panel, whatever the grid size
  int panel_height = 300;  ///< pixels of each field panel
  int font_scale = 2;      ///< text is drawn at this scale, the figure title at font_scale + 1
};

/// A pixel rectangle with top-left corner (x, y).
struct PixelRect {
  int x = 0, y = 0, width = 0, height = 0;
};

/// Where render_field_panels puts things. Each field panel is exactly panel_width x
/// panel_height pixels, showing the axis range [t0 - dt0/2, t_last + dt_last/2] (half a cell
/// beyond the first and last sample, dt the neighbouring spacing; ±0.5 for a single sample),
/// and likewise for x. A pixel shows the grid point nearest to the coordinate of its centre
/// (nearest-neighbour upscaling); on a uniform grid, cell i covers pixel columns
/// [i * panel_width / n_t, (i + 1) * panel_width / n_t). Colour bars run from +scale at the
/// top to -scale at the bottom and are as tall as the panels.
struct FieldPanelsLayout {
  int width = 0, height = 0;  ///< the whole image
  PixelRect truth, prediction, error, shared_bar, error_bar;
};

/// The layout of the figure for `panels` (it depends on the options and on the widths of the
/// tick labels). Throws std::invalid_argument on inconsistent shapes, coordinates that are not
/// strictly increasing and finite, panel sizes outside [16, 4096] or a font scale outside [1, 8].
FieldPanelsLayout field_panels_layout(const FieldPanels& panels);

/// The field figure as an image, laid out as field_panels_layout(panels) says.
Image render_field_panels(const FieldPanels& panels);

/// Writes render_field_panels(panels) as a PNG file, atomically.
void write_field_panels(const std::filesystem::path& png, const FieldPanels& panels);

// ---- Loss curves --------------------------------------------------------------------------

/// One named curve: values[i] is the loss at epochs[i] (at epoch i when `epochs` is empty).
struct LossSeries {
  std::string name = {};
  std::vector<double> values = {};
  std::vector<double> epochs = {};
};

struct LossCurveOptions {
  std::string title = "loss";
  std::string x_label = "epoch";
  std::string y_label = "loss";
  int width = 800;   ///< SVG width in pixels, at least 320
  int height = 500;  ///< SVG height in pixels, at least 240
};

/// A standalone SVG 1.1 document of the loss curves: linear epoch axis with round-number
/// ticks, log10 loss axis spanning whole decades with labels "1e<k>", one
/// <polyline class="series"> per series with one point per finite, positive value (points
/// that are not are skipped; a series without any has no polyline), a legend and a title.
/// Throws std::invalid_argument when a series has epochs of another length than its values,
/// a non-finite epoch, or the size is too small.
std::string loss_curve_svg(const std::vector<LossSeries>& series, const LossCurveOptions& options = {});

/// Writes loss_curve_svg(series, options) to `file`, atomically.
void write_loss_curve(const std::filesystem::path& file, const std::vector<LossSeries>& series,
                      const LossCurveOptions& options = {});

}  // namespace experiments
