#include "experiments/plot.hpp"

#include <cairo-svg.h>
#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <numeric>
#include <stdexcept>
#include <string_view>

#include "experiments/statistics.hpp"
#include "nn/files.hpp"

namespace experiments {

namespace {

namespace fs = std::filesystem;
constexpr double inf = std::numeric_limits<double>::infinity();

// ---- Output ---------------------------------------------------------------------------------

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using ContextPtr = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

bool is_svg(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".svg") return true;
  if (ext == ".png") return false;
  throw std::invalid_argument(fmt::format("{}: a figure must be a .png or .svg file", file.string()));
}

/// Draws a width x height figure with `draw` and replaces `file` with it, as PNG or SVG by its
/// extension. Cairo failures and write failures throw nn::WriteError naming the file.
void write_figure(const fs::path& file, int width, int height, const std::function<void(cairo_t*)>& draw) {
  const bool svg = is_svg(file);
  std::string bytes;
  SurfacePtr surface(svg ? cairo_svg_surface_create_for_stream(append_bytes, &bytes, width, height)
                         : cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height),
                     cairo_surface_destroy);
  if (svg) cairo_svg_surface_set_document_unit(surface.get(), CAIRO_SVG_UNIT_PX);
  cairo_status_t status = CAIRO_STATUS_SUCCESS;
  {
    const ContextPtr cr(cairo_create(surface.get()), cairo_destroy);
    draw(cr.get());
    status = cairo_status(cr.get());
  }
  if (status == CAIRO_STATUS_SUCCESS && !svg) status = cairo_surface_write_to_png_stream(surface.get(), append_bytes, &bytes);
  if (status == CAIRO_STATUS_SUCCESS && svg) {
    cairo_surface_finish(surface.get());
    status = cairo_surface_status(surface.get());
  }
  if (status != CAIRO_STATUS_SUCCESS)
    throw nn::WriteError(file, std::string("cairo cannot draw the figure (") + cairo_status_to_string(status) + ")");
  // The XML declaration is optional for UTF-8; without it an SVG file starts with "<svg", as ours always did.
  if (svg && bytes.starts_with("<?xml")) bytes.erase(0, bytes.find('\n') + 1);
  nn::write_file_atomically(file, bytes);
}

/// A context on a 1 x 1 image, for measuring text before a figure's size is known.
struct Measuring {
  SurfacePtr surface{cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1), cairo_surface_destroy};
  ContextPtr context{cairo_create(surface.get()), cairo_destroy};
  cairo_t* get() const { return context.get(); }
};

// ---- Text -----------------------------------------------------------------------------------

struct Font {
  double size = 13;
  bool bold = false;
};

void use_font(cairo_t* cr, Font font) {
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, font.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, font.size);
}

double text_width(cairo_t* cr, Font font, const std::string& text) {
  use_font(cr, font);
  cairo_text_extents_t e;
  cairo_text_extents(cr, text.c_str(), &e);
  return e.x_advance;
}

/// The height of capitals and digits above the baseline, the box text is aligned by.
double cap_height(Font font) { return 0.73 * font.size; }

/// Where text goes: (x, y) is the point of its cap-height box at fraction (h, v) of the box
/// (0, 0 top-left; 1, 1 bottom-right, the baseline); `angle` turns it about that point.
struct Anchor {
  double x = 0, y = 0, h = 0, v = 0, angle = 0;
};

void set_colour(cairo_t* cr, Rgb c) { cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0); }

constexpr Rgb ink{30, 30, 30};
constexpr Rgb frame_colour{60, 60, 60};
constexpr Rgb grid_colour{225, 225, 225};

void draw_text(cairo_t* cr, Font font, const std::string& text, Anchor a, Rgb colour = ink) {
  if (text.empty()) return;
  const double width = text_width(cr, font, text);
  cairo_save(cr);
  cairo_translate(cr, a.x, a.y);
  cairo_rotate(cr, a.angle);
  cairo_move_to(cr, -a.h * width, (1 - a.v) * cap_height(font));
  set_colour(cr, colour);
  cairo_show_text(cr, text.c_str());
  cairo_restore(cr);
}

constexpr double quarter_turn = -std::numbers::pi / 2;  // reads bottom to top

// ---- Numbers and ticks ----------------------------------------------------------------------

/// "1.5e-05" -> "1.5e-5", "2e+03" -> "2e3": exponents without sign padding or leading zeros.
std::string compact_exponent(const std::string& s) {
  const std::size_t e = s.find('e');
  if (e == std::string::npos) return s;
  return s.substr(0, e) + "e" + std::to_string(std::stoi(s.substr(e + 1)));
}

/// Hyphens become the typographic minus sign U+2212.
std::string with_minus_signs(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '-' ? std::string("\xE2\x88\x92") : std::string(1, c);
  return out;
}

/// Axis ticks (on a log axis, values are exponents). When `exponents` is not empty, label k is
/// labels[k] followed by exponents[k] raised, e.g. "10" and "-3" for 10⁻³.
struct Ticks {
  std::vector<double> values = {};
  std::vector<std::string> labels = {};
  std::vector<std::string> exponents = {};
};

/// Round-number ticks (multiples of 1, 2 or 5 times a power of ten) inside [lo, hi], at most
/// max_count of them, with labels showing just enough digits to tell neighbours apart. A range
/// too narrow for its magnitude to count steps in integers gets just its two ends.
Ticks round_ticks(double lo, double hi, int max_count) {
  const double base = std::pow(10.0, std::floor(std::log10((hi - lo) / max_count)));
  if (!(std::max(std::abs(lo), std::abs(hi)) / base < 1e15))
    return {{lo, hi}, {with_minus_signs(compact_exponent(fmt::format("{:.3g}", lo))), with_minus_signs(compact_exponent(fmt::format("{:.3g}", hi)))}};
  double step = base;
  long first = 0, last = -1;
  for (double multiple : {1.0, 2.0, 5.0, 10.0, 20.0, 50.0}) {
    step = base * multiple;
    first = std::lround(std::ceil(lo / step - 1e-9));
    last = std::lround(std::floor(hi / step + 1e-9));
    if (last - first + 1 <= max_count) break;
  }
  const int step_exponent = static_cast<int>(std::floor(std::log10(step) + 1e-9));
  const double largest = std::max(std::abs(lo), std::abs(hi));
  const bool scientific = largest >= 1e5 || step_exponent < -4;
  const int digits = scientific ? std::max(0, static_cast<int>(std::floor(std::log10(largest))) - step_exponent)
                                : std::max(0, -step_exponent);
  Ticks ticks;
  for (long k = first; k <= last; ++k) {
    const double v = k == 0 ? 0.0 : static_cast<double>(k) * step;  // k == 0 avoids "-0.0"
    ticks.values.push_back(v);
    const std::string label = v == 0.0    ? "0"
                              : scientific ? compact_exponent(fmt::format("{:.{}e}", v, digits))
                                           : fmt::format("{:.{}f}", v, digits);
    ticks.labels.push_back(with_minus_signs(label));
  }
  return ticks;
}

