#pragma once
// Compact model files: a parameter buffer stored small for deployment and for measuring a
// model's storage (`nif export`). A zip archive that numpy.load opens, deflated, with
//   metadata.json       {"format": "nif-compact", "version": 1, "weights": "int8"|"fp16"|"fp32",
//                        "entries": [{"name", "rows", "cols", "encoding", "nonzeros", "bitmap"}],
//                        "user": {...}}
//   <name>/values.npy   the entry's non-zero values in C order: int8 (i1), fp16 bits (u2) or f4
//   <name>/bitmap.npy   u1, bit k (LSB first) of byte k/8 set when value k is non-zero; present
//                       when it saves bytes (a pruned matrix), else every value is stored
//   <name>/scales.npy   int8 only: per output channel (column c of a [in, out] matrix) the fp16
//                       bits (u2) of max_r |W[r, c]| / 127 rounded up; W[r, c] = q[r, c]·scale[c],
//                       so |error| ≤ scale[c]/2. fp16, because a NIF's largest matrix (the
//                       hypernetwork's output layer, [latent, generated]) has a channel per few weights
// Weight matrices take the chosen format; biases are stored as fp16 under fp16 and int8 (a NIF's
// largest bias, its hypernetwork's output bias, is as large as its generated ShapeNet) and added
// to float32 accumulators.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "autodiff/parameters.hpp"

namespace nn {

enum class WeightFormat { fp32, fp16, int8 };

/// "fp32", "fp16" or "int8"; std::invalid_argument listing them otherwise.
WeightFormat parse_weight_format(const std::string& name);
std::string_view weight_format_name(WeightFormat format);

/// Writes `params` in `format` with `user` metadata to `path` (atomically, deflated).
template <class T>
void save_compact_model(const std::filesystem::path& path, const ad::ParameterBuffer<T>& params, WeightFormat format,
                        const nlohmann::json& user);

/// Whether the file at `path` is a compact model (a zip whose metadata says so). FileError when
/// it cannot be read as a zip archive.
bool is_compact_model(const std::filesystem::path& path);

/// The validated metadata of a compact model (entries well-formed, sizes bounded); FileError
/// naming the problem otherwise. Nothing but metadata.json is inflated.
nlohmann::json read_compact_metadata(const std::filesystem::path& path);

/// The number of values the model's entries hold (from the validated metadata).
std::int64_t count_compact_parameters(const std::filesystem::path& path);

/// Loads a compact model into `params` (dequantised) and returns the "user" metadata. The
/// entries must match the buffer's names and shapes, each member's header is checked against its
/// entry before it is inflated, and values must be finite: on any error FileError, and `params`
/// is untouched.
template <class T>
nlohmann::json load_compact_model(const std::filesystem::path& path, ad::ParameterBuffer<T>& params);

}  // namespace nn
