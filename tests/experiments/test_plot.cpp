#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "experiments/plot.hpp"
#include "experiments/png.hpp"
#include "nn/files.hpp"

namespace experiments {
std::ostream& operator<<(std::ostream& os, const Rgb& c) {
  return os << "rgb(" << int(c.r) << ", " << int(c.g) << ", " << int(c.b) << ")";
}
}  // namespace experiments

namespace {

namespace fs = std::filesystem;
using experiments::Image;
using experiments::Rgb;

constexpr Rgb white{255, 255, 255};

/// A fresh empty directory under the system temporary directory, removed at scope exit.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("nif_test_plot_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
};

std::uint32_t be32(const std::vector<std::byte>& b, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(b[at + i]);
  return v;
}

struct Chunk {
  std::string type;
  std::vector<std::byte> data;
};

/// Splits a PNG into chunks, checking the signature and every CRC on the way.
std::vector<Chunk> png_chunks(const std::vector<std::byte>& png) {
  const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  REQUIRE(png.size() >= 8);
  for (std::size_t i = 0; i < 8; ++i) REQUIRE(std::to_integer<unsigned char>(png[i]) == signature[i]);
  std::vector<Chunk> chunks;
  std::size_t at = 8;
  while (at < png.size()) {
    REQUIRE(at + 12 <= png.size());
    const std::uint32_t length = be32(png, at);
    REQUIRE(at + 12 + length <= png.size());
    Chunk c;
    c.type.assign(reinterpret_cast<const char*>(png.data() + at + 4), 4);
    c.data.assign(png.begin() + static_cast<std::ptrdiff_t>(at + 8), png.begin() + static_cast<std::ptrdiff_t>(at + 8 + length));
    const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(png.data() + at + 4), static_cast<uInt>(length + 4));
    CHECK_MESSAGE(be32(png, at + 8 + length) == crc, "CRC of chunk " << c.type);
    chunks.push_back(std::move(c));
    at += 12 + length;
  }
  return chunks;
}

/// A decoded 8-bit truecolour PNG whose scanlines use filter type 0, read back independently
/// of the encoder: the IHDR fields, then the IDAT stream inflated with zlib.
struct DecodedPng {
  int width = 0, height = 0;
  std::vector<std::uint8_t> raw;  ///< inflated scanlines, filter byte included
  Rgb pixel(int x, int y) const {
    const std::size_t i = static_cast<std::size_t>(y) * (1 + 3 * static_cast<std::size_t>(width)) + 1 + 3 * static_cast<std::size_t>(x);
    return {raw[i], raw[i + 1], raw[i + 2]};
  }
};

DecodedPng decode_png(const std::vector<std::byte>& png) {
  const std::vector<Chunk> chunks = png_chunks(png);
  REQUIRE(chunks.size() >= 3);
  REQUIRE(chunks.front().type == "IHDR");
  REQUIRE(chunks.back().type == "IEND");
  CHECK(chunks.back().data.empty());
  const std::vector<std::byte>& h = chunks.front().data;
  REQUIRE(h.size() == 13);
  DecodedPng d;
  d.width = static_cast<int>(be32(h, 0));
  d.height = static_cast<int>(be32(h, 4));
  CHECK(std::to_integer<int>(h[8]) == 8);   // bit depth
  CHECK(std::to_integer<int>(h[9]) == 2);   // truecolour
  CHECK(std::to_integer<int>(h[12]) == 0);  // no interlace
  std::vector<std::byte> idat;
  for (const Chunk& c : chunks)
    if (c.type == "IDAT") idat.insert(idat.end(), c.data.begin(), c.data.end());
  const std::size_t expected = static_cast<std::size_t>(d.height) * (1 + 3 * static_cast<std::size_t>(d.width));
  d.raw.resize(expected + 16);  // room to notice a stream that is too long
  uLongf size = static_cast<uLongf>(d.raw.size());
  REQUIRE(uncompress(d.raw.data(), &size, reinterpret_cast<const Bytef*>(idat.data()), static_cast<uLong>(idat.size())) == Z_OK);
  REQUIRE(size == expected);
  d.raw.resize(size);
  for (int y = 0; y < d.height; ++y) REQUIRE(d.raw[static_cast<std::size_t>(y) * (1 + 3 * static_cast<std::size_t>(d.width))] == 0);
  return d;
}

std::vector<double> linspace(double lo, double hi, int n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = n == 1 ? lo : lo + (hi - lo) * i / (n - 1);
  return v;
}