/// The densest round_ticks (at most 10) along an axis `length` pixels long whose neighbours
/// are at least min_spacing(ticks) pixels apart.
Ticks fitting_ticks(double lo, double hi, double length, const std::function<double(const Ticks&)>& min_spacing) {
  for (int count = 10; count > 1; --count) {
    Ticks ticks = round_ticks(lo, hi, count);
    if (ticks.values.size() < 2) return ticks;
    const double spacing = (ticks.values[1] - ticks.values[0]) / (hi - lo) * length;
    if (spacing >= min_spacing(ticks)) return ticks;
  }
  return round_ticks(lo, hi, 1);
}

Font exponent_font(Font font) { return {0.75 * font.size, font.bold}; }

double label_width(cairo_t* cr, Font font, const Ticks& ticks, std::size_t k) {
  const double base = text_width(cr, font, ticks.labels[k]);
  return ticks.exponents.empty() ? base : base + text_width(cr, exponent_font(font), ticks.exponents[k]);
}

double widest_label(cairo_t* cr, Font font, const Ticks& ticks) {
  double widest = 0;
  for (std::size_t k = 0; k < ticks.labels.size(); ++k) widest = std::max(widest, label_width(cr, font, ticks, k));
  return widest;
}

/// Draws tick label k anchored like draw_text (unrotated).
void draw_label(cairo_t* cr, Font font, const Ticks& ticks, std::size_t k, Anchor a) {
  if (ticks.exponents.empty()) return draw_text(cr, font, ticks.labels[k], a);
  const double base = text_width(cr, font, ticks.labels[k]), width = label_width(cr, font, ticks, k);
  const double left = a.x - a.h * width, top = a.y - a.v * cap_height(font);
  draw_text(cr, font, ticks.labels[k], {left, top});
  draw_text(cr, exponent_font(font), ticks.exponents[k], {left + base, top - 0.35 * cap_height(font)});
}

struct Range {
  double lo = 0, hi = 1;
};

/// Where v lies in `range` as a fraction, robust to ranges as wide as the doubles.
double fraction(double v, Range r) { return (v / 2 - r.lo / 2) / (r.hi / 2 - r.lo / 2); }

/// Half a pixel in from a continuous coordinate, so 1-pixel lines are crisp.
double crisp(double v) { return std::floor(v) + 0.5; }

void check_font_size(double size, const char* what) {
  if (!(size >= 6 && size <= 48)) throw std::invalid_argument(fmt::format("{}: font size {} is outside [6, 48]", what, size));
}

// ---- Colour maps ----------------------------------------------------------------------------

/// Linear-light sRGB of the OKLab colour (L, a, b) (Björn Ottosson's OKLab matrices).
std::array<double, 3> oklab_to_linear_srgb(double L, double a, double b) {
  const double l = std::pow(L + 0.3963377774 * a + 0.2158037573 * b, 3);
  const double m = std::pow(L - 0.1055613458 * a - 0.0638541728 * b, 3);
  const double s = std::pow(L - 0.0894841775 * a - 1.2914855480 * b, 3);
  return {4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s, -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
          -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s};
}

/// The OKLCh colour (lightness L, chroma C, hue in degrees) in 8-bit sRGB; outside the sRGB gamut
/// its chroma is reduced (lightness and hue kept) until it fits.
Rgb oklch_colour(double L, double C, double hue) {
  const double h = hue * std::numbers::pi / 180;
  const auto linear = [&](double c) { return oklab_to_linear_srgb(L, c * std::cos(h), c * std::sin(h)); };
  const auto fits = [&](double c) {
    const auto rgb = linear(c);
    return std::all_of(rgb.begin(), rgb.end(), [](double v) { return v >= -1e-9 && v <= 1 + 1e-9; });
  };
  double lo = 0, hi = C;
  if (!fits(C))
    for (int i = 0; i < 30; ++i) (fits((lo + hi) / 2) ? lo : hi) = (lo + hi) / 2;
  else
    lo = C;
  const auto rgb = linear(lo);
  const auto encode = [](double v) {
    v = std::clamp(v, 0.0, 1.0);
    const double e = v <= 0.0031308 ? 12.92 * v : 1.055 * std::pow(v, 1 / 2.4) - 0.055;
    return static_cast<std::uint8_t>(std::lround(255 * e));
  };
  return {encode(rgb[0]), encode(rgb[1]), encode(rgb[2])};
}

/// A colour map sampled at n points over [0, 1] once, looked up by the nearest sample.
template <std::size_t n>
struct ColourTable {
  std::array<Rgb, n> colours;
  explicit ColourTable(const std::function<Rgb(double)>& map) {
    for (std::size_t k = 0; k < n; ++k) colours[k] = map(static_cast<double>(k) / (n - 1));
  }
  Rgb at(double u) const {
    u = std::isnan(u) ? 0.0 : std::clamp(u, 0.0, 1.0);
    return colours[static_cast<std::size_t>(std::lround(u * (n - 1)))];
  }
};

// ---- Panel figures --------------------------------------------------------------------------

/// One row of true / predicted / error panels: which point each pixel shows, and the values.
struct PanelRow {
  std::string label = {};
  std::size_t raster = 0;  ///< index into PanelFigure::rasters
  std::vector<double> truth = {}, prediction = {}, error = {};
  Range field = {};        ///< colour scale of truth and prediction
  double error_scale = 1;  ///< the error's colour scale is ±error_scale
};

struct Axis {
  Range range;
  std::string label;
};

/// Everything a panel figure shows, independent of how it came about.
struct PanelFigure {
  std::string title;
  int panel_width = 0, panel_height = 0;
  double font_size = 13;
  Axis horizontal, vertical;
  std::vector<PanelRow> rows = {};
  /// Per raster, panel_width x panel_height point indices row-major from the top-left, -1 where
  /// no point is drawn.
  std::vector<std::vector<std::int32_t>> rasters = {};
};

/// Layout and ticks of a panel figure.
struct PanelPlan {
  PanelsLayout layout;
  Ticks h_ticks, v_ticks;
  std::vector<Ticks> field_ticks, error_ticks;
  double title_y = 0, header_y = 0, row_label_x = 0, v_label_x = 0;
};

struct PanelFonts {
  Font tick, label, title;
  explicit PanelFonts(double size) : tick{size}, label{1.1 * size}, title{1.3 * size, true} {}
};

/// Smallest value and largest finite value of `values` (lo > hi when none is finite).
Range finite_extent(const std::vector<double>& values, Range so_far = {inf, -inf}) {
  for (double v : values)
    if (std::isfinite(v)) so_far = {std::min(so_far.lo, v), std::max(so_far.hi, v)};
  return so_far;
}

/// A colour scale that can be divided by: empty becomes [-1, 1], a constant c becomes c ± |c|/2.
Range usable_scale(Range r) {
  if (!(r.lo <= r.hi)) return {-1, 1};
  if (r.lo < r.hi) return r;
  const double half = r.lo != 0 ? std::abs(r.lo) / 2 : 1.0;
  return {r.lo - half, r.hi + half};
}

double max_abs(const std::vector<double>& values) {
  double largest = 0;
  for (double v : values)
    if (std::isfinite(v)) largest = std::max(largest, std::abs(v));
  return largest;
}

