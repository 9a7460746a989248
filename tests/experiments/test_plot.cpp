#include <cairo.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <numbers>
#include <ostream>
#include <string>
#include <vector>

#include "experiments/plot.hpp"
#include "nn/files.hpp"
#include "support/cli.hpp"
#include "support/scratch_dir.hpp"

namespace experiments {
std::ostream& operator<<(std::ostream& os, const Rgb& c) {
  return os << "rgb(" << int(c.r) << ", " << int(c.g) << ", " << int(c.b) << ")";
}
}  // namespace experiments

namespace {

namespace fs = std::filesystem;
using experiments::PixelRect;
using experiments::Rgb;
using testing::ScratchDir;

constexpr Rgb white{255, 255, 255};
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

/// A PNG file decoded by cairo, independently of how it was written.
class Picture {
 public:
  explicit Picture(const fs::path& file)
      : surface_(cairo_image_surface_create_from_png(file.c_str()), cairo_surface_destroy) {
    REQUIRE_MESSAGE(cairo_surface_status(surface_.get()) == CAIRO_STATUS_SUCCESS, "cannot decode " << file);
    cairo_surface_flush(surface_.get());
  }
  int width() const { return cairo_image_surface_get_width(surface_.get()); }
  int height() const { return cairo_image_surface_get_height(surface_.get()); }
  Rgb pixel(int x, int y) const {
    REQUIRE((x >= 0 && y >= 0 && x < width() && y < height()));
    const unsigned char* row = cairo_image_surface_get_data(surface_.get()) +
                               static_cast<std::ptrdiff_t>(y) * cairo_image_surface_get_stride(surface_.get());
    const std::uint32_t v = reinterpret_cast<const std::uint32_t*>(row)[x];
    return {std::uint8_t(v >> 16), std::uint8_t(v >> 8), std::uint8_t(v)};
  }
  /// The pixel at fraction (u, v) of r from its top-left corner.
  Rgb at(const PixelRect& r, double u, double v) const {
    return pixel(r.x + static_cast<int>(std::floor(u * r.width)), r.y + static_cast<int>(std::floor(v * r.height)));
  }

