#include "experiments/png.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

#include "nn/files.hpp"

namespace experiments {

namespace {

constexpr std::array<std::uint8_t, 8> png_signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

void put_u32(std::vector<std::byte>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(std::byte((v >> shift) & 0xFFu));
}

std::uint32_t get_u32(std::span<const std::byte> bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(bytes[at + i]);
  return v;
}

/// Appends one chunk: length, type, data, crc32(type + data).
void put_chunk(std::vector<std::byte>& out, std::string_view type, std::span<const std::byte> data) {
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t type_at = out.size();
  for (char c : type) out.push_back(std::byte(c));
  out.insert(out.end(), data.begin(), data.end());
  const auto* crc_data = reinterpret_cast<const Bytef*>(out.data() + type_at);
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), crc_data, static_cast<uInt>(out.size() - type_at));
  put_u32(out, static_cast<std::uint32_t>(crc));
}

}  // namespace

Image::Image(int width, int height, Rgb background) : width_(width), height_(height) {
  if (width < 1 || height < 1 || width > max_side || height > max_side)
    throw std::invalid_argument("experiments::Image: size " + std::to_string(width) + "x" + std::to_string(height) +
                                " is outside [1, " + std::to_string(max_side) + "]");
  samples_.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
  for (std::size_t i = 0; i < samples_.size(); i += 3) {
    samples_[i] = background.r;
    samples_[i + 1] = background.g;
    samples_[i + 2] = background.b;
  }
}

Rgb Image::pixel(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_)
    throw std::out_of_range("experiments::Image::pixel: (" + std::to_string(x) + ", " + std::to_string(y) +
                            ") is outside the " + std::to_string(width_) + "x" + std::to_string(height_) + " image");
  const std::size_t i = (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) + static_cast<std::size_t>(x)) * 3;
  return {samples_[i], samples_[i + 1], samples_[i + 2]};
}

void Image::set(int x, int y, Rgb colour) { fill_rect(x, y, 1, 1, colour); }

void Image::fill_rect(int x, int y, int w, int h, Rgb colour) {
  const int x0 = std::max(x, 0), x1 = std::min(x + w, width_);
  const int y0 = std::max(y, 0), y1 = std::min(y + h, height_);
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) {
      const std::size_t i =
          (static_cast<std::size_t>(yy) * static_cast<std::size_t>(width_) + static_cast<std::size_t>(xx)) * 3;
      samples_[i] = colour.r;
      samples_[i + 1] = colour.g;
      samples_[i + 2] = colour.b;
    }
}

std::vector<std::byte> encode_png(const Image& image) {
  const auto width = static_cast<std::size_t>(image.width());
  const auto height = static_cast<std::size_t>(image.height());

  // Filter type 0 everywhere: figures are long runs of flat colour, which deflate already
  // compresses well without per-row prediction.
  const std::size_t row_bytes = 1 + 3 * width;
  std::vector<Bytef> raw(row_bytes * height);
  const auto samples = image.samples();
  for (std::size_t y = 0; y < height; ++y) {
    raw[y * row_bytes] = 0;
    std::copy_n(samples.data() + y * 3 * width, 3 * width, raw.begin() + static_cast<std::ptrdiff_t>(y * row_bytes + 1));
  }
  uLongf compressed_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::byte> compressed(compressed_size);
  if (compress2(reinterpret_cast<Bytef*>(compressed.data()), &compressed_size, raw.data(), static_cast<uLong>(raw.size()),
                Z_BEST_COMPRESSION) != Z_OK)
    throw std::runtime_error("experiments::encode_png: zlib compression failed");
  compressed.resize(compressed_size);

  std::vector<std::byte> header;
  put_u32(header, static_cast<std::uint32_t>(width));
  put_u32(header, static_cast<std::uint32_t>(height));
  for (std::uint8_t v : {8, 2, 0, 0, 0}) header.push_back(std::byte(v));  // depth, truecolour, deflate, filters, no interlace

  std::vector<std::byte> png;
  png.reserve(compressed.size() + 64);
  for (std::uint8_t v : png_signature) png.push_back(std::byte(v));
  put_chunk(png, "IHDR", header);
  put_chunk(png, "IDAT", compressed);
  put_chunk(png, "IEND", {});
  return png;
}

void write_png(const std::filesystem::path& file, const Image& image) {
  nn::write_file_atomically(file, encode_png(image));
}

std::pair<int, int> png_size(const std::filesystem::path& file) {
  const std::vector<std::byte> bytes = nn::read_file(file);
  // Signature (8), IHDR length and type (8), width and height (8).
  if (bytes.size() < 24 || !std::equal(png_signature.begin(), png_signature.end(), bytes.begin(),
                                       [](std::uint8_t a, std::byte b) { return std::byte(a) == b; }))
    throw nn::FileError(file, "is not a PNG file");
  const std::string type(reinterpret_cast<const char*>(bytes.data() + 12), 4);
  if (get_u32(bytes, 8) != 13 || type != "IHDR") throw nn::FileError(file, "PNG does not start with an IHDR chunk");
  const std::uint32_t width = get_u32(bytes, 16), height = get_u32(bytes, 20);
  if (width == 0 || height == 0 || width > 0x7FFFFFFFu || height > 0x7FFFFFFFu)
    throw nn::FileError(file, "PNG header has an invalid size");
  return {static_cast<int>(width), static_cast<int>(height)};
}

}  // namespace experiments
