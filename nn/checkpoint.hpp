#pragma once
// Checkpoints: one .npz archive that numpy.load opens, written atomically.
//
// Members: "params/<dotted name>" per parameter (float32 or float64; weights 2-d [in, out],
// biases 1-d), "optimizer/<state name>" per optimizer state vector (flat, index-aligned with the
// concatenated parameters), "masks/<dotted name>" per pruned weight matrix (uint8 0/1, the
// parameter's shape; only when a prune mask is active), and "metadata.json" (raw UTF-8 JSON: format version, optimizer name and
// step count, plus whatever the caller adds under "user").

#include <nlohmann/json.hpp>

#include <filesystem>

#include "autodiff/parameters.hpp"
#include "nn/optim.hpp"
#include "nn/prune.hpp"

namespace nn {

inline constexpr int kCheckpointFormat = 1;

/// Writes `params`, the state of `optimizer` (if not null), the masks of `mask` (if not null and
/// active) and `user` metadata to `path` atomically (temporary file + rename): a crash leaves
/// the previous checkpoint intact.
template <class T>
void save_checkpoint(const std::filesystem::path& path, const ad::ParameterBuffer<T>& params,
                     const Optimizer<T>* optimizer, const nlohmann::json& user, const PruneMask<T>* mask = nullptr);

/// Loads `path` into `params` (and `optimizer`, if not null) and returns the "user" metadata.
/// Everything is read and checked before anything is assigned, so on any error — truncated or
/// corrupt archive, missing or extra parameter, other shape, other optimizer, a mask that is
/// not 0/1 or whose pruned weights are not zero — the model, optimizer and mask are untouched
/// and nn::FileError names the file and the problem. With `mask`, the checkpoint's masks are
/// installed (it stays inactive when the checkpoint has none); without, masks are ignored.
template <class T>
nlohmann::json load_checkpoint(const std::filesystem::path& path, ad::ParameterBuffer<T>& params, Optimizer<T>* optimizer,
                               PruneMask<T>* mask = nullptr);

/// The whole metadata object of a checkpoint (format, optimizer, user), without loading arrays.
nlohmann::json read_checkpoint_metadata(const std::filesystem::path& path);

/// The number of parameter values the checkpoint holds, from the arrays' headers alone (nothing
/// is inflated beyond them), so a model described by the metadata can be checked against it
/// before it is built.
std::int64_t count_checkpoint_parameters(const std::filesystem::path& path);

}  // namespace nn