/// Columns of the figure: x of each part and the total width.
double place_columns(cairo_t* cr, const PanelFigure& fig, PanelPlan& plan) {
  const PanelFonts fonts(fig.font_size);
  const double f = fig.font_size, tick = std::max(3.0, 0.35 * f), pad = 0.35 * f, line = 1.4 * f;
  double field_labels = 0, error_labels = 0;
  for (std::size_t i = 0; i < fig.rows.size(); ++i) {
    field_labels = std::max(field_labels, widest_label(cr, fonts.tick, plan.field_ticks[i]));
    error_labels = std::max(error_labels, widest_label(cr, fonts.tick, plan.error_ticks[i]));
  }
  const bool row_labels = std::any_of(fig.rows.begin(), fig.rows.end(), [](const PanelRow& r) { return !r.label.empty(); });
  double x = f;
  if (row_labels) plan.row_label_x = x + line / 2, x += line + 0.3 * f;
  plan.v_label_x = x + line / 2;
  x += line + widest_label(cr, fonts.tick, plan.v_ticks) + pad + tick;
  const int pw = fig.panel_width, bar = static_cast<int>(std::lround(std::max(10.0, f)));
  const int truth_x = static_cast<int>(std::ceil(x));
  const int prediction_x = truth_x + pw + static_cast<int>(std::lround(f));
  const int field_bar_x = prediction_x + pw + static_cast<int>(std::lround(0.7 * f));
  const int error_x = field_bar_x + bar + static_cast<int>(std::ceil(tick + pad + field_labels + 1.6 * f));
  const int error_bar_x = error_x + pw + static_cast<int>(std::lround(0.7 * f));
  for (PanelsLayout::Row& r : plan.layout.rows) {
    r.truth.x = truth_x, r.prediction.x = prediction_x, r.error.x = error_x;
    r.field_bar = {field_bar_x, 0, bar, 0};
    r.error_bar = {error_bar_x, 0, bar, 0};
  }
  return error_bar_x + bar + tick + pad + error_labels + f;
}

/// Rows of the figure: y of each part and the total height.
double place_rows(const PanelFigure& fig, PanelPlan& plan) {
  const PanelFonts fonts(fig.font_size);
  const double f = fig.font_size, tick = std::max(3.0, 0.35 * f), line = 1.4 * f;
  double y = f;
  if (!fig.title.empty()) plan.title_y = y, y += 1.4 * fonts.title.size + 0.4 * f;
  plan.header_y = y;
  y += line + 0.2 * f;
  for (PanelsLayout::Row& r : plan.layout.rows) {
    const int top = static_cast<int>(std::ceil(y));
    for (PixelRect* p : {&r.truth, &r.prediction, &r.error, &r.field_bar, &r.error_bar}) {
      p->y = top;
      p->height = fig.panel_height;
      if (p != &r.field_bar && p != &r.error_bar) p->width = fig.panel_width;
    }
    y = top + fig.panel_height + 0.9 * f;
  }
  return y - 0.9 * f + tick + 0.4 * f + 2 * line + f;
}

PanelPlan plan_panels(const PanelFigure& fig) {
  const Measuring m;
  const PanelFonts fonts(fig.font_size);
  const double f = fig.font_size;
  PanelPlan plan;
  plan.h_ticks = fitting_ticks(fig.horizontal.range.lo, fig.horizontal.range.hi, fig.panel_width,
                               [&](const Ticks& t) { return widest_label(m.get(), fonts.tick, t) + 1.5 * f; });
  const auto vertical_spacing = [&](const Ticks&) { return 1.9 * f; };
  plan.v_ticks = fitting_ticks(fig.vertical.range.lo, fig.vertical.range.hi, fig.panel_height, vertical_spacing);
  for (const PanelRow& row : fig.rows) {
    plan.field_ticks.push_back(fitting_ticks(row.field.lo, row.field.hi, fig.panel_height, vertical_spacing));
    plan.error_ticks.push_back(fitting_ticks(-row.error_scale, row.error_scale, fig.panel_height, vertical_spacing));
  }
  plan.layout.rows.resize(fig.rows.size());
  const double width = place_columns(m.get(), fig, plan), height = place_rows(fig, plan);
  if (!(width <= max_figure_side && height <= max_figure_side))
    throw std::invalid_argument(fmt::format("figure of {:.0f}x{:.0f} pixels is larger than {} on a side", width, height, max_figure_side));
  plan.layout.width = static_cast<int>(std::ceil(width));
  plan.layout.height = static_cast<int>(std::ceil(height));
  return plan;
}

/// Paints r pixel by pixel with colour_at(px, py), exactly (no filtering or blending).
void paint_pixels(cairo_t* cr, const PixelRect& r, const std::function<Rgb(int, int)>& colour_at) {
  const SurfacePtr image(cairo_image_surface_create(CAIRO_FORMAT_RGB24, r.width, r.height), cairo_surface_destroy);
  unsigned char* data = cairo_image_surface_get_data(image.get());
  if (data == nullptr) throw std::runtime_error("cairo cannot allocate a panel image");
  const int stride = cairo_image_surface_get_stride(image.get());
  for (int py = 0; py < r.height; ++py) {
    auto* row = reinterpret_cast<std::uint32_t*>(data + static_cast<std::ptrdiff_t>(py) * stride);
    for (int px = 0; px < r.width; ++px) {
      const Rgb c = colour_at(px, py);
      row[px] = 0xFF000000u | (std::uint32_t(c.r) << 16) | (std::uint32_t(c.g) << 8) | c.b;
    }
  }
  cairo_surface_mark_dirty(image.get());
  cairo_set_source_surface(cr, image.get(), r.x, r.y);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, r.x, r.y, r.width, r.height);
  cairo_fill(cr);
}

/// A one-pixel frame just outside r, leaving r's pixels untouched.
void draw_frame(cairo_t* cr, const PixelRect& r) {
  cairo_rectangle(cr, r.x - 0.5, r.y - 0.5, r.width + 1, r.height + 1);
  set_colour(cr, frame_colour);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
}

void line(cairo_t* cr, double x0, double y0, double x1, double y1, Rgb colour, double width = 1) {
  cairo_move_to(cr, x0, y0);
  cairo_line_to(cr, x1, y1);
  set_colour(cr, colour);
  cairo_set_line_width(cr, width);
  cairo_stroke(cr);
}

/// Tick marks on the left of r (or its right, with labels when `font` is given), for ticks over
/// `range` running upwards.
void vertical_ticks(cairo_t* cr, const PixelRect& r, const Ticks& ticks, Range range, bool right, const Font* font) {
  const double tick = std::max(3.0, 0.35 * (font ? font->size : 13));
  for (std::size_t k = 0; k < ticks.values.size(); ++k) {
    const double y = crisp(r.y + (1 - fraction(ticks.values[k], range)) * r.height);
    const double x = right ? r.x + r.width + 1 : r.x - 1;
    line(cr, x, y, right ? x + tick : x - tick, y, frame_colour);
    if (font) draw_label(cr, *font, ticks, k, {right ? x + tick + 0.35 * font->size : x - tick - 0.35 * font->size, y, right ? 0.0 : 1.0, 0.5});
  }
}

void horizontal_ticks(cairo_t* cr, const PixelRect& r, const Ticks& ticks, Range range, const Font* font) {
  const double tick = std::max(3.0, 0.35 * (font ? font->size : 13));
  for (std::size_t k = 0; k < ticks.values.size(); ++k) {
    const double x = crisp(r.x + fraction(ticks.values[k], range) * r.width), y = r.y + r.height + 1;
    line(cr, x, y, x, y + tick, frame_colour);
    if (font) draw_label(cr, *font, ticks, k, {x, y + tick + 0.4 * font->size, 0.5, 0});
  }
}