 private:
  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface_;
};

int distance(Rgb a, Rgb b) { return std::abs(a.r - b.r) + std::abs(a.g - b.g) + std::abs(a.b - b.b); }

/// Relative luminance of an sRGB colour.
double luminance(Rgb c) {
  const auto linear = [](std::uint8_t v) {
    const double s = v / 255.0;
    return s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * linear(c.r) + 0.7152 * linear(c.g) + 0.0722 * linear(c.b);
}

std::string read_text(const fs::path& file) {
  const auto bytes = nn::read_file(file);
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::vector<double> linspace(double lo, double hi, int n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = n == 1 ? lo : lo + (hi - lo) * i / (n - 1);
  return v;
}

/// A smooth travelling bump on an n_t x n_x grid over t in [0, 1], x in [0, 2].
experiments::FieldPanels wave_panels(int n_t, int n_x) {
  experiments::FieldPanels p;
  p.t = linspace(0, 1, n_t);
  p.x = linspace(0, 2, n_x);
  p.truth.resize(n_t, n_x);
  p.prediction.resize(n_t, n_x);
  for (int i = 0; i < n_t; ++i)
    for (int j = 0; j < n_x; ++j) {
      const double t = p.t[static_cast<std::size_t>(i)], x = p.x[static_cast<std::size_t>(j)];
      p.truth(i, j) = static_cast<float>(std::exp(-40 * (x - 0.5 - t) * (x - 0.5 - t)));
      p.prediction(i, j) = static_cast<float>(0.97 * std::exp(-38 * (x - 0.52 - t) * (x - 0.52 - t)));
    }
  p.title = "Traveling wave, epoch 1000";
  return p;
}

/// The pixel at the centre of grid cell (i, j) of a panel on a uniform n_t x n_x grid: t index
/// i runs left to right, x index j bottom to top.
Rgb cell_centre(const Picture& pic, const PixelRect& r, int i, int j, int n_t, int n_x) {
  return pic.at(r, (i + 0.5) / n_t, (n_x - 1 - j + 0.5) / n_x);
}

/// Every tag opened is closed in order or self-closing (comments and declarations skipped).
bool tags_balanced(const std::string& xml) {
  std::vector<std::string> open;
  for (std::size_t at = xml.find('<'); at != std::string::npos; at = xml.find('<', at + 1)) {
    const std::size_t end = xml.find('>', at);
    if (end == std::string::npos) return false;
    const std::string tag = xml.substr(at + 1, end - at - 1);
    if (tag.empty()) return false;
    if (tag[0] == '?' || tag[0] == '!') continue;
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return false;
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(tag.substr(0, tag.find_first_of(" \n")));
    }
  }
  return open.empty();
}

}  // namespace

// ---- Colour maps ----------------------------------------------------------------------------

TEST_CASE("the sequential colour map runs from dark blue-violet to light yellow, lighter at every step") {
  const Rgb low = experiments::sequential_colour(0), high = experiments::sequential_colour(1);
  CHECK(luminance(low) < 0.05);
  CHECK(luminance(high) > 0.7);
  CHECK(low.b > low.g);
  CHECK(high.r > high.b + 60);
  CHECK(high.g > high.b + 60);
  double previous = -1;
  for (int k = 0; k <= 20; ++k) {
    const double y = luminance(experiments::sequential_colour(k / 20.0));
    CHECK_MESSAGE(y > previous, "at s = " << k / 20.0);
    previous = y;
  }
  CHECK(experiments::sequential_colour(-3) == low);
  CHECK(experiments::sequential_colour(7) == high);
  CHECK(experiments::sequential_colour(not_a_number) == low);
}

TEST_CASE("the diverging colour map is white at zero, red at +1, blue at -1, darker away from zero, and clamps") {
  CHECK(experiments::diverging_colour(0.0) == white);
  CHECK(experiments::diverging_colour(not_a_number) == white);
  const Rgb top = experiments::diverging_colour(1.0), bottom = experiments::diverging_colour(-1.0);
  CHECK(top.r > 2 * top.g);
  CHECK(top.r > 2 * top.b);
  CHECK(bottom.b > 2 * bottom.r);
  CHECK(bottom.b > bottom.g);
  CHECK(experiments::diverging_colour(7.0) == top);
  CHECK(experiments::diverging_colour(-7.0) == bottom);
  double previous_red = 2, previous_blue = 2;
  for (int k = 1; k <= 20; ++k) {
    const double red = luminance(experiments::diverging_colour(k / 20.0)), blue = luminance(experiments::diverging_colour(-k / 20.0));
    CHECK(red < previous_red);
    CHECK(blue < previous_blue);
    previous_red = red, previous_blue = blue;
  }
}

// ---- Field figure on a (t, x) grid ------------------------------------------------------------

TEST_CASE("field figure: a PNG of the laid-out size, panels in a row, framed, on a white background") {
  ScratchDir dir;
  const experiments::FieldPanels p = wave_panels(10, 200);
  const experiments::PanelsLayout l = experiments::field_panels_layout(p);
  experiments::write_field_panels(dir / "field.png", p);
  CHECK(experiments::png_size(dir / "field.png") == std::pair{l.width, l.height});
  const Picture pic(dir / "field.png");
  CHECK(pic.width() == l.width);
  REQUIRE(l.rows.size() == 1);
  const auto& r = l.rows[0];
  for (const PixelRect& panel : {r.truth, r.prediction, r.error}) {
    CHECK(panel.width == p.panel_width);
    CHECK(panel.height == p.panel_height);
    CHECK(panel.y == r.truth.y);
    CHECK(panel.y + panel.height < l.height);
    CHECK(distance(pic.pixel(panel.x - 1, panel.y + 10), white) > 300);  // the frame
  }
  // Left to right without overlaps: true, predicted, its colour bar, error, its colour bar.
  CHECK(r.truth.x + r.truth.width < r.prediction.x);
  CHECK(r.prediction.x + r.prediction.width < r.field_bar.x);
  CHECK(r.field_bar.x + r.field_bar.width < r.error.x);
  CHECK(r.error.x + r.error.width < r.error_bar.x);
  CHECK(r.error_bar.x + r.error_bar.width < l.width);
  CHECK(pic.pixel(0, 0) == white);
  CHECK(pic.pixel(l.width - 1, l.height - 1) == white);

  // Panel sizes come from the options: the picture grows by 3 panel widths and 1 panel height.
  experiments::FieldPanels bigger = p;
  bigger.panel_width += 40;
  bigger.panel_height += 25;
  const experiments::PanelsLayout lb = experiments::field_panels_layout(bigger);
  CHECK(lb.width == l.width + 3 * 40);
  CHECK(lb.height == l.height + 25);
}

TEST_CASE("field figure: t runs right and x up; truth and prediction share one scale, the error has its own") {
  ScratchDir dir;
  const int n_t = 10, n_x = 200;
  experiments::FieldPanels p;
  p.t = linspace(0, 1, n_t);
  p.x = linspace(0, 2, n_x);
  p.truth = ad::Matrix<float>::Zero(n_t, n_x);
  p.truth(0, n_x - 1) = 2.0f;  // first time, top position
  p.prediction = p.truth;
  p.prediction(n_t - 1, 0) = -2.0f;  // last time, bottom position
  experiments::write_field_panels(dir / "field.png", p);
  const Picture pic(dir / "field.png");
  const auto r = experiments::field_panels_layout(p).rows.at(0);
  using experiments::sequential_colour;
  // The shared scale is [-2, 2].
  CHECK(cell_centre(pic, r.truth, 0, n_x - 1, n_t, n_x) == sequential_colour(1.0));
  CHECK(cell_centre(pic, r.prediction, 0, n_x - 1, n_t, n_x) == sequential_colour(1.0));
  CHECK(cell_centre(pic, r.truth, n_t - 1, 0, n_t, n_x) == sequential_colour(0.5));
  CHECK(cell_centre(pic, r.prediction, n_t - 1, 0, n_t, n_x) == sequential_colour(0.0));
  CHECK(cell_centre(pic, r.truth, 5, 100, n_t, n_x) == sequential_colour(0.5));
  // error = prediction - truth: -2 at (last t, first x), zero where they agree.
  CHECK(cell_centre(pic, r.error, n_t - 1, 0, n_t, n_x) == experiments::diverging_colour(-1.0));
  CHECK(cell_centre(pic, r.error, 0, n_x - 1, n_t, n_x) == white);
  // The colour bars run from the top of their scale down to its bottom, pixel by pixel.
  const int h = r.field_bar.height;
  CHECK(pic.pixel(r.field_bar.x + 2, r.field_bar.y) == sequential_colour(1 - 0.5 / h));
  CHECK(pic.pixel(r.field_bar.x + 2, r.field_bar.y + h - 1) == sequential_colour(0.5 / h));
  CHECK(pic.pixel(r.error_bar.x + 2, r.error_bar.y) == experiments::diverging_colour(1 - 1.0 / h));
  CHECK(pic.pixel(r.error_bar.x + 2, r.error_bar.y + h - 1) == experiments::diverging_colour(-1 + 1.0 / h));
}

TEST_CASE("field figure: a small error still reaches the end of its colour scale; a perfect one is all white") {
  ScratchDir dir;
  const int n_t = 4, n_x = 8;
  experiments::FieldPanels p;
  p.t = linspace(0, 3, n_t);
  p.x = linspace(-1, 1, n_x);
  p.truth = ad::Matrix<float>::Constant(n_t, n_x, 1.0f);
  p.truth(0, 0) = 0.0f;
  p.prediction = p.truth;
  p.prediction(2, 5) = 1.01f;
  experiments::write_field_panels(dir / "small.png", p);
  const auto r = experiments::field_panels_layout(p).rows.at(0);
  const Picture pic(dir / "small.png");
  CHECK(cell_centre(pic, r.error, 2, 5, n_t, n_x) == experiments::diverging_colour(1.0));
  CHECK(cell_centre(pic, r.error, 1, 5, n_t, n_x) == white);

  p.prediction = p.truth;
  experiments::write_field_panels(dir / "perfect.png", p);
  const Picture perfect(dir / "perfect.png");
  int non_white = 0;
  for (int y = 0; y < r.error.height; ++y)
    for (int x = 0; x < r.error.width; ++x) non_white += perfect.pixel(r.error.x + x, r.error.y + y) != white;
  CHECK(non_white == 0);
  CHECK(cell_centre(perfect, r.truth, 0, 0, n_t, n_x) == experiments::sequential_colour(0));
}

TEST_CASE("field figure: non-finite values are drawn in their own colour and do not disturb the scales") {
  ScratchDir dir;
  experiments::FieldPanels p;
  p.t = linspace(0, 1, 3);
  p.x = linspace(0, 1, 3);
  p.truth = ad::Matrix<float>::Zero(3, 3);
  p.truth(1, 1) = 1.0f;
  p.prediction = p.truth;
  p.prediction(0, 0) = std::numeric_limits<float>::quiet_NaN();
  p.prediction(2, 2) = std::numeric_limits<float>::infinity();
  experiments::write_field_panels(dir / "f.png", p);
  const Picture pic(dir / "f.png");
  const auto r = experiments::field_panels_layout(p).rows.at(0);
  CHECK(cell_centre(pic, r.prediction, 0, 0, 3, 3) == experiments::non_finite_colour);
  CHECK(cell_centre(pic, r.error, 2, 2, 3, 3) == experiments::non_finite_colour);
  CHECK(cell_centre(pic, r.truth, 1, 1, 3, 3) == experiments::sequential_colour(1.0));
  CHECK(cell_centre(pic, r.truth, 0, 0, 3, 3) == experiments::sequential_colour(0.0));
}

TEST_CASE("field figure: a non-uniform x grid maps each pixel to the nearest grid point") {
  ScratchDir dir;
  experiments::FieldPanels p;
  p.t = {0.0};
  p.x = {0.0, 0.1, 0.5, 2.0};
  p.truth.resize(1, 4);
  p.truth << 0.0f, 1.0f, 2.0f, 3.0f;
  p.prediction = p.truth;
  experiments::write_field_panels(dir / "f.png", p);
  const Picture pic(dir / "f.png");
  const auto r = experiments::field_panels_layout(p).rows.at(0);
  // The x axis spans [-0.05, 2.75]; x = 2.0 owns values above the midpoint 1.25, x = 0.5 those
  // between 0.3 and 1.25. Row 150 of 300 shows x = 1.35, row 170 x = 1.16, row 299 x = -0.045.
  const auto truth_row = [&](int row) { return pic.pixel(r.truth.x + 5, r.truth.y + row); };
  using experiments::sequential_colour;
  CHECK(truth_row(0) == sequential_colour(1.0));
  CHECK(truth_row(150) == sequential_colour(1.0));
  CHECK(truth_row(170) == sequential_colour(2.0 / 3));
  CHECK(truth_row(299) == sequential_colour(0.0));
}

TEST_CASE("field figure: inconsistent inputs are rejected with invalid_argument") {
  ScratchDir dir;
  experiments::FieldPanels p = wave_panels(5, 6);
  SUBCASE("shape") { p.prediction.resize(5, 5); }
  SUBCASE("decreasing coordinates") { std::swap(p.t[1], p.t[2]); }
  SUBCASE("non-finite coordinates") { p.x[3] = not_a_number; }
  SUBCASE("empty grid") { p.t.clear(); }
  SUBCASE("panel size") { p.panel_width = 3; }
  SUBCASE("font size") { p.font_size = 100; }
  CHECK_THROWS_AS(experiments::write_field_panels(dir / "f.png", p), std::invalid_argument);
  CHECK_FALSE(fs::exists(dir / "f.png"));
}

// ---- Scattered 2-D fields -------------------------------------------------------------------

namespace {

/// Points of a 0.1-spaced grid over [0, 8] x [0, 4] without those within 0.5 of (2, 2) (a
/// body in the flow); field 1 is x, field 2 is y, predicted exactly unless changed.
experiments::ScatterSnapshot grid_with_hole(const std::string& label) {
  std::vector<std::array<float, 2>> kept;
  for (int i = 0; i <= 80; ++i)
    for (int j = 0; j <= 40; ++j) {
      const float x = static_cast<float>(i) / 10, y = static_cast<float>(j) / 10;
      if ((x - 2) * (x - 2) + (y - 2) * (y - 2) > 0.25f) kept.push_back({x, y});
    }
  experiments::ScatterSnapshot s{.label = label};
  const auto n = static_cast<Eigen::Index>(kept.size());
  s.points.resize(n, 2);
  for (Eigen::Index k = 0; k < n; ++k) s.points.row(k) << kept[std::size_t(k)][0], kept[std::size_t(k)][1];
  s.truth = s.points;
  s.prediction = s.truth;
  return s;
}

/// The index of the point at (x, y) in grid_with_hole.
Eigen::Index point_at(const experiments::ScatterSnapshot& s, float x, float y) {
  for (Eigen::Index k = 0; k < s.points.rows(); ++k)
    if (std::abs(s.points(k, 0) - x) < 1e-4f && std::abs(s.points(k, 1) - y) < 1e-4f) return k;
  FAIL("no such point");
  return -1;
}

}  // namespace

TEST_CASE("scatter figure: rows per field and snapshot, equal aspect, each point painted where it lies, holes left empty") {
  ScratchDir dir;
  experiments::ScatterFields f{.field_names = {"u", "v"}, .title = "wake", .panel_width = 400, .panel_height = 400};
  f.snapshots = {grid_with_hole("t = 0"), grid_with_hole("t = 1")};
  f.snapshots[1].prediction(point_at(f.snapshots[1], 6, 1), 0) += 0.5f;  // one wrong u at t = 1
  const experiments::PanelsLayout l = experiments::scatter_fields_layout(f);
  experiments::write_scatter_fields(dir / "s.png", f);
  const Picture pic(dir / "s.png");
  CHECK(pic.width() == l.width);
  CHECK(pic.height() == l.height);
  REQUIRE(l.rows.size() == 4);  // u at t = 0, u at t = 1, v at t = 0, v at t = 1
  // [0, 8] x [0, 4] at 50 pixels per unit.
  CHECK(l.rows[0].truth.width == 400);
  CHECK(l.rows[0].truth.height == 200);
  for (std::size_t i = 1; i < 4; ++i) CHECK(l.rows[i].truth.y > l.rows[i - 1].truth.y + 200);

  using experiments::sequential_colour;
  const auto at_point = [&](const PixelRect& r, double x, double y) { return pic.at(r, (x + 0.01) / 8, (4 - y + 0.01) / 4); };
  // u = x on [0, 8]; v = y on [0, 4].
  CHECK(at_point(l.rows[0].truth, 6, 1) == sequential_colour(6 / 8.0));
  CHECK(at_point(l.rows[0].prediction, 4, 3) == sequential_colour(4 / 8.0));
  CHECK(at_point(l.rows[1].prediction, 6, 1) == sequential_colour(6.5 / 8.0));
  CHECK(at_point(l.rows[2].truth, 6, 1) == sequential_colour(1 / 4.0));
  CHECK(at_point(l.rows[3].prediction, 7, 3) == sequential_colour(3 / 4.0));
  // The error scale of u is ±0.5, shared by both snapshots.
  CHECK(at_point(l.rows[1].error, 6, 1) == experiments::diverging_colour(1.0));
  CHECK(at_point(l.rows[0].error, 6, 1) == white);
  CHECK(at_point(l.rows[2].error, 6, 1) == white);
  // The body's inside has no point within reach; all rows, all panels.
  for (const auto& row : l.rows)
    for (const PixelRect& r : {row.truth, row.prediction, row.error}) {
      CHECK(at_point(r, 2, 2) == experiments::no_data_colour);
      CHECK(at_point(r, 2.3, 2.1) == experiments::no_data_colour);
      CHECK(at_point(r, 2, 2.6) != experiments::no_data_colour);
    }
}

TEST_CASE("scatter figure: a full uniform grid leaves no pixel of a panel unpainted") {
  ScratchDir dir;
  const int n = 64;
  experiments::ScatterSnapshot s;
  s.points.resize(n * n, 2);
  s.truth.resize(n * n, 1);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const float x = static_cast<float>(2 * std::numbers::pi * i / n), y = static_cast<float>(2 * std::numbers::pi * j / n);
      s.points.row(i * n + j) << x, y;
      s.truth(i * n + j, 0) = std::sin(x) * std::cos(y);
    }
  s.prediction = s.truth * 0.9f;
  const experiments::ScatterFields f{.snapshots = {s}, .panel_width = 300, .panel_height = 300};
  experiments::write_scatter_fields(dir / "g.png", f);
  const Picture pic(dir / "g.png");
  const auto r = experiments::scatter_fields_layout(f).rows.at(0);
  CHECK(r.truth.width == r.truth.height);
  int empty = 0;
  for (int y = 0; y < r.truth.height; ++y)
    for (int x = 0; x < r.truth.width; ++x) empty += pic.pixel(r.truth.x + x, r.truth.y + y) == experiments::no_data_colour;
  CHECK(empty == 0);
}