/// A smooth travelling-wave-like field on an n_t x n_x grid over t in [0, 1], x in [0, 2].
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

/// The pixel at the centre of grid cell (i, j) of panel `r`, on a uniform n_t x n_x grid:
/// t index i runs left to right, x index j bottom to top.
Rgb cell_centre(const Image& image, const experiments::PixelRect& r, int i, int j, int n_t, int n_x) {
  const int px = static_cast<int>(std::floor((i + 0.5) * r.width / n_t));
  const int py = static_cast<int>(std::floor((n_x - 1 - j + 0.5) * r.height / n_x));
  return image.pixel(r.x + px, r.y + py);
}

bool inside(const experiments::PixelRect& r, int width, int height) {
  return r.x >= 0 && r.y >= 0 && r.x + r.width <= width && r.y + r.height <= height;
}

}  // namespace

// ---- PNG codec ------------------------------------------------------------------------------

TEST_CASE("encode_png produces a valid truecolour PNG whose inflated scanlines hold the pixels") {
  Image image(3, 2, {10, 20, 30});
  image.set(0, 0, {255, 0, 0});
  image.set(2, 1, {0, 0, 255});
  const DecodedPng d = decode_png(experiments::encode_png(image));
  CHECK(d.width == 3);
  CHECK(d.height == 2);
  CHECK(d.pixel(0, 0) == Rgb{255, 0, 0});
  CHECK(d.pixel(1, 0) == Rgb{10, 20, 30});
  CHECK(d.pixel(2, 1) == Rgb{0, 0, 255});
  CHECK(d.pixel(0, 1) == Rgb{10, 20, 30});
}

TEST_CASE("Image clips drawing outside it and rejects out-of-range reads and sizes") {
  Image image(4, 4);
  image.fill_rect(-2, -2, 4, 4, {1, 2, 3});  // covers only (0..1, 0..1)
  image.set(10, 10, {9, 9, 9});
  CHECK(image.pixel(1, 1) == Rgb{1, 2, 3});
  CHECK(image.pixel(2, 2) == white);
  CHECK_THROWS_AS((void)image.pixel(4, 0), std::out_of_range);
  CHECK_THROWS_AS(Image(0, 5), std::invalid_argument);
  CHECK_THROWS_AS(Image(5, Image::max_side + 1), std::invalid_argument);
}

TEST_CASE("write_png writes a file whose IHDR png_size reads back, and png_size rejects non-PNG files") {
  ScratchDir dir;
  write_png(dir.path / "a.png", Image(7, 5));
  CHECK(experiments::png_size(dir.path / "a.png") == std::pair{7, 5});
  nn::write_file_atomically(dir.path / "not.png", std::string_view("GIF89a this is not a png file at all"));
  CHECK_THROWS_WITH_AS(experiments::png_size(dir.path / "not.png"), doctest::Contains("not.png"), nn::FileError);
}

TEST_CASE("writing pictures into a missing directory throws a FileError naming the path") {
  const fs::path missing = fs::temp_directory_path() / "nif_test_plot_no_such_dir" / "figure.png";
  REQUIRE_FALSE(fs::exists(missing.parent_path()));
  CHECK_THROWS_WITH_AS(experiments::write_png(missing, Image(2, 2)), doctest::Contains(missing.string().c_str()), nn::FileError);
  CHECK_THROWS_WITH_AS(experiments::write_field_panels(missing, wave_panels(4, 5)), doctest::Contains(missing.string().c_str()),
                       nn::FileError);
  const fs::path svg = missing.parent_path() / "loss.svg";
  CHECK_THROWS_WITH_AS(experiments::write_loss_curve(svg, {{.name = "train", .values = {1.0, 0.5}}}),
                       doctest::Contains(svg.string().c_str()), nn::FileError);
}

// ---- Font -----------------------------------------------------------------------------------

namespace {
/// The inked pixels of `text` drawn at scale 1 on a fresh canvas, as a string of '#' and '.'.
std::string rendered(std::string_view text) {
  Image image(std::max(1, experiments::text_width(text, 1)), experiments::text_height(1));
  draw_text(image, 0, 0, text, {0, 0, 0}, 1);
  std::string bits;
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) bits += image.pixel(x, y) == white ? '.' : '#';
  return bits;
}
}  // namespace