/// A vertical colour bar showing colour_of(s), s from 1 (top) to 0 (bottom), with labelled ticks.
void colour_bar(cairo_t* cr, const PixelRect& r, const Ticks& ticks, Range range, Font font, Rgb (*colour_of)(double)) {
  paint_pixels(cr, r, [&](int, int py) { return colour_of(1 - (py + 0.5) / r.height); });
  draw_frame(cr, r);
  vertical_ticks(cr, r, ticks, range, true, &font);
}

Rgb field_bar_colour(double s) { return sequential_colour(s); }
Rgb error_bar_colour(double s) { return diverging_colour(2 * s - 1); }

void draw_panel_row(cairo_t* cr, const PanelFigure& fig, const PanelPlan& plan, std::size_t i) {
  const PanelRow& row = fig.rows[i];
  const PanelsLayout::Row& l = plan.layout.rows[i];
  const PanelFonts fonts(fig.font_size);
  const std::vector<std::int32_t>& raster = fig.rasters[row.raster];
  const auto paint = [&](const PixelRect& r, const std::vector<double>& values, auto colour) {
    paint_pixels(cr, r, [&](int px, int py) {
      const std::int32_t k = raster[static_cast<std::size_t>(py) * static_cast<std::size_t>(r.width) + static_cast<std::size_t>(px)];
      if (k < 0) return no_data_colour;
      const double v = values[static_cast<std::size_t>(k)];
      return std::isfinite(v) ? colour(v) : non_finite_colour;
    });
    draw_frame(cr, r);
    vertical_ticks(cr, r, plan.v_ticks, fig.vertical.range, false, r.x == l.truth.x ? &fonts.tick : nullptr);
    horizontal_ticks(cr, r, plan.h_ticks, fig.horizontal.range, i + 1 == fig.rows.size() ? &fonts.tick : nullptr);
  };
  const auto field_colour = [&](double v) { return sequential_colour(fraction(v, row.field)); };
  paint(l.truth, row.truth, field_colour);
  paint(l.prediction, row.prediction, field_colour);
  paint(l.error, row.error, [&](double v) { return diverging_colour(v / row.error_scale); });
  colour_bar(cr, l.field_bar, plan.field_ticks[i], row.field, fonts.tick, field_bar_colour);
  colour_bar(cr, l.error_bar, plan.error_ticks[i], {-row.error_scale, row.error_scale}, fonts.tick, error_bar_colour);
  const double middle = l.truth.y + l.truth.height / 2.0;
  draw_text(cr, fonts.label, fig.vertical.label, {plan.v_label_x, middle, 0.5, 0.5, quarter_turn});
  draw_text(cr, Font{fonts.label.size, true}, row.label, {plan.row_label_x, middle, 0.5, 0.5, quarter_turn});
}

void draw_panels(cairo_t* cr, const PanelFigure& fig, const PanelPlan& plan) {
  const PanelFonts fonts(fig.font_size);
  const PanelsLayout& l = plan.layout;
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  draw_text(cr, fonts.title, fig.title, {l.width / 2.0, plan.title_y, 0.5, 0});
  const PanelsLayout::Row& first = l.rows.front();
  const char* headers[] = {"true", "predicted", "error (predicted \xE2\x88\x92 true)"};
  const PixelRect* panels[] = {&first.truth, &first.prediction, &first.error};
  for (int k = 0; k < 3; ++k)
    draw_text(cr, fonts.label, headers[k], {panels[k]->x + panels[k]->width / 2.0, plan.header_y, 0.5, 0});
  for (std::size_t i = 0; i < fig.rows.size(); ++i) draw_panel_row(cr, fig, plan, i);
  const PanelsLayout::Row& last = l.rows.back();
  const double tick = std::max(3.0, 0.35 * fig.font_size);
  const double label_y = last.truth.y + last.truth.height + 1 + tick + 0.4 * fig.font_size + 1.4 * fig.font_size;
  for (const PixelRect* r : {&last.truth, &last.prediction, &last.error})
    draw_text(cr, fonts.label, fig.horizontal.label, {r->x + r->width / 2.0, label_y, 0.5, 0});
}

void write_panels(const fs::path& file, const PanelFigure& fig, const PanelPlan& plan) {
  write_figure(file, plan.layout.width, plan.layout.height, [&](cairo_t* cr) { draw_panels(cr, fig, plan); });
}

void check_panel_options(int width, int height, double font_size, const char* what) {
  if (width < 16 || height < 16 || width > 4096 || height > 4096)
    throw std::invalid_argument(fmt::format("{}: panel size {}x{} is outside [16, 4096]", what, width, height));
  check_font_size(font_size, what);
}

/// The colour scales of a row from its values.
void set_scales(PanelRow& row) {
  row.error.resize(row.truth.size());
  for (std::size_t k = 0; k < row.truth.size(); ++k) row.error[k] = row.prediction[k] - row.truth[k];
  row.field = usable_scale(finite_extent(row.prediction, finite_extent(row.truth)));
  const double e = max_abs(row.error);
  row.error_scale = e > 0 ? e : 1.0;
}

// ---- (t, x) grid ------------------------------------------------------------------------------

void check_coordinates(const std::vector<double>& c, const char* name) {
  if (c.empty()) throw std::invalid_argument(fmt::format("field panels: no {} values", name));
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!std::isfinite(c[i])) throw std::invalid_argument(fmt::format("field panels: {}[{}] is not finite", name, i));
    if (i > 0 && !(c[i] > c[i - 1]))
      throw std::invalid_argument(fmt::format("field panels: {} is not strictly increasing at index {}", name, i));
  }
}

/// The extent of the cells centred on the grid points: half a spacing beyond each end.
Range cell_extent(const std::vector<double>& c) {
  if (c.size() == 1) return {c[0] - 0.5, c[0] + 0.5};
  const std::size_t n = c.size();
  return {c[0] - (c[1] - c[0]) / 2, c[n - 1] + (c[n - 1] - c[n - 2]) / 2};
}

/// For each of `pixels` pixels along an axis over `range`, the index of the grid point nearest
/// to the pixel centre; `upwards` when pixel 0 is the high end (a vertical axis).
std::vector<std::int32_t> nearest_cells(const std::vector<double>& c, Range range, int pixels, bool upwards) {
  std::vector<std::int32_t> cells(static_cast<std::size_t>(pixels));
  for (int p = 0; p < pixels; ++p) {
    const double f = (p + 0.5) / pixels;
    const double v = upwards ? range.hi - f * (range.hi - range.lo) : range.lo + f * (range.hi - range.lo);
    auto above = std::lower_bound(c.begin(), c.end(), v);
    if (above == c.end() || (above != c.begin() && v - *(above - 1) <= *above - v)) --above;
    cells[static_cast<std::size_t>(p)] = static_cast<std::int32_t>(above - c.begin());
  }
  return cells;
}