TEST_CASE("scatter figure: bad input is rejected with invalid_argument") {
  ScratchDir dir;
  experiments::ScatterFields f{.snapshots = {grid_with_hole("")}};
  SUBCASE("no snapshots") { f.snapshots.clear(); }
  SUBCASE("prediction rows") { f.snapshots[0].prediction.conservativeResize(10, 2); }
  SUBCASE("field count") { f.snapshots[0].truth.conservativeResize(Eigen::NoChange, 1); }
  SUBCASE("names") { f.field_names = {"u"}; }
  SUBCASE("3-D points") { f.snapshots[0].points.conservativeResize(Eigen::NoChange, 3); }
  SUBCASE("non-finite coordinate") { f.snapshots[0].points(3, 1) = std::numeric_limits<float>::infinity(); }
  SUBCASE("too many rows") { f.snapshots.assign(experiments::max_panel_rows / 2 + 1, f.snapshots[0]); }
  SUBCASE("panel size") { f.panel_height = 5000; }
  CHECK_THROWS_AS(experiments::write_scatter_fields(dir / "s.png", f), std::invalid_argument);
  CHECK_FALSE(fs::exists(dir / "s.png"));
}

// ---- Curves ---------------------------------------------------------------------------------

namespace {

/// The pixel row nearest in colour to `c` in column x.
int row_of(const Picture& pic, int x, Rgb c) {
  int best = -1, best_distance = 1 << 30;
  for (int y = 0; y < pic.height(); ++y)
    if (distance(pic.pixel(x, y), c) < best_distance) best = y, best_distance = distance(pic.pixel(x, y), c);
  CHECK_MESSAGE(best_distance < 60, "colour " << c << " not found in column " << x);
  return best;
}

experiments::Series constant(const std::string& name, double value, int n = 50) {
  return {.name = name, .values = std::vector<double>(static_cast<std::size_t>(n), value)};
}

}  // namespace