TEST_CASE("text metrics: 6 pixels per character at scale 1, minus the trailing spacing") {
  CHECK(experiments::text_width("", 2) == 0);
  CHECK(experiments::text_width("1e-4", 1) == 23);
  CHECK(experiments::text_width("1e-4", 3) == 69);
  CHECK(experiments::text_height(2) == 20);
  CHECK(experiments::text_width("\xCF\x80=3", 1) == experiments::text_width("p=3", 1));  // one box per code point
}

TEST_CASE("every character the figures need has its own inked glyph, distinct from the missing-glyph box") {
  const std::string needed =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-+e:()/=,%|";
  const std::string box = rendered("\x01");
  CHECK(box.find('#') != std::string::npos);
  std::set<std::string> seen;
  for (char c : needed) {
    const std::string bits = rendered(std::string(1, c));
    CHECK_MESSAGE(bits.find('#') != std::string::npos, "glyph '" << c << "' is blank");
    CHECK_MESSAGE(bits != box, "glyph '" << c << "' is the missing box");
    seen.insert(bits);
  }
  CHECK(seen.size() == std::set<char>(needed.begin(), needed.end()).size());
  CHECK(rendered(" ").find('#') == std::string::npos);
}

TEST_CASE("vertical text is the horizontal rendering turned 90 degrees anticlockwise") {
  const std::string text = "x(t)";
  const int w = experiments::text_width(text, 2), h = experiments::text_height(2);
  Image flat(w, h), turned(h, w);
  draw_text(flat, 0, 0, text, {0, 0, 0}, 2);
  draw_text_vertical(turned, 0, 0, text, {0, 0, 0}, 2);
  int inked = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      CHECK(flat.pixel(x, y) == turned.pixel(y, w - 1 - x));
      inked += flat.pixel(x, y) != white;
    }
  CHECK(inked > 0);
}

// ---- Colour map -----------------------------------------------------------------------------

TEST_CASE("the diverging colour map is white at zero, red at +1, blue at -1 and clamps beyond") {
  CHECK(experiments::diverging_colour(0.0) == white);
  const Rgb top = experiments::diverging_colour(1.0), bottom = experiments::diverging_colour(-1.0);
  CHECK(top.r > 2 * top.g);
  CHECK(top.r > 2 * top.b);
  CHECK(bottom.b > 2 * bottom.r);
  CHECK(bottom.b > bottom.g);
  CHECK(experiments::diverging_colour(7.0) == top);
  CHECK(experiments::diverging_colour(-7.0) == bottom);
  // Lightness falls monotonically away from zero on both sides.
  int previous_red = 3 * 255, previous_blue = 3 * 255;
  for (double s = 0.05; s <= 1.0; s += 0.05) {
    const Rgb red = experiments::diverging_colour(s), blue = experiments::diverging_colour(-s);
    CHECK(red.r + red.g + red.b < previous_red);
    CHECK(blue.r + blue.g + blue.b < previous_blue);
    previous_red = red.r + red.g + red.b;
    previous_blue = blue.r + blue.g + blue.b;
  }
}

// ---- Field figure ---------------------------------------------------------------------------

TEST_CASE("field figure: the PNG has the promised size, panel rectangles and scanline count") {
  ScratchDir dir;
  const experiments::FieldPanels p = wave_panels(10, 200);
  const experiments::FieldPanelsLayout l = experiments::field_panels_layout(p);
  write_field_panels(dir.path / "field.png", p);
  CHECK(experiments::png_size(dir.path / "field.png") == std::pair{l.width, l.height});
  const DecodedPng d = decode_png(nn::read_file(dir.path / "field.png"));
  CHECK(d.width == l.width);
  CHECK(d.height == l.height);

  for (const auto& r : {l.truth, l.prediction, l.error}) {
    CHECK(r.width == p.panel_width);
    CHECK(r.height == p.panel_height);
    CHECK(r.y == l.truth.y);
    CHECK(inside(r, l.width, l.height));
  }
  for (const auto& r : {l.shared_bar, l.error_bar}) {
    CHECK(r.y == l.truth.y);
    CHECK(r.height == p.panel_height);
    CHECK(inside(r, l.width, l.height));
  }
  // Left to right without overlaps: true, predicted, shared bar, error, error bar.
  CHECK(l.truth.x + l.truth.width < l.prediction.x);
  CHECK(l.prediction.x + l.prediction.width < l.shared_bar.x);
  CHECK(l.shared_bar.x + l.shared_bar.width < l.error.x);
  CHECK(l.error.x + l.error.width < l.error_bar.x);

  // Panel sizes come from the options: the picture grows by 3 panel widths and 1 panel height.
  experiments::FieldPanels bigger = p;
  bigger.panel_width += 40;
  bigger.panel_height += 25;
  const experiments::FieldPanelsLayout lb = experiments::field_panels_layout(bigger);
  CHECK(lb.width == l.width + 3 * 40);
  CHECK(lb.height == l.height + 25);
}

