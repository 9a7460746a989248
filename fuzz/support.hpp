#pragma once
// What the fuzz targets share: the input as bytes or text, a scratch file for readers that take a
// path, and the rule that a reader may refuse an input only with its documented exception.

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "nn/npy.hpp"

namespace fuzz {

/// The fuzzer's input as bytes.
inline std::span<const std::byte> bytes(const std::uint8_t* data, std::size_t size) {
  return std::as_bytes(std::span(data, size));
}

/// The fuzzer's input as text.
inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// This process's scratch folder, removed at exit: in /dev/shm when there is one, so that the
/// readers' file I/O and the writers' fsync cost no disk traffic.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const std::filesystem::path shm = "/dev/shm";
    const auto base = std::filesystem::is_directory(shm) ? shm : std::filesystem::temp_directory_path();
    auto path = base / ("nif_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  // Registered after `dir` is constructed, so it runs before `dir` is destroyed.
  [[maybe_unused]] static const int cleanup = std::atexit([] {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  });
  return dir;
}

/// Writes `content` to the scratch file "input<extension>" and returns its path.
inline std::filesystem::path scratch_file(std::string_view extension, std::span<const std::byte> content) {
  auto path = scratch_dir() / ("input" + std::string(extension));
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
  return path;
}

/// Runs `read` and tells whether it refused the input with E, the reader's documented error.
/// Any other exception escapes, and libFuzzer reports it as a crash with the input saved.
template <class E, class F>
bool refused_with(F&& read) {
  try {
    read();
    return false;
  } catch (const E&) {
    return true;
  }
}

/// Stops the fuzzer (which then saves the input) when a property of an accepted input fails.
inline void require(bool holds, const char* property) {
  if (holds) return;
  std::fprintf(stderr, "property violated: %s\n", property);
  std::abort();
}

/// The archive an input describes, written by nn::NpzWriter with correct CRC-32s so that
/// mutations reach the members behind them: each member begins with a line "@@ <member name>"
/// and holds the bytes up to the next such line. Text before the first "@@ " line is ignored, and a repeated
/// member name keeps its first contents.
inline nn::NpzWriter archive_of(std::string_view input) {
  constexpr std::string_view marker = "@@ ", separator = "\n@@ ";
  nn::NpzWriter archive;
  for (auto at = input.starts_with(marker) ? 0 : input.find(separator); at != std::string_view::npos;) {
    if (input[at] == '\n') ++at;
    const auto name_begin = at + marker.size();
    const auto name_end = input.find('\n', name_begin);
    if (name_end == std::string_view::npos) break;
    const auto next = input.find(separator, name_end);
    const auto end = next == std::string_view::npos ? input.size() : next;
    const auto begin = std::min(name_end + 1, end);  // empty contents: the next marker follows the name
    const auto contents = std::as_bytes(std::span(input.data() + begin, end - begin));
    fuzz::refused_with<std::invalid_argument>([&] {  // a repeated name
      archive.add_raw(std::string(input.substr(name_begin, name_end - name_begin)), {contents.begin(), contents.end()});
    });
    at = next;
  }
  return archive;
}

}  // namespace fuzz