TEST_CASE("loss curve: a standalone SVG document of the requested size") {
  ScratchDir dir;
  experiments::write_loss_curve(dir / "loss.svg", {{.name = "train", .values = {1e-1, 3e-2, 1e-2, not_a_number, 2e-3, 0.0, 5e-4}}},
                   {.title = "NIF training", .width = 640, .height = 400});
  const std::string svg = read_text(dir / "loss.svg");
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(svg.find("width=\"640") != std::string::npos);
  CHECK(svg.find("height=\"400") != std::string::npos);
  CHECK(tags_balanced(svg));
}

TEST_CASE("curves: a log axis puts 1e-2 midway between 1e-1 and 1e-3, a linear one 2 midway between 1 and 3") {
  ScratchDir dir;
  experiments::write_loss_curve(dir / "log.png", {constant("a", 2e-1), constant("b", 2e-2), constant("c", 2e-3)});
  const Picture log(dir / "log.png");
  CHECK(log.width() == 800);
  CHECK(log.height() == 500);
  const int x = log.width() / 3;
  const int a = row_of(log, x, experiments::series_colour(0)), b = row_of(log, x, experiments::series_colour(1)),
            c = row_of(log, x, experiments::series_colour(2));
  CHECK(a < b);
  CHECK(b < c);
  CHECK(std::abs(2 * b - a - c) <= 2);

  experiments::write_error_curve(dir / "linear.png", {constant("a", 3), constant("b", 2), constant("c", 1)}, {.log_y = false, .width = 600, .height = 400});
  const Picture linear(dir / "linear.png");
  CHECK(linear.width() == 600);
  const int l1 = row_of(linear, 200, experiments::series_colour(0)), l2 = row_of(linear, 200, experiments::series_colour(1)),
            l3 = row_of(linear, 200, experiments::series_colour(2));
  CHECK(l1 < l2);
  CHECK(l2 < l3);
  CHECK(std::abs(2 * l2 - l1 - l3) <= 2);
}