TEST_CASE("field figure: the PNG file holds exactly the rendered pixels") {
  ScratchDir dir;
  const experiments::FieldPanels p = wave_panels(6, 30);
  const Image image = render_field_panels(p);
  write_field_panels(dir.path / "field.png", p);
  const DecodedPng d = decode_png(nn::read_file(dir.path / "field.png"));
  REQUIRE(d.width == image.width());
  REQUIRE(d.height == image.height());
  for (int y = 0; y < d.height; ++y)
    for (int x = 0; x < d.width; ++x) REQUIRE(d.pixel(x, y) == image.pixel(x, y));
}

TEST_CASE("field figure: cells land where t runs right and x runs up, coloured on the shared and error scales") {
  const int n_t = 10, n_x = 200;
  experiments::FieldPanels p;
  p.t = linspace(0, 1, n_t);
  p.x = linspace(0, 2, n_x);
  p.truth = ad::Matrix<float>::Zero(n_t, n_x);
  p.truth(0, n_x - 1) = 2.0f;  // first time, top position
  p.prediction = p.truth;
  p.prediction(n_t - 1, 0) = -2.0f;  // last time, bottom position
  const Image image = render_field_panels(p);
  const experiments::FieldPanelsLayout l = experiments::field_panels_layout(p);
  const Rgb top = experiments::diverging_colour(1.0), bottom = experiments::diverging_colour(-1.0);

  CHECK(cell_centre(image, l.truth, 0, n_x - 1, n_t, n_x) == top);
  CHECK(cell_centre(image, l.prediction, 0, n_x - 1, n_t, n_x) == top);
  CHECK(cell_centre(image, l.truth, n_t - 1, 0, n_t, n_x) == white);
  CHECK(cell_centre(image, l.prediction, n_t - 1, 0, n_t, n_x) == bottom);
  CHECK(cell_centre(image, l.truth, 5, 100, n_t, n_x) == white);
  // error = prediction - truth: -2 at (last t, first x), zero where they agree.
  CHECK(cell_centre(image, l.error, n_t - 1, 0, n_t, n_x) == bottom);
  CHECK(cell_centre(image, l.error, 0, n_x - 1, n_t, n_x) == white);
  // The colour bars run from the top colour down to the bottom colour.
  const auto bar_at = [&](int row) { return image.pixel(l.shared_bar.x + 2, l.shared_bar.y + row); };
  CHECK(bar_at(0).r > 3 * bar_at(0).b);
  CHECK(bar_at(l.shared_bar.height - 1).b > 3 * bar_at(l.shared_bar.height - 1).r);
  CHECK(bar_at(l.shared_bar.height / 2).r + bar_at(l.shared_bar.height / 2).g + bar_at(l.shared_bar.height / 2).b > 740);
}

TEST_CASE("field figure: the error panel has its own scale, so a small error still reaches the end colour") {
  const int n_t = 4, n_x = 8;
  experiments::FieldPanels p;
  p.t = linspace(0, 3, n_t);
  p.x = linspace(-1, 1, n_x);
  p.truth = ad::Matrix<float>::Constant(n_t, n_x, 1.0f);
  p.prediction = p.truth;
  p.prediction(2, 5) = 1.01f;
  const Image image = render_field_panels(p);
  const experiments::FieldPanelsLayout l = experiments::field_panels_layout(p);
  CHECK(cell_centre(image, l.error, 2, 5, n_t, n_x) == experiments::diverging_colour(1.0));
  CHECK(cell_centre(image, l.error, 1, 5, n_t, n_x) == white);
  // The shared scale is ±1.01, set by the prediction.
  CHECK(cell_centre(image, l.truth, 2, 5, n_t, n_x) == experiments::diverging_colour(1.0 / static_cast<double>(1.01f)));
}

