#pragma once
// Raster pictures without an imaging library: an 8-bit RGB image and a minimal PNG codec
// (the encoder and an IHDR reader) on top of zlib.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <utility>
#include <vector>

namespace experiments {

/// An 8-bit sRGB colour.
struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Rgb&, const Rgb&) = default;
};

/// An RGB raster, row-major from the top-left corner (x to the right, y downwards). Drawing
/// calls clip to the image, so callers may draw partly outside it.
class Image {
 public:
  /// Largest accepted width or height; far beyond any figure, small enough that the raster
  /// and its PNG stream stay well inside 32-bit chunk lengths.
  static constexpr int max_side = 16384;

  /// A `width` x `height` image filled with `background`. Throws std::invalid_argument unless
  /// both sides are in [1, max_side].
  Image(int width, int height, Rgb background = {255, 255, 255});

  int width() const { return width_; }
  int height() const { return height_; }

  /// The colour at (x, y). Throws std::out_of_range outside the image.
  Rgb pixel(int x, int y) const;
  /// Sets (x, y) to `colour`; ignored outside the image.
  void set(int x, int y, Rgb colour);
  /// Fills the `w` x `h` rectangle whose top-left corner is (x, y), clipped to the image.
  void fill_rect(int x, int y, int w, int h, Rgb colour);

  /// The samples r, g, b of each pixel, rows top to bottom.
  std::span<const std::uint8_t> samples() const { return samples_; }

 private:
  int width_;
  int height_;
  std::vector<std::uint8_t> samples_;
};

/// The PNG file of `image`: signature, IHDR (8-bit truecolour, no interlace), one
/// zlib-compressed IDAT whose scanlines all use filter type 0, and IEND; chunk CRCs are
/// zlib's crc32 over type and data.
std::vector<std::byte> encode_png(const Image& image);

/// Writes encode_png(image) to `file` atomically (nn::write_file_atomically); throws
/// nn::FileError naming the file when it cannot be written.
void write_png(const std::filesystem::path& file, const Image& image);

/// The (width, height) recorded in the IHDR of the PNG `file`. Throws nn::FileError when the
/// file is unreadable, is not a PNG or does not start with a valid IHDR chunk.
std::pair<int, int> png_size(const std::filesystem::path& file);

}  // namespace experiments