PanelFigure grid_figure(const FieldPanels& p, bool with_raster) {
  check_panel_options(p.panel_width, p.panel_height, p.font_size, "field panels");
  check_coordinates(p.t, "t");
  check_coordinates(p.x, "x");
  const auto nt = static_cast<Eigen::Index>(p.t.size()), nx = static_cast<Eigen::Index>(p.x.size());
  if (p.truth.rows() != nt || p.truth.cols() != nx || p.prediction.rows() != nt || p.prediction.cols() != nx)
    throw std::invalid_argument(fmt::format("field panels: truth {}x{} and prediction {}x{} must both be n_t x n_x = {}x{}",
                                            p.truth.rows(), p.truth.cols(), p.prediction.rows(), p.prediction.cols(), nt, nx));
  PanelFigure fig{.title = p.title, .panel_width = p.panel_width, .panel_height = p.panel_height, .font_size = p.font_size,
                  .horizontal = {cell_extent(p.t), p.t_label}, .vertical = {cell_extent(p.x), p.x_label}};
  PanelRow row;
  for (Eigen::Index i = 0; i < nt; ++i)  // point i * n_x + j is (t[i], x[j])
    for (Eigen::Index j = 0; j < nx; ++j) {
      row.truth.push_back(p.truth(i, j));
      row.prediction.push_back(p.prediction(i, j));
    }
  set_scales(row);
  fig.rows.push_back(std::move(row));
  if (!with_raster) return fig;
  const auto columns = nearest_cells(p.t, fig.horizontal.range, p.panel_width, false);
  const auto rows = nearest_cells(p.x, fig.vertical.range, p.panel_height, true);
  std::vector<std::int32_t>& raster = fig.rasters.emplace_back();
  for (std::int32_t r : rows)
    for (std::int32_t c : columns) raster.push_back(c * static_cast<std::int32_t>(nx) + r);
  return fig;
}

// ---- Scattered points -----------------------------------------------------------------------

struct Point2 {
  double x = 0, y = 0;
};

double distance2(Point2 a, Point2 b) { return (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y); }

/// A 2-d tree over points for nearest-neighbour queries, stored as a permutation: the median of
/// every index range splits it, along x at even depths and y at odd ones.
class KdTree {
 public:
  explicit KdTree(std::vector<Point2> points) : points_(std::move(points)), order_(points_.size()) {
    std::iota(order_.begin(), order_.end(), std::uint32_t{0});
    build(0, order_.size(), 0);
  }

  /// Up to k nearest points to q with squared distance at most max_d2, as (squared distance,
  /// index), nearest first, into `found` (cleared first).
  void nearest(Point2 q, std::size_t k, double max_d2, std::vector<std::pair<double, std::uint32_t>>& found) const {
    found.clear();
    search(0, order_.size(), 0, q, k, max_d2, found);
  }

  const std::vector<Point2>& points() const { return points_; }

 private:
  static double along(Point2 p, int depth) { return depth % 2 == 0 ? p.x : p.y; }

  void build(std::size_t lo, std::size_t hi, int depth) {
    if (hi - lo <= 1) return;
    const std::size_t mid = lo + (hi - lo) / 2;
    const auto first = order_.begin() + static_cast<std::ptrdiff_t>(lo);
    std::nth_element(first, order_.begin() + static_cast<std::ptrdiff_t>(mid), order_.begin() + static_cast<std::ptrdiff_t>(hi),
                     [&](std::uint32_t a, std::uint32_t b) { return along(points_[a], depth) < along(points_[b], depth); });
    build(lo, mid, depth + 1);
    build(mid + 1, hi, depth + 1);
  }

  void search(std::size_t lo, std::size_t hi, int depth, Point2 q, std::size_t k, double max_d2,
              std::vector<std::pair<double, std::uint32_t>>& found) const {
    if (lo >= hi) return;
    const std::size_t mid = lo + (hi - lo) / 2;
    const std::uint32_t index = order_[mid];
    const double d2 = distance2(q, points_[index]);
    const auto bound = [&] { return found.size() == k ? found.back().first : max_d2; };
    if (d2 <= bound()) {
      if (found.size() == k) found.pop_back();
      found.insert(std::upper_bound(found.begin(), found.end(), std::pair{d2, index}), {d2, index});
    }
    const double diff = along(q, depth) - along(points_[index], depth);
    const bool low_first = diff < 0;
    search(low_first ? lo : mid + 1, low_first ? mid : hi, depth + 1, q, k, max_d2, found);
    if (diff * diff <= bound()) search(low_first ? mid + 1 : lo, low_first ? hi : mid, depth + 1, q, k, max_d2, found);
  }

  std::vector<Point2> points_;
  std::vector<std::uint32_t> order_;
};

/// The spacing of every point: the distance to its 4th nearest neighbour (fewer when there are
/// fewer points; 0 for a lone point).
std::vector<double> spacings(const KdTree& tree) {
  std::vector<double> spacing;
  std::vector<std::pair<double, std::uint32_t>> found;
  for (const Point2& p : tree.points()) {
    tree.nearest(p, 5, inf, found);  // the point itself comes first
    spacing.push_back(std::sqrt(found.back().first));
  }
  return spacing;
}

std::size_t check_scatter(const ScatterFields& s) {
  check_panel_options(s.panel_width, s.panel_height, s.font_size, "scatter fields");
  if (s.snapshots.empty()) throw std::invalid_argument("scatter fields: no snapshots");
  const auto fields = static_cast<std::size_t>(s.snapshots.front().truth.cols());
  if (fields == 0) throw std::invalid_argument("scatter fields: no fields");
  if (!s.field_names.empty() && s.field_names.size() != fields)
    throw std::invalid_argument(fmt::format("scatter fields: {} field names for {} fields", s.field_names.size(), fields));
  if (fields * s.snapshots.size() > max_panel_rows)
    throw std::invalid_argument(fmt::format("scatter fields: {} fields x {} snapshots is more than {} rows", fields,
                                            s.snapshots.size(), max_panel_rows));
  for (std::size_t i = 0; i < s.snapshots.size(); ++i) {
    const ScatterSnapshot& snap = s.snapshots[i];
    const Eigen::Index n = snap.points.rows();
    if (n == 0 || snap.points.cols() != 2 || snap.truth.rows() != n || snap.prediction.rows() != n ||
        static_cast<std::size_t>(snap.truth.cols()) != fields || static_cast<std::size_t>(snap.prediction.cols()) != fields)
      throw std::invalid_argument(fmt::format("scatter fields: snapshot {} needs n x 2 points and n x {} truth and prediction, n > 0", i, fields));
    if (!snap.points.allFinite()) throw std::invalid_argument(fmt::format("scatter fields: snapshot {} has a non-finite coordinate", i));
    if (n > std::numeric_limits<std::int32_t>::max())  // pixels refer to points by 32-bit index
      throw std::invalid_argument(fmt::format("scatter fields: snapshot {} has more than 2^31 - 1 points", i));
  }
  return fields;
}