TEST_CASE("field figure: a perfect prediction gives an all-white error panel") {
  experiments::FieldPanels p = wave_panels(10, 200);
  p.prediction = p.truth;
  const Image image = render_field_panels(p);
  const experiments::FieldPanelsLayout l = experiments::field_panels_layout(p);
  int non_white = 0;
  for (int y = 0; y < l.error.height; ++y)
    for (int x = 0; x < l.error.width; ++x) non_white += image.pixel(l.error.x + x, l.error.y + y) != white;
  CHECK(non_white == 0);
  // ...while the truth panel is not blank.
  CHECK(cell_centre(image, l.truth, 0, 50, 10, 200) != white);
}

TEST_CASE("field figure: non-finite cells are grey and do not disturb the scales") {
  experiments::FieldPanels p;
  p.t = linspace(0, 1, 3);
  p.x = linspace(0, 1, 3);
  p.truth = ad::Matrix<float>::Zero(3, 3);
  p.truth(1, 1) = 1.0f;
  p.prediction = p.truth;
  p.prediction(0, 0) = std::numeric_limits<float>::quiet_NaN();
  p.prediction(2, 2) = std::numeric_limits<float>::infinity();
  const Image image = render_field_panels(p);
  const experiments::FieldPanelsLayout l = experiments::field_panels_layout(p);
  CHECK(cell_centre(image, l.prediction, 0, 0, 3, 3) == experiments::non_finite_colour);
  CHECK(cell_centre(image, l.error, 2, 2, 3, 3) == experiments::non_finite_colour);
  CHECK(cell_centre(image, l.truth, 1, 1, 3, 3) == experiments::diverging_colour(1.0));
}

TEST_CASE("field figure: a single time and a non-uniform x grid map pixels to the nearest grid point") {
  experiments::FieldPanels p;
  p.t = {0.0};
  p.x = {0.0, 0.1, 0.5, 2.0};
  p.truth.resize(1, 4);
  p.truth << 0.25f, 0.5f, 0.75f, 1.0f;
  p.prediction = ad::Matrix<float>::Zero(1, 4);
  const Image image = render_field_panels(p);
  const experiments::FieldPanelsLayout l = experiments::field_panels_layout(p);
  // The x axis spans [-0.05, 2.75]; x = 2.0 owns values above the midpoint 1.25, x = 0.5 those
  // between 0.3 and 1.25. Row 150 of 300 shows x = 1.35, row 170 x = 1.16, row 299 x = -0.045.
  const auto truth_at = [&](int row) { return image.pixel(l.truth.x + 5, l.truth.y + row); };
  CHECK(truth_at(0) == experiments::diverging_colour(1.0));
  CHECK(truth_at(150) == experiments::diverging_colour(1.0));
  CHECK(truth_at(170) == experiments::diverging_colour(0.75));
  CHECK(truth_at(299) == experiments::diverging_colour(0.25));
  CHECK(image.pixel(l.error.x + 5, l.error.y + 299) == experiments::diverging_colour(-0.25));
}

TEST_CASE("field figure: inconsistent inputs are rejected with invalid_argument") {
  experiments::FieldPanels p = wave_panels(5, 6);
  SUBCASE("shape") {
    p.prediction.resize(5, 5);
    CHECK_THROWS_AS(render_field_panels(p), std::invalid_argument);
  }
  SUBCASE("decreasing coordinates") {
    std::swap(p.t[1], p.t[2]);
    CHECK_THROWS_WITH_AS(render_field_panels(p), doctest::Contains("strictly increasing"), std::invalid_argument);
  }
  SUBCASE("non-finite coordinates") {
    p.x[3] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(render_field_panels(p), std::invalid_argument);
  }
  SUBCASE("empty grid") {
    p.t.clear();
    CHECK_THROWS_AS(render_field_panels(p), std::invalid_argument);
  }
  SUBCASE("panel size") {
    p.panel_width = 3;
    CHECK_THROWS_AS(render_field_panels(p), std::invalid_argument);
  }
}

// ---- Loss curve -----------------------------------------------------------------------------