TEST_CASE("curves: values that cannot be drawn break the line") {
  ScratchDir dir;
  experiments::Series s = constant("gap", 3e-2, 101);
  for (std::size_t i = 40; i < 60; ++i) s.values[i] = i % 2 ? not_a_number : -1.0;  // neither is drawn on a log axis
  experiments::write_loss_curve(dir / "gap.png", {s});
  const Picture pic(dir / "gap.png");
  const Rgb colour = experiments::series_colour(0);
  const int y = row_of(pic, pic.width() / 5, colour);
  int runs = 0;
  bool inside = false;
  for (int x = 0; x < pic.width(); ++x) {
    const bool on = distance(pic.pixel(x, y), colour) < 60;
    runs += on && !inside;
    inside = on;
  }
  CHECK(runs == 2);
}

TEST_CASE("curves: a long history is reduced to the plot's resolution, so the file stays small") {
  ScratchDir dir;
  experiments::Series s{.name = "long"};
  for (int i = 0; i < 1'000'000; ++i) s.values.push_back(1.0 / (1 + i) * (1 + 0.5 * std::sin(i * 0.7)));
  experiments::write_loss_curve(dir / "long.svg", {s});
  CHECK(fs::file_size(dir / "long.svg") < 300'000);
}

TEST_CASE("curves: bad input is rejected with invalid_argument") {
  ScratchDir dir;
  std::vector<experiments::Series> series = {constant("a", 1)};
  experiments::CurveOptions o;
  fs::path file = dir / "c.svg";
  SUBCASE("x of another length") { series[0].x = {0, 1}; }
  SUBCASE("non-finite x") { series[0].x.assign(series[0].values.size(), not_a_number); }
  SUBCASE("too many series") { series.assign(experiments::max_series + 1, series[0]); }
  SUBCASE("too small") { o.width = 100; }
  SUBCASE("unknown format") { file = dir / "c.jpg"; }
  CHECK_THROWS_AS(experiments::write_curves(file, series, o), std::invalid_argument);
  CHECK_FALSE(fs::exists(file));
}

TEST_CASE("curves and panels of extreme values still render: tiny ranges at huge offsets, huge epochs") {
  ScratchDir dir;
  experiments::FieldPanels p;
  p.t = {1e300, 1e300 * (1 + 1e-12)};
  p.x = {-1e-300, 0.0, 1e-300};
  p.truth = ad::Matrix<float>::Ones(2, 3);
  p.prediction = ad::Matrix<float>::Zero(2, 3);
  experiments::write_field_panels(dir / "f.png", p);
  CHECK(experiments::png_size(dir / "f.png").first > 3 * p.panel_width);
  experiments::write_loss_curve(dir / "l.svg", {{.name = "late", .values = {1e-3, 1e-300}, .x = {1e18, 1e18 + 1e3}}});
  CHECK(tags_balanced(read_text(dir / "l.svg")));
  experiments::write_error_curve(dir / "e.png", {{.name = "flat", .values = {1e30, 1e30}}});
  CHECK(experiments::png_size(dir / "e.png") == std::pair{800, 500});
}

// ---- Files ----------------------------------------------------------------------------------

TEST_CASE("a figure that cannot be written throws nn::WriteError naming the file") {
  const fs::path missing = fs::temp_directory_path() / "nif_test_plot_no_such_dir";
  REQUIRE_FALSE(fs::exists(missing));
  const auto check = [](const fs::path& file, auto write) {
    CHECK_THROWS_WITH_AS(write(file), doctest::Contains(file.string().c_str()), nn::WriteError);
  };
  check(missing / "f.png", [](const fs::path& f) { experiments::write_field_panels(f, wave_panels(4, 5)); });
  check(missing / "s.png", [](const fs::path& f) { experiments::write_scatter_fields(f, {.snapshots = {grid_with_hole("")}}); });
  check(missing / "loss.svg", [](const fs::path& f) { experiments::write_loss_curve(f, {constant("a", 1)}); });
  check(missing / "error.png", [](const fs::path& f) { experiments::write_error_curve(f, {constant("a", 1)}); });
}

TEST_CASE("png_size reads a PNG's size and rejects other files with a FileError naming them") {
  ScratchDir dir;
  experiments::write_error_curve(dir / "a.png", {constant("a", 1)}, {.width = 333, .height = 251});
  CHECK(experiments::png_size(dir / "a.png") == std::pair{333, 251});
  nn::write_file_atomically(dir / "not.png", std::string_view("GIF89a this is not a png file at all"));
  CHECK_THROWS_WITH_AS(experiments::png_size(dir / "not.png"), doctest::Contains("not.png"), nn::FileError);
  CHECK_THROWS_AS(experiments::png_size(dir / "missing.png"), nn::FileError);
}

// ---- A run's pictures -----------------------------------------------------------------------

TEST_CASE("a --data run on 2-D points draws fields.png with a row per output field and chosen snapshot") {
  ScratchDir dir;
  std::ofstream csv(dir / "wake.csv");
  csv << "t,x,y,u,v\n";
  for (int t = 0; t < 5; ++t)
    for (int i = 0; i < 16; ++i)
      for (int j = 0; j < 8; ++j) {
        const double x = i / 7.5, y = j / 7.0;
        csv << t << ',' << x << ',' << y << ',' << std::sin(x + t) << ',' << std::cos(y - t) << '\n';
      }
  csv.close();
  const fs::path run = dir / "run";
  const auto r = testing::nif_cli({"train", "--data", (dir / "wake.csv").string(), "--param-cols", "0", "--input-cols", "1,2",
                                   "--output-cols", "3,4", "--epochs", "2", "--quiet", "--out", run.string()});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(read_text(run / "loss.svg").rfind("<svg", 0) == 0);
  // 2 fields x 3 snapshots (first, middle, last t) of panels 420 x 210 (x in [0, 2], y in [0, 1]).
  const auto [width, height] = experiments::png_size(run / "fields.png");
  CHECK(width > 3 * 420);
  CHECK(height > 6 * 210);
  CHECK(height < 7 * 210 + 400);
}