/// Sets the axis ranges and panel size: the points' bounding box (the outermost points lie on the
/// panel's edges, so no pixel is left outside every point's reach), scaled equally in x and y
/// into the largest panel the options allow.
void fit_scatter_axes(const ScatterFields& s, const std::vector<std::vector<double>>& spacing, PanelFigure& fig) {
  Range x{inf, -inf}, y{inf, -inf};
  std::vector<double> all;
  for (std::size_t i = 0; i < s.snapshots.size(); ++i) {
    const auto& p = s.snapshots[i].points;
    x = {std::min<double>(x.lo, p.col(0).minCoeff()), std::max<double>(x.hi, p.col(0).maxCoeff())};
    y = {std::min<double>(y.lo, p.col(1).minCoeff()), std::max<double>(y.hi, p.col(1).maxCoeff())};
    all.insert(all.end(), spacing[i].begin(), spacing[i].end());
  }
  if (x.lo == x.hi || y.lo == y.hi) {  // a line or a single point: a square around it
    double half = std::max({x.hi - x.lo, y.hi - y.lo, 2 * median(all)}) / 2;
    if (!(half > 0)) half = 0.5;
    x = {x.lo / 2 + x.hi / 2 - half, x.lo / 2 + x.hi / 2 + half}, y = {y.lo / 2 + y.hi / 2 - half, y.lo / 2 + y.hi / 2 + half};
  }
  const double scale = std::min(s.panel_width / (x.hi - x.lo), s.panel_height / (y.hi - y.lo));  // pixels per unit
  fig.panel_width = std::clamp(static_cast<int>(std::lround((x.hi - x.lo) * scale)), 16, s.panel_width);
  fig.panel_height = std::clamp(static_cast<int>(std::lround((y.hi - y.lo) * scale)), 16, s.panel_height);
  const auto widen = [scale](Range r, int pixels) {
    const double centre = r.lo / 2 + r.hi / 2, half = pixels / scale / 2;
    return Range{centre - half, centre + half};
  };
  fig.horizontal.range = widen(x, fig.panel_width);
  fig.vertical.range = widen(y, fig.panel_height);
}

/// Which point each pixel of a panel shows: the nearest one, if within its reach.
std::vector<std::int32_t> scatter_raster(const KdTree& tree, const std::vector<double>& spacing, const PanelFigure& fig) {
  const double pixel = (fig.horizontal.range.hi - fig.horizontal.range.lo) / fig.panel_width;
  std::vector<double> reach2(spacing.size());
  double max_reach2 = 0;
  for (std::size_t k = 0; k < spacing.size(); ++k) {
    const double reach = std::max(0.75 * spacing[k], 0.71 * pixel);
    reach2[k] = reach * reach;
    max_reach2 = std::max(max_reach2, reach2[k]);
  }
  std::vector<std::int32_t> raster;
  raster.reserve(static_cast<std::size_t>(fig.panel_width) * static_cast<std::size_t>(fig.panel_height));
  std::vector<std::pair<double, std::uint32_t>> found;
  for (int py = 0; py < fig.panel_height; ++py)
    for (int px = 0; px < fig.panel_width; ++px) {
      const Point2 q{fig.horizontal.range.lo + (px + 0.5) * pixel, fig.vertical.range.hi - (py + 0.5) * pixel};
      tree.nearest(q, 1, max_reach2, found);
      raster.push_back(!found.empty() && found[0].first <= reach2[found[0].second] ? static_cast<std::int32_t>(found[0].second) : -1);
    }
  return raster;
}

std::vector<PanelRow> scatter_rows(const ScatterFields& s, std::size_t fields) {
  std::vector<PanelRow> rows;
  for (std::size_t f = 0; f < fields; ++f) {
    const std::string name = s.field_names.empty() ? fmt::format("field {}", f + 1) : s.field_names[f];
    Range field{inf, -inf};
    double error = 0;
    const std::size_t first = rows.size();
    for (std::size_t i = 0; i < s.snapshots.size(); ++i) {
      const ScatterSnapshot& snap = s.snapshots[i];
      PanelRow row{.label = snap.label.empty() ? name : name + ", " + snap.label, .raster = i};
      for (Eigen::Index k = 0; k < snap.points.rows(); ++k) {
        row.truth.push_back(snap.truth(k, static_cast<Eigen::Index>(f)));
        row.prediction.push_back(snap.prediction(k, static_cast<Eigen::Index>(f)));
      }
      set_scales(row);
      field = finite_extent(row.prediction, finite_extent(row.truth, field));
      error = std::max(error, max_abs(row.error));
      rows.push_back(std::move(row));
    }
    for (std::size_t r = first; r < rows.size(); ++r) rows[r].field = usable_scale(field), rows[r].error_scale = error > 0 ? error : 1.0;
  }
  return rows;
}

/// The scatter figure and its plan; the rasters only when asked, after the plan has checked the
/// figure's size.
std::pair<PanelFigure, PanelPlan> scatter_figure(const ScatterFields& s, bool with_rasters) {
  const std::size_t fields = check_scatter(s);
  std::vector<KdTree> trees;
  std::vector<std::vector<double>> spacing;
  for (const ScatterSnapshot& snap : s.snapshots) {
    std::vector<Point2> points;
    for (Eigen::Index k = 0; k < snap.points.rows(); ++k) points.push_back({snap.points(k, 0), snap.points(k, 1)});
    spacing.push_back(spacings(trees.emplace_back(std::move(points))));
  }
  PanelFigure fig{.title = s.title, .font_size = s.font_size, .horizontal = {{}, s.x_label}, .vertical = {{}, s.y_label}};
  fit_scatter_axes(s, spacing, fig);
  fig.rows = scatter_rows(s, fields);
  PanelPlan plan = plan_panels(fig);
  if (with_rasters)
    for (std::size_t i = 0; i < trees.size(); ++i) fig.rasters.push_back(scatter_raster(trees[i], spacing[i], fig));
  return {std::move(fig), std::move(plan)};
}

// ---- Curves ---------------------------------------------------------------------------------

constexpr std::array<Rgb, max_series> palette = {{{31, 95, 191},
                                                  {217, 72, 43},
                                                  {42, 157, 92},
                                                  {138, 79, 196},
                                                  {217, 154, 0},
                                                  {23, 162, 184},
                                                  {194, 24, 91},
                                                  {90, 90, 90},
                                                  {140, 86, 75},
                                                  {128, 128, 0}}};

struct CurvePlan {
  double left = 0, right = 0, top = 0, bottom = 0;  ///< the plot area
  Range x, y;                                       ///< y in log10 units on a log axis
  Ticks x_ticks, y_ticks;
  bool empty = false;
  /// Per series, its unbroken runs of points in figure coordinates.
  std::vector<std::vector<std::vector<Point2>>> runs;
  Point2 legend;  ///< top-left corner of the legend box
  std::size_t legend_covers = 0;  ///< points under the legend
  double legend_width = 0, legend_height = 0;
};

bool plottable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

void check_curves(const std::vector<Series>& series, const CurveOptions& o) {
  if (o.width < 320 || o.height < 240 || o.width > 4096 || o.height > 4096)
    throw std::invalid_argument(fmt::format("curves: size {}x{} is outside [320, 4096] x [240, 4096]", o.width, o.height));
  check_font_size(o.font_size, "curves");
  if (series.size() > max_series) throw std::invalid_argument(fmt::format("curves: {} series, at most {}", series.size(), max_series));
  for (const Series& s : series) {
    if (!s.x.empty() && s.x.size() != s.values.size())
      throw std::invalid_argument(fmt::format("curves: series '{}' has {} x for {} values", s.name, s.x.size(), s.values.size()));
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (!std::isfinite(s.x[i])) throw std::invalid_argument(fmt::format("curves: series '{}' has a non-finite x at index {}", s.name, i));
  }
}

double x_of(const Series& s, std::size_t i) { return s.x.empty() ? static_cast<double>(i) : s.x[i]; }