namespace {

/// The `points` attribute of each <polyline class="series">, as (x, y) pairs.
std::vector<std::vector<std::pair<double, double>>> series_polylines(const std::string& svg) {
  std::vector<std::vector<std::pair<double, double>>> lines;
  const std::string tag = "<polyline class=\"series\"";
  for (std::size_t at = svg.find(tag); at != std::string::npos; at = svg.find(tag, at + 1)) {
    const std::size_t begin = svg.find("points=\"", at) + 8, end = svg.find('"', begin);
    std::string points = svg.substr(begin, end - begin);
    std::replace(points.begin(), points.end(), ',', ' ');
    std::istringstream in(points);
    std::vector<std::pair<double, double>> line;
    double x = 0, y = 0;
    while (in >> x >> y) line.emplace_back(x, y);
    lines.push_back(line);
  }
  return lines;
}

/// Checks that elements nest properly: every open tag is closed in order or self-closing.
bool tags_balanced(const std::string& xml) {
  std::vector<std::string> open;
  for (std::size_t at = xml.find('<'); at != std::string::npos; at = xml.find('<', at + 1)) {
    const std::size_t end = xml.find('>', at);
    if (end == std::string::npos) return false;
    const std::string tag = xml.substr(at + 1, end - at - 1);
    if (tag.empty()) return false;
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

TEST_CASE("loss curve: a standalone SVG with one point per finite positive value and decade labels") {
  ScratchDir dir;
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const std::vector<experiments::LossSeries> series = {
      {.name = "train loss", .values = {1e-1, 3e-2, 1e-2, nan, 2e-3, 0.0, 5e-4, -1.0, 1e-4, inf}},
      {.name = "validation <mse> & co", .values = {2e-1, 5e-2, 2e-2}, .epochs = {0, 4, 8}},
  };
  write_loss_curve(dir.path / "loss.svg", series, {.title = "NIF training"});
  const std::vector<std::byte> bytes = nn::read_file(dir.path / "loss.svg");
  const std::string svg(reinterpret_cast<const char*>(bytes.data()), bytes.size());

  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("width=\"800\"") != std::string::npos);
  CHECK(svg.find("height=\"500\"") != std::string::npos);
  CHECK(svg.find("xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(tags_balanced(svg));
  for (const char* decade : {">1e-4<", ">1e-3<", ">1e-2<", ">1e-1<", ">1e0<"}) CHECK_MESSAGE(svg.find(decade) != std::string::npos, decade);
  CHECK(svg.find(">1e-5<") == std::string::npos);
  CHECK(svg.find("NIF training") != std::string::npos);
  CHECK(svg.find("validation &lt;mse&gt; &amp; co") != std::string::npos);
  CHECK(svg.find("<mse>") == std::string::npos);

  const auto lines = series_polylines(svg);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].size() == 6);
  CHECK(lines[1].size() == 3);
  // Lower loss is drawn lower (larger y), later epochs further right, decades equally spaced.
  for (std::size_t k = 1; k < lines[1].size(); ++k) {
    CHECK(lines[1][k].first > lines[1][k - 1].first);
    CHECK(lines[1][k].second > lines[1][k - 1].second);
  }
  const double decade = lines[0][2].second - lines[0][0].second;  // 1e-1 -> 1e-2
  CHECK(decade > 0);
  CHECK(lines[0][5].second - lines[0][2].second == doctest::Approx(2 * decade).epsilon(1e-3));  // 1e-2 -> 1e-4
}

TEST_CASE("loss curve: series without plottable values draw no polyline, and bad epochs are rejected") {
  const std::string svg = experiments::loss_curve_svg({{.name = "diverged", .values = {0.0, -1.0, std::nan("")}}});
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(tags_balanced(svg));
  CHECK(series_polylines(svg).empty());
  CHECK(svg.find("diverged") != std::string::npos);

  CHECK_THROWS_AS(experiments::loss_curve_svg({{.name = "a", .values = {1, 2}, .epochs = {0}}}), std::invalid_argument);
  CHECK_THROWS_AS(experiments::loss_curve_svg({{.name = "a", .values = {1}, .epochs = {std::nan("")}}}), std::invalid_argument);
  CHECK_THROWS_AS(experiments::loss_curve_svg({}, {.width = 100}), std::invalid_argument);
}

TEST_CASE("pictures of extreme coordinates still render: tiny ranges at huge offsets, huge epochs") {
  experiments::FieldPanels p;
  p.t = {1e300, 1e300 * (1 + 1e-12)};
  p.x = {-1e-300, 0.0, 1e-300};
  p.truth = ad::Matrix<float>::Ones(2, 3);
  p.prediction = ad::Matrix<float>::Zero(2, 3);
  const Image image = render_field_panels(p);
  CHECK(image.width() > 3 * p.panel_width);
  const std::string svg =
      experiments::loss_curve_svg({{.name = "late", .values = {1e-3, 1e-300}, .epochs = {1e18, 1e18 + 1e3}}});
  CHECK(series_polylines(svg).at(0).size() == 2);
  CHECK(svg.find(">1e-300<") != std::string::npos);
}
