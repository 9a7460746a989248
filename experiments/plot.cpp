#include "experiments/plot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string_view>

#include "nn/files.hpp"

namespace experiments {

namespace {

// ---- Font ---------------------------------------------------------------------------------

/// Rows top to bottom; bit 4 is the leftmost column.
using GlyphMask = std::array<std::uint8_t, 9>;
constexpr int glyph_columns = 5, glyph_rows = 9, cell_columns = 6, cell_rows = 10;

struct GlyphSource {
  char c;
  std::string_view rows;  ///< up to 9 space-separated rows of 5 '#'/'.'; missing rows are blank
};

// The glyph designs. Rows 0-6 stand on the baseline, rows 7-8 hold descenders.
constexpr GlyphSource glyph_sources[] = {
    {' ', ""},
    {'!', "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#.."},
    {'"', ".#.#. .#.#. .#.#."},
    {'#', ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#."},
    {'$', "..#.. .#### #.#.. .###. ..#.# ####. ..#.."},
    {'%', "##... ##..# ...#. ..#.. .#... #..## ...##"},
    {'&', ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#"},
    {'\'', "..#.. ..#.. ..#.."},
    {'(', "...#. ..#.. .#... .#... .#... ..#.. ...#."},
    {')', ".#... ..#.. ...#. ...#. ...#. ..#.. .#..."},
    {'*', "..... ..#.. #.#.# .###. #.#.# ..#.. ....."},
    {'+', "..... ..#.. ..#.. ##### ..#.. ..#.. ....."},
    {',', "..... ..... ..... ..... ..... .##.. ..#.. .#..."},
    {'-', "..... ..... ..... .###. ..... ..... ....."},
    {'.', "..... ..... ..... ..... ..... .##.. .##.."},
    {'/', "..... ....# ...#. ..#.. .#... #.... ....."},
    {'0', ".###. #...# #..## #.#.# ##..# #...# .###."},
    {'1', "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###."},
    {'2', ".###. #...# ....# ...#. ..#.. .#... #####"},
    {'3', "####. ....# ....# .###. ....# ....# ####."},
    {'4', "...#. ..##. .#.#. #..#. ##### ...#. ...#."},
    {'5', "##### #.... ####. ....# ....# #...# .###."},
    {'6', "..##. .#... #.... ####. #...# #...# .###."},
    {'7', "##### ....# ...#. ..#.. .#... .#... .#..."},
    {'8', ".###. #...# #...# .###. #...# #...# .###."},
    {'9', ".###. #...# #...# .#### ....# ...#. .##.."},
    {':', "..... .##.. .##.. ..... .##.. .##.. ....."},
    {';', "..... .##.. .##.. ..... .##.. .##.. ..#.. .#..."},
    {'<', "...#. ..#.. .#... #.... .#... ..#.. ...#."},
    {'=', "..... ..... ##### ..... ##### ..... ....."},
    {'>', ".#... ..#.. ...#. ....# ...#. ..#.. .#..."},
    {'?', ".###. #...# ....# ...#. ..#.. ..... ..#.."},
    {'@', ".###. #...# #.### #.#.# #.### #.... .####"},
    {'A', ".###. #...# #...# ##### #...# #...# #...#"},
    {'B', "####. #...# #...# ####. #...# #...# ####."},
    {'C', ".###. #...# #.... #.... #.... #...# .###."},
    {'D', "###.. #..#. #...# #...# #...# #..#. ###.."},
    {'E', "##### #.... #.... ####. #.... #.... #####"},
    {'F', "##### #.... #.... ####. #.... #.... #...."},
    {'G', ".###. #...# #.... #.### #...# #...# .####"},
    {'H', "#...# #...# #...# ##### #...# #...# #...#"},
    {'I', ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###."},
    {'J', "..### ...#. ...#. ...#. ...#. #..#. .##.."},
    {'K', "#...# #..#. #.#.. ##... #.#.. #..#. #...#"},
    {'L', "#.... #.... #.... #.... #.... #.... #####"},
    {'M', "#...# ##.## #.#.# #.#.# #...# #...# #...#"},
    {'N', "#...# #...# ##..# #.#.# #..## #...# #...#"},
    {'O', ".###. #...# #...# #...# #...# #...# .###."},
    {'P', "####. #...# #...# ####. #.... #.... #...."},
    {'Q', ".###. #...# #...# #...# #.#.# #..#. .##.#"},
    {'R', "####. #...# #...# ####. #.#.. #..#. #...#"},
    {'S', ".#### #.... #.... .###. ....# ....# ####."},
    {'T', "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."},
    {'U', "#...# #...# #...# #...# #...# #...# .###."},
    {'V', "#...# #...# #...# #...# #...# .#.#. ..#.."},
    {'W', "#...# #...# #...# #.#.# #.#.# #.#.# .#.#."},
    {'X', "#...# #...# .#.#. ..#.. .#.#. #...# #...#"},
    {'Y', "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.."},
    {'Z', "##### ....# ...#. ..#.. .#... #.... #####"},
    {'[', ".###. .#... .#... .#... .#... .#... .###."},
    {'\\', "..... #.... .#... ..#.. ...#. ....# ....."},
    {']', ".###. ...#. ...#. ...#. ...#. ...#. .###."},
    {'^', "..#.. .#.#. #...#"},
    {'_', "..... ..... ..... ..... ..... ..... ..... #####"},
    {'`', ".#... ..#.."},
    {'a', "..... ..... .###. ....# .#### #...# .####"},
    {'b', "#.... #.... #.##. ##..# #...# #...# ####."},
    {'c', "..... ..... .###. #.... #.... #...# .###."},
    {'d', "....# ....# .##.# #..## #...# #...# .####"},
    {'e', "..... ..... .###. #...# ##### #.... .###."},
    {'f', "..##. .#..# .#... ###.. .#... .#... .#..."},
    {'g', "..... ..... .#### #...# #...# #...# .#### ....# .###."},
    {'h', "#.... #.... #.##. ##..# #...# #...# #...#"},
    {'i', "..#.. ..... .##.. ..#.. ..#.. ..#.. .###."},
    {'j', "...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##.."},
    {'k', "#.... #.... #..#. #.#.. ##... #.#.. #..#."},
    {'l', ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###."},
    {'m', "..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#"},
    {'n', "..... ..... #.##. ##..# #...# #...# #...#"},
    {'o', "..... ..... .###. #...# #...# #...# .###."},
    {'p', "..... ..... ####. #...# #...# #...# ####. #.... #...."},
    {'q', "..... ..... .#### #...# #...# #...# .#### ....# ....#"},
    {'r', "..... ..... #.##. ##..# #.... #.... #...."},
    {'s', "..... ..... .#### #.... .###. ....# ####."},
    {'t', ".#... .#... ###.. .#... .#... .#..# ..##."},
    {'u', "..... ..... #...# #...# #...# #..## .##.#"},
    {'v', "..... ..... #...# #...# #...# .#.#. ..#.."},
    {'w', "..... ..... #...# #...# #.#.# #.#.# .#.#."},
    {'x', "..... ..... #...# .#.#. ..#.. .#.#. #...#"},
    {'y', "..... ..... #...# #...# #...# #...# .#### ....# .###."},
    {'z', "..... ..... ##### ...#. ..#.. .#... #####"},
    {'{', "...## ..#.. ..#.. .#... ..#.. ..#.. ...##"},
    {'|', "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."},
    {'}', "##... ..#.. ..#.. ...#. ..#.. ..#.. ##..."},
    {'~', "..... ..... .#... #.#.# ...#. ..... ....."},
};

constexpr char first_printable = ' ', last_printable = '~';
constexpr std::size_t printable_count = last_printable - first_printable + 1;

/// Parses one glyph design; malformed data is a compile error because the font is constexpr.
constexpr GlyphMask parse_glyph(std::string_view rows) {
  GlyphMask mask{};
  std::size_t row = 0, column = 0;
  for (char ch : rows) {
    if (ch == ' ') {
      if (column != glyph_columns) throw std::logic_error("glyph row is not 5 wide");
      ++row;
      column = 0;
      continue;
    }
    if (row >= glyph_rows || column >= glyph_columns || (ch != '#' && ch != '.'))
      throw std::logic_error("malformed glyph");
    if (ch == '#') mask[row] = static_cast<std::uint8_t>(mask[row] | (1u << (glyph_columns - 1 - column)));
    ++column;
  }
  if (!rows.empty() && column != glyph_columns) throw std::logic_error("glyph row is not 5 wide");
  return mask;
}

/// The printable ASCII glyphs indexed by c - ' '; each must be designed exactly once.
constexpr std::array<GlyphMask, printable_count> build_font() {
  std::array<GlyphMask, printable_count> font{};
  std::array<bool, printable_count> seen{};
  for (const GlyphSource& g : glyph_sources) {
    if (g.c < first_printable || g.c > last_printable) throw std::logic_error("glyph outside printable ASCII");
    const auto i = static_cast<std::size_t>(g.c - first_printable);
    if (seen[i]) throw std::logic_error("glyph designed twice");
    seen[i] = true;
    font[i] = parse_glyph(g.rows);
  }
  for (bool s : seen)
    if (!s) throw std::logic_error("printable glyph missing");
  return font;
}

constexpr auto font = build_font();
constexpr GlyphMask missing_glyph = parse_glyph("##### #...# #...# #...# #...# #...# #####");

/// The glyph of each character of `text`: printable ASCII has its own, every other UTF-8 code
/// point (lead byte; continuation bytes are skipped) or control byte shows missing_glyph.
std::vector<const GlyphMask*> glyphs_of(std::string_view text) {
  std::vector<const GlyphMask*> glyphs;
  for (char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte >= first_printable && byte <= last_printable)
      glyphs.push_back(&font[byte - first_printable]);
    else if ((byte & 0xC0u) != 0x80u)
      glyphs.push_back(&missing_glyph);
  }
  return glyphs;
}

/// Calls dot(u, v) for the top-left corner of every inked scale x scale square of `text` laid
/// out horizontally from (0, 0); u runs along the text, v down the line.
template <class Dot>
void ink_text(std::string_view text, int scale, Dot dot) {
  const std::vector<const GlyphMask*> glyphs = glyphs_of(text);
  for (std::size_t k = 0; k < glyphs.size(); ++k)
    for (int row = 0; row < glyph_rows; ++row)
      for (int column = 0; column < glyph_columns; ++column)
        if (((*glyphs[k])[static_cast<std::size_t>(row)] >> (glyph_columns - 1 - column)) & 1u)
          dot(static_cast<int>(k) * glyph_advance(scale) + column * scale, row * scale);
}

// ---- Numbers and ticks -------------------------------------------------------------------

/// "1.5e-05" -> "1.5e-5", "2e+03" -> "2e3": exponents without sign padding or leading zeros.
std::string compact_exponent(const std::string& s) {
  const std::size_t e = s.find('e');
  if (e == std::string::npos) return s;
  return s.substr(0, e) + "e" + std::to_string(std::stoi(s.substr(e + 1)));
}

/// `v` with three significant digits, e.g. 0.0123 or 4.56e-5.
std::string three_digits(double v) { return compact_exponent(fmt::format("{:.3g}", v)); }

struct Ticks {
  std::vector<double> values;
  std::vector<std::string> labels;
};

/// Round-number ticks (multiples of 1, 2 or 5 times a power of ten) inside [lo, hi], at most
/// max_count of them, with labels showing just enough digits to tell neighbours apart. A range
/// too narrow for its magnitude to count steps in integers gets just its two ends.
Ticks round_ticks(double lo, double hi, int max_count) {
  const double base = std::pow(10.0, std::floor(std::log10((hi - lo) / max_count)));
  if (!(std::max(std::abs(lo), std::abs(hi)) / base < 1e15)) return {{lo, hi}, {three_digits(lo), three_digits(hi)}};
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
    if (v == 0.0)
      ticks.labels.emplace_back("0");
    else if (scientific)
      ticks.labels.push_back(compact_exponent(fmt::format("{:.{}e}", v, digits)));
    else
      ticks.labels.push_back(fmt::format("{:.{}f}", v, digits));
  }
  return ticks;
}

/// The densest round_ticks (at most 10) along an axis `length` pixels long whose neighbours
/// are at least min_spacing(ticks) pixels apart.
template <class MinSpacing>
Ticks fitting_ticks(double lo, double hi, double length, MinSpacing min_spacing) {
  for (int count = 10; count > 1; --count) {
    Ticks ticks = round_ticks(lo, hi, count);
    if (ticks.values.size() < 2) return ticks;
    const double spacing = (ticks.values[1] - ticks.values[0]) / (hi - lo) * length;
    if (spacing >= min_spacing(ticks)) return ticks;
  }
  return round_ticks(lo, hi, 1);
}

int widest_label(const Ticks& ticks, int scale) {
  int widest = 0;
  for (const std::string& label : ticks.labels) widest = std::max(widest, text_width(label, scale));
  return widest;
}

// ---- Field figure ------------------------------------------------------------------------

constexpr Rgb ink{25, 25, 25};
constexpr Rgb frame_colour{70, 70, 70};

struct Range {
  double lo = 0, hi = 1;
};

/// Everything the field figure needs besides the data: layout, axis ranges, ticks, scales.
struct FieldPlan {
  FieldPanelsLayout layout;
  Range t_range, x_range;
  Ticks t_ticks, x_ticks, shared_ticks, error_ticks;
  double shared_scale = 1, error_scale = 1;
  int left_area = 0;  ///< pixels left of each field panel: vertical axis label and tick labels
  ad::Matrix<double> error;
  std::string error_title;
};

void check_coordinates(const std::vector<double>& c, const char* name) {
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
std::vector<Eigen::Index> nearest_cells(const std::vector<double>& c, Range range, int pixels, bool upwards) {
  std::vector<Eigen::Index> cells(static_cast<std::size_t>(pixels));
  for (int p = 0; p < pixels; ++p) {
    const double fraction = (p + 0.5) / pixels;
    const double v = upwards ? range.hi - fraction * (range.hi - range.lo) : range.lo + fraction * (range.hi - range.lo);
    auto above = std::lower_bound(c.begin(), c.end(), v);
    if (above == c.end() || (above != c.begin() && v - *(above - 1) <= *above - v)) --above;
    cells[static_cast<std::size_t>(p)] = above - c.begin();
  }
  return cells;
}

/// The symmetric colour scale for values whose largest finite magnitude is `max_abs`.
double symmetric_scale(double max_abs) { return max_abs > 0 ? max_abs : 1.0; }

template <class Derived>
double max_abs_finite(const Eigen::DenseBase<Derived>& m) {
  double largest = 0;
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      if (std::isfinite(static_cast<double>(m(i, j)))) largest = std::max(largest, std::abs(static_cast<double>(m(i, j))));
  return largest;
}

FieldPlan plan_field_panels(const FieldPanels& p) {
  if (p.font_scale < 1 || p.font_scale > 8)
    throw std::invalid_argument(fmt::format("field panels: font scale {} is outside [1, 8]", p.font_scale));
  if (p.panel_width < 16 || p.panel_height < 16 || p.panel_width > 4096 || p.panel_height > 4096)
    throw std::invalid_argument(
        fmt::format("field panels: panel size {}x{} is outside [16, 4096]", p.panel_width, p.panel_height));
  const auto n_t = static_cast<Eigen::Index>(p.t.size()), n_x = static_cast<Eigen::Index>(p.x.size());
  if (n_t == 0 || n_x == 0) throw std::invalid_argument("field panels: the t and x grids must not be empty");
  if (p.truth.rows() != n_t || p.truth.cols() != n_x || p.prediction.rows() != n_t || p.prediction.cols() != n_x)
    throw std::invalid_argument(fmt::format("field panels: truth is {}x{} and prediction {}x{}, but the grid is {}x{}",
                                            p.truth.rows(), p.truth.cols(), p.prediction.rows(), p.prediction.cols(),
                                            n_t, n_x));
  check_coordinates(p.t, "t");
  check_coordinates(p.x, "x");

  FieldPlan plan;
  const int u = p.font_scale, line = text_height(u), adv = glyph_advance(u);
  plan.t_range = cell_extent(p.t);
  plan.x_range = cell_extent(p.x);
  plan.t_ticks = fitting_ticks(plan.t_range.lo, plan.t_range.hi, p.panel_width,
                               [&](const Ticks& t) { return widest_label(t, u) + 2 * adv; });
  const auto vertical_spacing = [&](const Ticks&) { return 2 * line; };
  plan.x_ticks = fitting_ticks(plan.x_range.lo, plan.x_range.hi, p.panel_height, vertical_spacing);

  plan.error = p.prediction.cast<double>() - p.truth.cast<double>();
  const double max_abs_error = max_abs_finite(plan.error);
  plan.shared_scale = symmetric_scale(std::max(max_abs_finite(p.truth), max_abs_finite(p.prediction)));
  plan.error_scale = symmetric_scale(max_abs_error);
  plan.shared_ticks = fitting_ticks(-plan.shared_scale, plan.shared_scale, p.panel_height, vertical_spacing);
  plan.error_ticks = fitting_ticks(-plan.error_scale, plan.error_scale, p.panel_height, vertical_spacing);
  plan.error_title = "error, max |e| = " + three_digits(max_abs_error);

  // Horizontal: [x label, x ticks, panel] gap [.., panel] bar labels gap [.., panel] bar labels.
  const int margin = 4 * u, tick = 2 * u, pad = u, gap = 5 * u, bar_gap = 3 * u, bar_width = 5 * u;
  plan.left_area = line + 2 * u + widest_label(plan.x_ticks, u) + pad + tick + 1;
  const int left_area = plan.left_area;
  const auto bar_area = [&](const Ticks& t) { return bar_width + 1 + tick + pad + widest_label(t, u); };
  FieldPanelsLayout& l = plan.layout;
  l.truth.x = margin + left_area;
  l.prediction.x = l.truth.x + p.panel_width + gap + left_area;
  l.shared_bar.x = l.prediction.x + p.panel_width + bar_gap;
  l.error.x = l.shared_bar.x + bar_area(plan.shared_ticks) + gap + left_area;
  l.error_bar.x = l.error.x + p.panel_width + bar_gap;
  const int content_width = l.error_bar.x + bar_area(plan.error_ticks) + margin;

  // Vertical: title, panel titles, panels, t tick labels, t label.
  const int title_block = p.title.empty() ? 0 : text_height(u + 1) + 4 * u;
  const int panel_y = margin + title_block + line + u;
  l.height = panel_y + p.panel_height + 1 + tick + pad + line + u + line + margin;
  l.width = std::max(content_width, 2 * margin + text_width(p.title, u + 1));

  const int shift = (l.width - content_width) / 2;
  for (PixelRect* r : {&l.truth, &l.prediction, &l.error}) *r = {r->x + shift, panel_y, p.panel_width, p.panel_height};
  for (PixelRect* r : {&l.shared_bar, &l.error_bar}) *r = {r->x + shift, panel_y, bar_width, p.panel_height};
  return plan;
}

/// The pixel offset in [0, pixels) of value v on an axis over `range`; `upwards` for vertical.
int axis_offset(double v, Range range, int pixels, bool upwards) {
  const double fraction = (v - range.lo) / (range.hi - range.lo);
  const int p = static_cast<int>(std::floor((upwards ? 1 - fraction : fraction) * pixels));
  return std::clamp(p, 0, pixels - 1);
}

void draw_frame(Image& image, const PixelRect& r) {
  image.fill_rect(r.x - 1, r.y - 1, r.width + 2, 1, frame_colour);
  image.fill_rect(r.x - 1, r.y + r.height, r.width + 2, 1, frame_colour);
  image.fill_rect(r.x - 1, r.y - 1, 1, r.height + 2, frame_colour);
  image.fill_rect(r.x + r.width, r.y - 1, 1, r.height + 2, frame_colour);
}

/// Tick marks and labels of a vertical axis along the left (labels right-aligned) or right
/// side of `r`.
void draw_vertical_ticks(Image& image, const PixelRect& r, const Ticks& ticks, Range range, bool left, int u) {
  const int tick = 2 * u, pad = u;
  for (std::size_t k = 0; k < ticks.values.size(); ++k) {
    const int y = r.y + axis_offset(ticks.values[k], range, r.height, true);
    const int label_y = y - 7 * u / 2;  // centre the cap height on the tick
    if (left) {
      image.fill_rect(r.x - 1 - tick, y, tick, 1, frame_colour);
      draw_text(image, r.x - 1 - tick - pad - text_width(ticks.labels[k], u), label_y, ticks.labels[k], ink, u);
    } else {
      image.fill_rect(r.x + r.width + 1, y, tick, 1, frame_colour);
      draw_text(image, r.x + r.width + 1 + tick + pad, label_y, ticks.labels[k], ink, u);
    }
  }
}

void draw_centred(Image& image, int centre_x, int y, std::string_view text, int u) {
  draw_text(image, centre_x - text_width(text, u) / 2, y, text, ink, u);
}

/// One field panel: the cells, its frame, both axes with ticks and labels, and its title.
template <class Derived>
void draw_field_panel(Image& image, const FieldPanels& p, const FieldPlan& plan, const PixelRect& r,
                      const Eigen::DenseBase<Derived>& values, double scale, std::string_view title) {
  const int u = p.font_scale, line = text_height(u), tick = 2 * u, pad = u;
  const auto columns = nearest_cells(p.t, plan.t_range, r.width, false);
  const auto rows = nearest_cells(p.x, plan.x_range, r.height, true);
  for (int py = 0; py < r.height; ++py)
    for (int px = 0; px < r.width; ++px) {
      const double v = static_cast<double>(values(columns[static_cast<std::size_t>(px)], rows[static_cast<std::size_t>(py)]));
      image.set(r.x + px, r.y + py, std::isfinite(v) ? diverging_colour(v / scale) : non_finite_colour);
    }
  draw_frame(image, r);

  const int label_y = r.y + r.height + 1 + tick + pad;
  for (std::size_t k = 0; k < plan.t_ticks.values.size(); ++k) {
    const int x = r.x + axis_offset(plan.t_ticks.values[k], plan.t_range, r.width, false);
    image.fill_rect(x, r.y + r.height + 1, 1, tick, frame_colour);
    draw_centred(image, x, label_y, plan.t_ticks.labels[k], u);
  }
  draw_centred(image, r.x + r.width / 2, label_y + line + u, p.t_label, u);
  draw_vertical_ticks(image, r, plan.x_ticks, plan.x_range, true, u);
  draw_text_vertical(image, r.x - plan.left_area, r.y + (r.height - text_width(p.x_label, u)) / 2, p.x_label, ink, u);
  draw_centred(image, r.x + r.width / 2, r.y - u - line, title, u);
}

/// A vertical colour bar from +scale (top) to -scale (bottom) with ticks on its right.
void draw_colour_bar(Image& image, const PixelRect& r, const Ticks& ticks, double scale, int u) {
  for (int py = 0; py < r.height; ++py)
    image.fill_rect(r.x, r.y + py, r.width, 1, diverging_colour(1.0 - 2.0 * (py + 0.5) / r.height));
  draw_frame(image, r);
  draw_vertical_ticks(image, r, ticks, {-scale, scale}, false, u);
}

// ---- Loss curve --------------------------------------------------------------------------

std::string xml_escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

/// Approximate rendered width of SVG text at font size 13 (sans-serif averages ~0.6 em).
double svg_text_width(std::string_view text) { return 7.8 * static_cast<double>(text.size()); }

struct LossPoint {
  double epoch = 0, value = 0;
};

/// The plottable points of a series: finite epochs with finite, positive values.
std::vector<LossPoint> plottable_points(const LossSeries& s) {
  if (!s.epochs.empty() && s.epochs.size() != s.values.size())
    throw std::invalid_argument(fmt::format("loss curve: series '{}' has {} epochs for {} values", s.name,
                                            s.epochs.size(), s.values.size()));
  std::vector<LossPoint> points;
  for (std::size_t i = 0; i < s.values.size(); ++i) {
    const double epoch = s.epochs.empty() ? static_cast<double>(i) : s.epochs[i];
    if (!std::isfinite(epoch))
      throw std::invalid_argument(fmt::format("loss curve: series '{}' has a non-finite epoch at index {}", s.name, i));
    if (std::isfinite(s.values[i]) && s.values[i] > 0) points.push_back({epoch, s.values[i]});
  }
  return points;
}

constexpr std::array<std::string_view, 8> series_colours = {"#1f5fbf", "#d9482b", "#2a9d5c", "#8a4fc4",
                                                            "#d99a00", "#17a2b8", "#c2185b", "#5a5a5a"};

}  // namespace

// ---- Public: font and colours ------------------------------------------------------------

int glyph_advance(int scale) { return cell_columns * scale; }

int text_height(int scale) { return cell_rows * scale; }

int text_width(std::string_view text, int scale) {
  const auto n = static_cast<int>(glyphs_of(text).size());
  return n == 0 ? 0 : n * glyph_advance(scale) - scale;
}

void draw_text(Image& image, int x, int y, std::string_view text, Rgb colour, int scale) {
  ink_text(text, scale, [&](int u, int v) { image.fill_rect(x + u, y + v, scale, scale, colour); });
}

void draw_text_vertical(Image& image, int x, int y, std::string_view text, Rgb colour, int scale) {
  const int length = text_width(text, scale);
  ink_text(text, scale, [&](int u, int v) { image.fill_rect(x + v, y + length - u - scale, scale, scale, colour); });
}

Rgb diverging_colour(double s) {
  struct Stop {
    double at;
    double r, g, b;
  };
  static constexpr std::array<Stop, 7> stops = {{{-1.0, 10, 40, 110},
                                                 {-0.6, 35, 105, 180},
                                                 {-0.25, 145, 195, 230},
                                                 {0.0, 255, 255, 255},
                                                 {0.25, 245, 175, 150},
                                                 {0.6, 205, 55, 45},
                                                 {1.0, 110, 5, 25}}};
  s = std::isnan(s) ? 0.0 : std::clamp(s, -1.0, 1.0);
  std::size_t k = 1;
  while (k + 1 < stops.size() && s > stops[k].at) ++k;
  const Stop &a = stops[k - 1], &b = stops[k];
  const double w = (s - a.at) / (b.at - a.at);
  const auto mix = [w](double from, double to) { return static_cast<std::uint8_t>(std::lround(from + w * (to - from))); };
  return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

// ---- Public: field figure ----------------------------------------------------------------

FieldPanelsLayout field_panels_layout(const FieldPanels& panels) { return plan_field_panels(panels).layout; }

Image render_field_panels(const FieldPanels& p) {
  const FieldPlan plan = plan_field_panels(p);
  const FieldPanelsLayout& l = plan.layout;
  const int u = p.font_scale;
  Image image(l.width, l.height);
  if (!p.title.empty()) draw_text(image, (l.width - text_width(p.title, u + 1)) / 2, 4 * u, p.title, ink, u + 1);
  draw_field_panel(image, p, plan, l.truth, p.truth, plan.shared_scale, "true");
  draw_field_panel(image, p, plan, l.prediction, p.prediction, plan.shared_scale, "predicted");
  draw_field_panel(image, p, plan, l.error, plan.error, plan.error_scale, plan.error_title);
  draw_colour_bar(image, l.shared_bar, plan.shared_ticks, plan.shared_scale, u);
  draw_colour_bar(image, l.error_bar, plan.error_ticks, plan.error_scale, u);
  return image;
}

void write_field_panels(const std::filesystem::path& png, const FieldPanels& panels) {
  write_png(png, render_field_panels(panels));
}

// ---- Public: loss curve ------------------------------------------------------------------

std::string loss_curve_svg(const std::vector<LossSeries>& series, const LossCurveOptions& o) {
  if (o.width < 320 || o.height < 240)
    throw std::invalid_argument(fmt::format("loss curve: size {}x{} is below 320x240", o.width, o.height));
  std::vector<std::vector<LossPoint>> points;
  constexpr double inf = std::numeric_limits<double>::infinity();
  double x_lo = inf, x_hi = -inf, y_lo = inf, y_hi = -inf;
  for (const LossSeries& s : series) {
    points.push_back(plottable_points(s));
    for (const LossPoint& q : points.back()) {
      x_lo = std::min(x_lo, q.epoch);
      x_hi = std::max(x_hi, q.epoch);
      y_lo = std::min(y_lo, q.value);
      y_hi = std::max(y_hi, q.value);
    }
  }
  const bool empty = !(x_lo <= x_hi);
  if (empty) x_lo = 0, x_hi = 1, y_lo = 0.1, y_hi = 1;
  if (x_lo == x_hi) x_lo -= 1, x_hi += 1;
  const int decade_lo = static_cast<int>(std::floor(std::log10(y_lo)));
  int decade_hi = static_cast<int>(std::ceil(std::log10(y_hi)));
  if (decade_hi == decade_lo) ++decade_hi;

  const double left = 75, right = o.width - 20.0, top = 45, bottom = o.height - 55.0;
  const auto sx = [&](double e) { return left + (e - x_lo) / (x_hi - x_lo) * (right - left); };
  const auto sy = [&](double log_v) { return bottom - (log_v - decade_lo) / (decade_hi - decade_lo) * (bottom - top); };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"13\">\n"
      "<rect x=\"0\" y=\"0\" width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
      "<text x=\"{2:.1f}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">{3}</text>\n",
      o.width, o.height, o.width / 2.0, xml_escaped(o.title));

  // Log axis: at most 9 labelled decades, the multiples of a round `every`; minor ticks at 2..9.
  const int decades = decade_hi - decade_lo;
  int every = 1;
  for (int candidate : {1, 2, 3, 5, 10, 20, 50, 100, 200, 500})
    if ((every = candidate) * 8 >= decades) break;
  for (int k = decade_lo; k <= decade_hi; ++k) {
    const double y = sy(k);
    if (k % every == 0) {
      svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.2f}\" x2=\"{2:.1f}\" y2=\"{1:.2f}\" stroke=\"#dddddd\"/>\n", left, y, right);
      svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.2f}\" x2=\"{2:.1f}\" y2=\"{1:.2f}\" stroke=\"#333333\"/>\n", left - 6, y, left);
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.2f}\" text-anchor=\"end\">1e{}</text>\n", left - 9, y + 4.5, k);
    }
    if (decades <= 6 && k < decade_hi)
      for (int m = 2; m <= 9; ++m)
        svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.2f}\" x2=\"{2:.1f}\" y2=\"{1:.2f}\" stroke=\"#333333\"/>\n", left - 3,
                           sy(k + std::log10(m)), left);
  }
  const Ticks x_ticks = fitting_ticks(x_lo, x_hi, right - left, [](const Ticks& t) {
    double widest = 0;
    for (const std::string& label : t.labels) widest = std::max(widest, svg_text_width(label));
    return widest + 16;
  });
  for (std::size_t k = 0; k < x_ticks.values.size(); ++k) {
    const double x = sx(x_ticks.values[k]);
    svg += fmt::format("<line x1=\"{0:.2f}\" y1=\"{1:.1f}\" x2=\"{0:.2f}\" y2=\"{2:.1f}\" stroke=\"#eeeeee\"/>\n", x, top, bottom);
    svg += fmt::format("<line x1=\"{0:.2f}\" y1=\"{1:.1f}\" x2=\"{0:.2f}\" y2=\"{2:.1f}\" stroke=\"#333333\"/>\n", x, bottom, bottom + 6);
    svg += fmt::format("<text x=\"{:.2f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x, bottom + 20, x_ticks.labels[k]);
  }
  svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#333333\"/>\n",
                     left, top, right - left, bottom - top);
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", (left + right) / 2, bottom + 42,
                     xml_escaped(o.x_label));
  svg += fmt::format("<text transform=\"translate(20 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                     (top + bottom) / 2, xml_escaped(o.y_label));
  if (empty)
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#888888\">no finite positive values</text>\n",
                       (left + right) / 2, (top + bottom) / 2);

  for (std::size_t i = 0; i < series.size(); ++i) {
    if (points[i].empty()) continue;
    const std::string_view colour = series_colours[i % series_colours.size()];
    svg += fmt::format("<polyline class=\"series\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\" stroke-linejoin=\"round\" points=\"",
                       colour);
    for (std::size_t k = 0; k < points[i].size(); ++k)
      svg += fmt::format("{}{:.2f},{:.2f}", k == 0 ? "" : " ", sx(points[i][k].epoch), sy(std::log10(points[i][k].value)));
    svg += "\"/>\n";
    if (points[i].size() == 1)  // a lone point draws no line
      svg += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"3\" fill=\"{}\"/>\n", sx(points[i][0].epoch),
                         sy(std::log10(points[i][0].value)), colour);
  }

  if (!series.empty()) {
    double widest = 0;
    for (const LossSeries& s : series) widest = std::max(widest, svg_text_width(s.name));
    const double box_w = widest + 52, box_h = 18.0 * static_cast<double>(series.size()) + 10;
    const double bx = right - box_w - 10, by = top + 10;
    svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#999999\"/>\n",
                       bx, by, box_w, box_h);
    for (std::size_t i = 0; i < series.size(); ++i) {
      const double y = by + 14 + 18.0 * static_cast<double>(i);
      svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"/>\n", bx + 8,
                         y - 4, bx + 32, y - 4, series_colours[i % series_colours.size()]);
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", bx + 40, y, xml_escaped(series[i].name));
    }
  }
  svg += "</svg>\n";
  return svg;
}

void write_loss_curve(const std::filesystem::path& file, const std::vector<LossSeries>& series,
                      const LossCurveOptions& options) {
  nn::write_file_atomically(file, loss_curve_svg(series, options));
}

}  // namespace experiments