/// The axis ranges over the plottable points: x exactly, y over whole decades (log) or padded
/// by 5% (linear); ±1 around a single value, and a placeholder when there is nothing to plot.
void curve_ranges(const std::vector<Series>& series, bool log, CurvePlan& plan) {
  Range x{inf, -inf}, y{inf, -inf};
  for (const Series& s : series)
    for (std::size_t i = 0; i < s.values.size(); ++i)
      if (plottable(s.values[i], log)) {
        const double v = log ? std::log10(s.values[i]) : s.values[i];
        x = {std::min(x.lo, x_of(s, i)), std::max(x.hi, x_of(s, i))};
        y = {std::min(y.lo, v), std::max(y.hi, v)};
      }
  plan.empty = !(x.lo <= x.hi);
  if (plan.empty) x = {0, 1}, y = {log ? -1.0 : 0.0, log ? 0.0 : 1.0};
  if (x.lo == x.hi) x = {x.lo - 1, x.hi + 1};
  if (log) {
    y = {std::floor(y.lo), std::ceil(y.hi)};
    if (y.lo == y.hi) y.hi += 1;
  } else if (y.lo == y.hi) {
    y = usable_scale(y);
  } else {
    const double pad = (y.hi / 2 - y.lo / 2) / 10;
    y = {y.lo - pad, y.hi + pad};
  }
  plan.x = x, plan.y = y;
}

/// Log axis ticks: the decades that are multiples of a round step, at most 9 labelled; within a
/// single decade also 2 and 5 times its power of ten.
Ticks decade_ticks(Range y) {
  const double decades = y.hi - y.lo;
  double every = 1;
  for (double candidate : {1, 2, 3, 5, 10, 20, 50, 100, 200, 500})
    if ((every = candidate) * 8 >= decades) break;
  Ticks ticks;
  const auto add = [&](double value, const char* mantissa, double k) {
    ticks.values.push_back(value);
    ticks.labels.emplace_back(mantissa);
    ticks.exponents.push_back(with_minus_signs(fmt::format("{:.0f}", k)));
  };
  for (double k = std::ceil(y.lo / every) * every; k <= y.hi; k += every) {
    add(k, "10", k);
    if (decades == 1 && k < y.hi) add(k + std::log10(2.0), "2\xC3\x97" "10", k), add(k + std::log10(5.0), "5\xC3\x97" "10", k);
  }
  return ticks;
}

/// Splits each series into unbroken runs in figure coordinates; a run longer than twice the
/// plot's width keeps the lowest and highest point of every pixel column, in order.
void curve_runs(const std::vector<Series>& series, bool log, CurvePlan& plan) {
  const double width = plan.right - plan.left;
  for (const Series& s : series) {
    auto& runs = plan.runs.emplace_back(1);
    for (std::size_t i = 0; i < s.values.size(); ++i) {
      if (!plottable(s.values[i], log)) {
        if (!runs.back().empty()) runs.emplace_back();
        continue;
      }
      const double v = log ? std::log10(s.values[i]) : s.values[i];
      runs.back().push_back({plan.left + fraction(x_of(s, i), plan.x) * width, plan.bottom - fraction(v, plan.y) * (plan.bottom - plan.top)});
    }
    for (auto& run : runs) {
      if (run.size() <= 2 * static_cast<std::size_t>(width)) continue;
      std::vector<Point2> kept;
      for (std::size_t a = 0, b = 0; a < run.size(); a = b) {
        const double column = std::floor(run[a].x);
        auto low = a, high = a;
        for (b = a; b < run.size() && std::floor(run[b].x) == column; ++b)
          low = run[b].y > run[low].y ? b : low, high = run[b].y < run[high].y ? b : high;
        kept.push_back(run[std::min(low, high)]);
        if (low != high) kept.push_back(run[std::max(low, high)]);
      }
      run = std::move(kept);
    }
  }
}

/// The legend's size and the corner of the plot (inset) whose box covers the fewest points.
void place_legend(cairo_t* cr, const std::vector<Series>& series, Font font, CurvePlan& plan) {
  double widest = 0;
  for (const Series& s : series) widest = std::max(widest, text_width(cr, font, s.name));
  const double f = font.size, inset = 0.8 * f;
  plan.legend_width = widest + 3.6 * f;
  plan.legend_height = 1.5 * f * static_cast<double>(series.size()) + 0.6 * f;
  std::size_t fewest = std::numeric_limits<std::size_t>::max();
  for (const Point2 corner : {Point2{plan.right - inset - plan.legend_width, plan.top + inset},
                              Point2{plan.left + inset, plan.top + inset},
                              Point2{plan.right - inset - plan.legend_width, plan.bottom - inset - plan.legend_height},
                              Point2{plan.left + inset, plan.bottom - inset - plan.legend_height}}) {
    std::size_t covered = 0;
    for (const auto& runs : plan.runs)
      for (const auto& run : runs)
        for (const Point2& p : run)
          covered += p.x >= corner.x && p.x <= corner.x + plan.legend_width && p.y >= corner.y && p.y <= corner.y + plan.legend_height;
    if (covered < fewest) fewest = covered, plan.legend = corner, plan.legend_covers = covered;
  }
}

/// Ticks, plot area, runs and legend for the plan's ranges.
void fit_curves(const std::vector<Series>& series, const CurveOptions& o, CurvePlan& plan) {
  const Measuring m;
  const Font tick{o.font_size}, label{1.1 * o.font_size}, title{1.3 * o.font_size, true};
  const double f = o.font_size, tick_length = std::max(3.0, 0.35 * f);
  plan.top = f + (o.title.empty() ? 0.5 * f : 1.4 * title.size + 0.6 * f);
  plan.bottom = o.height - (f + 1.4 * label.size + 1.4 * f + tick_length);
  plan.y_ticks = o.log_y ? decade_ticks(plan.y)
                         : fitting_ticks(plan.y.lo, plan.y.hi, plan.bottom - plan.top, [&](const Ticks&) { return 2.2 * f; });
  plan.left = f + 1.4 * label.size + widest_label(m.get(), tick, plan.y_ticks) + 0.4 * f + tick_length;
  plan.right = o.width - 1.5 * f;
  plan.x_ticks = fitting_ticks(plan.x.lo, plan.x.hi, plan.right - plan.left,
                               [&](const Ticks& t) { return widest_label(m.get(), tick, t) + 2 * f; });
  plan.runs.clear();
  curve_runs(series, o.log_y, plan);
  place_legend(m.get(), series, tick, plan);
}

CurvePlan plan_curves(const std::vector<Series>& series, const CurveOptions& o) {
  CurvePlan plan;
  curve_ranges(series, o.log_y, plan);
  fit_curves(series, o, plan);
  // When the legend would hide points in every corner, the y axis grows upwards (by whole
  // decades on a log axis) to give it room above the data.
  const double share = (plan.legend_height + 1.6 * o.font_size) / (plan.bottom - plan.top);
  if (plan.legend_covers == 0 || plan.empty || share > 0.5) return plan;
  const double grow = (plan.y.hi - plan.y.lo) * share / (1 - share);
  plan.y.hi += o.log_y ? std::ceil(grow) : grow;
  fit_curves(series, o, plan);
  return plan;
}

void draw_axes(cairo_t* cr, const CurveOptions& o, const CurvePlan& plan) {
  const Font tick{o.font_size}, label{1.1 * o.font_size};
  const PixelRect area{static_cast<int>(plan.left), static_cast<int>(plan.top), static_cast<int>(plan.right - plan.left),
                       static_cast<int>(plan.bottom - plan.top)};
  for (double v : plan.y_ticks.values) {
    const double y = crisp(area.y + (1 - fraction(v, plan.y)) * area.height);
    line(cr, area.x, y, area.x + area.width, y, grid_colour);
  }
  for (double v : plan.x_ticks.values) {
    const double x = crisp(area.x + fraction(v, plan.x) * area.width);
    line(cr, x, area.y, x, area.y + area.height, grid_colour);
  }
  vertical_ticks(cr, area, plan.y_ticks, plan.y, false, &tick);
  horizontal_ticks(cr, area, plan.x_ticks, plan.x, &tick);
  if (o.log_y && plan.y.hi - plan.y.lo <= 6)  // minor ticks, half as long, at 2..9 times each decade
    for (double k = plan.y.lo; k < plan.y.hi; ++k)
      for (int i = 2; i <= 9; ++i) {
        const double y = crisp(area.y + (1 - fraction(k + std::log10(i), plan.y)) * area.height);
        line(cr, area.x - 1, y, area.x - 1 - std::max(1.5, 0.18 * o.font_size), y, frame_colour);
      }
  draw_frame(cr, area);
  const double tick_length = std::max(3.0, 0.35 * o.font_size);
  draw_text(cr, label, o.x_label, {(plan.left + plan.right) / 2, plan.bottom + 1 + tick_length + 0.4 * o.font_size + 1.4 * o.font_size, 0.5, 0});
  draw_text(cr, label, o.y_label, {o.font_size + 0.7 * label.size, (plan.top + plan.bottom) / 2, 0.5, 0.5, quarter_turn});
}

void draw_series(cairo_t* cr, const std::vector<Series>& series, const CurveOptions& o, const CurvePlan& plan) {
  cairo_save(cr);
  cairo_rectangle(cr, plan.left, plan.top, plan.right - plan.left, plan.bottom - plan.top);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (std::size_t i = 0; i < series.size(); ++i) {
    set_colour(cr, palette[i]);
    for (const auto& run : plan.runs[i]) {
      if (run.empty()) continue;
      for (const Point2& p : run) cairo_line_to(cr, p.x, p.y);
      if (run.size() == 1) cairo_rel_line_to(cr, 0, 0);  // a round cap makes a lone point a dot
      cairo_set_line_width(cr, run.size() == 1 ? 5 : 1.8);
      cairo_stroke(cr);
      if (!o.markers) continue;
      for (const Point2& p : run) cairo_new_sub_path(cr), cairo_arc(cr, p.x, p.y, 2.8, 0, 2 * std::numbers::pi);
      cairo_fill(cr);
    }
  }
  cairo_restore(cr);
}

void draw_legend(cairo_t* cr, const std::vector<Series>& series, const CurveOptions& o, const CurvePlan& plan) {
  if (series.empty()) return;
  const double f = o.font_size;
  cairo_rectangle(cr, crisp(plan.legend.x), crisp(plan.legend.y), std::round(plan.legend_width), std::round(plan.legend_height));
  cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
  cairo_fill_preserve(cr);
  set_colour(cr, {170, 170, 170});
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (std::size_t i = 0; i < series.size(); ++i) {
    const double y = plan.legend.y + 0.3 * f + 1.5 * f * (static_cast<double>(i) + 0.5);
    line(cr, plan.legend.x + 0.6 * f, y, plan.legend.x + 2.4 * f, y, palette[i], 2.2);
    draw_text(cr, Font{f}, series[i].name, {plan.legend.x + 3 * f, y, 0, 0.5});
  }
}

void draw_curves(cairo_t* cr, const std::vector<Series>& series, const CurveOptions& o, const CurvePlan& plan) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  draw_text(cr, Font{1.3 * o.font_size, true}, o.title, {o.width / 2.0, o.font_size, 0.5, 0});
  draw_axes(cr, o, plan);
  if (plan.empty)
    draw_text(cr, Font{o.font_size}, "no values to plot", {(plan.left + plan.right) / 2, (plan.top + plan.bottom) / 2, 0.5, 0.5}, {130, 130, 130});
  draw_series(cr, series, o, plan);
  draw_legend(cr, series, o, plan);
}

}  // namespace

// ---- Public ---------------------------------------------------------------------------------

Rgb sequential_colour(double s) {
  static const ColourTable<1024> table([](double u) { return oklch_colour(0.27 + 0.68 * u, 0.11 + 0.07 * u, 290 - 185 * u); });
  return table.at(s);
}

Rgb diverging_colour(double s) {
  static const ColourTable<1025> table([](double u) {
    const double d = std::abs(2 * u - 1);  // 0 at the centre, 1 at the ends
    return oklch_colour(1 - 0.6 * d, 0.19 * std::pow(d, 0.8), u < 0.5 ? 255 : 27);
  });
  return table.at(std::isnan(s) ? 0.5 : (s + 1) / 2);
}

PanelsLayout field_panels_layout(const FieldPanels& panels) { return plan_panels(grid_figure(panels, false)).layout; }

void write_field_panels(const fs::path& file, const FieldPanels& panels) {
  const PanelFigure fig = grid_figure(panels, true);
  write_panels(file, fig, plan_panels(fig));
}

PanelsLayout scatter_fields_layout(const ScatterFields& fields) { return scatter_figure(fields, false).second.layout; }

void write_scatter_fields(const fs::path& file, const ScatterFields& fields) {
  const auto [fig, plan] = scatter_figure(fields, true);
  write_panels(file, fig, plan);
}

Rgb series_colour(std::size_t i) { return palette.at(i); }

void write_curves(const fs::path& file, const std::vector<Series>& series, const CurveOptions& options) {
  check_curves(series, options);
  const CurvePlan plan = plan_curves(series, options);
  write_figure(file, options.width, options.height, [&](cairo_t* cr) { draw_curves(cr, series, options, plan); });
}

void write_loss_curve(const fs::path& file, const std::vector<Series>& series, const CurveOptions& options) {
  CurveOptions o = options;
  o.log_y = true;
  write_curves(file, series, o);
}

void write_error_curve(const fs::path& file, const std::vector<Series>& series, const CurveOptions& options) {
  write_curves(file, series, options);
}

std::pair<int, int> png_size(const fs::path& file) {
  const std::vector<std::byte> bytes = nn::read_file(file);
  struct Reader {
    const std::vector<std::byte>* bytes;
    std::size_t at = 0;
  } reader{&bytes};
  const auto read = [](void* closure, unsigned char* data, unsigned int length) {
    auto* r = static_cast<Reader*>(closure);
    if (r->bytes->size() - r->at < length) return CAIRO_STATUS_READ_ERROR;
    std::memcpy(data, r->bytes->data() + r->at, length);
    r->at += length;
    return CAIRO_STATUS_SUCCESS;
  };
  const SurfacePtr image(cairo_image_surface_create_from_png_stream(read, &reader), cairo_surface_destroy);
  if (cairo_surface_status(image.get()) != CAIRO_STATUS_SUCCESS)
    throw nn::FileError(file, std::string("not a readable PNG file (") + cairo_status_to_string(cairo_surface_status(image.get())) + ")");
  return {cairo_image_surface_get_width(image.get()), cairo_image_surface_get_height(image.get())};
}

}  // namespace experiments
