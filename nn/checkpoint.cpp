#include "nn/checkpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "nn/files.hpp"
#include "nn/npy.hpp"

namespace nn {

namespace {

constexpr std::string_view kParamPrefix = "params/", kOptimizerPrefix = "optimizer/", kMaskPrefix = "masks/";
constexpr std::string_view kMetadata = "metadata.json";
// Ours are a few KiB; the bound keeps a forged size from costing memory.
constexpr std::uint64_t kMaxMetadataBytes = 16 << 20;

nlohmann::json parse_metadata(const std::filesystem::path& path, const std::vector<std::byte>& bytes) {
  try {
    return nlohmann::json::parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  } catch (const nlohmann::json::exception& e) {
    throw FileError(path, fmt::format("metadata.json is not valid JSON ({})", e.what()));
  }
}

/// A checkpoint's archive and its metadata. Arrays are inflated only when taken, after their
/// header showed the size the model expects, so a checkpoint cannot make us allocate more than
/// the model needs, and members nobody asks for are never inflated.
struct Archive {
  ZipArchive zip;
  nlohmann::json metadata;
};

Archive read_archive(const std::filesystem::path& path) {
  Archive a{ZipArchive::open(path), {}};
  const ZipArchive::Entry* meta = a.zip.find(kMetadata);
  if (meta == nullptr) throw FileError(path, "not a checkpoint (no metadata.json member)");
  if (meta->size > kMaxMetadataBytes)
    throw FileError(path, fmt::format("metadata.json is {} bytes, more than the {} accepted", meta->size, kMaxMetadataBytes));
  a.metadata = parse_metadata(path, a.zip.member(kMetadata));
  // The metadata is untrusted JSON: compared as JSON values, never converted to a C++ type
  // that may not hold them (a string throws nlohmann's type_error, 1e300 as int is undefined).
  if (!a.metadata.is_object() || a.metadata.value("format", nlohmann::json()) != kCheckpointFormat)
    throw FileError(path, fmt::format("unsupported checkpoint format (expected {})", kCheckpointFormat));
  return a;
}

/// The masks of the checkpoint (inactive when it has none), checked: one per trainable weight
/// matrix, 0/1 only, and every pruned weight in `values` exactly zero.
template <class T, class Take>
PruneMask<T> read_masks(const std::filesystem::path& path, Archive& a, const ad::ParameterBuffer<T>& params,
                        const ad::Vector<T>& values, Take& take) {
  PruneMask<T> mask;
  const auto names = a.zip.names();
  if (std::none_of(names.begin(), names.end(), [](const std::string& n) { return n.starts_with(kMaskPrefix); })) return mask;
  ad::Vector<T> keep = ad::Vector<T>::Ones(params.size());
  for (const auto& e : params.entries()) {
    if (!prunable<T>(e)) continue;
    const auto v = take(std::string(kMaskPrefix) + e.name, e.size(), "mask " + e.name);
    std::copy(v.begin(), v.end(), keep.data() + e.offset);
  }
  try {
    mask.assign(params, std::move(keep));
  } catch (const std::invalid_argument& e) {
    throw FileError(path, e.what());
  }
  for (const auto& e : params.entries())
    for (ad::Index i = e.offset; i < e.offset + e.size(); ++i)
      if (mask.keep()[i] == T(0) && values[i] != T(0))
        throw FileError(path, fmt::format("{} has a pruned weight that is not zero (value {})", e.name, values[i]));
  return mask;
}

}  // namespace

template <class T>
void save_checkpoint(const std::filesystem::path& path, const ad::ParameterBuffer<T>& params,
                     const Optimizer<T>* optimizer, const nlohmann::json& user, const PruneMask<T>* mask) {
  NpzWriter npz;
  for (const auto& e : params.entries()) {
    const auto values = std::span<const T>(params.values().data() + e.offset, static_cast<std::size_t>(e.size()));
    NpyArray array = NpyArray::from_vector(values);
    if (e.is_matrix) array.shape = {e.rows, e.cols};
    npz.add(std::string(kParamPrefix) + e.name, array);
    if (mask == nullptr || !mask->active() || !prunable<T>(e)) continue;
    std::vector<std::uint8_t> keep(static_cast<std::size_t>(e.size()));
    for (ad::Index i = 0; i < e.size(); ++i) keep[std::size_t(i)] = mask->keep()[e.offset + i] != T(0);
    NpyArray bits = NpyArray::from_vector(std::span<const std::uint8_t>(keep));
    bits.shape = {e.rows, e.cols};
    npz.add(std::string(kMaskPrefix) + e.name, bits);
  }
  nlohmann::json meta{{"format", kCheckpointFormat}, {"user", user}};
  if (optimizer != nullptr) {
    meta["optimizer"] = {{"name", optimizer->name()}, {"steps", optimizer->steps()}};
    for (const auto& [name, vec] : optimizer->state())
      npz.add(std::string(kOptimizerPrefix) + name, NpyArray::from_vector(std::span<const T>(vec.data(), vec.size())));
  }
  const std::string text = meta.dump(1);
  const auto* bytes = reinterpret_cast<const std::byte*>(text.data());
  npz.add_raw(std::string(kMetadata), std::vector<std::byte>(bytes, bytes + text.size()));
  npz.write(path);
}

template <class T>
nlohmann::json load_checkpoint(const std::filesystem::path& path, ad::ParameterBuffer<T>& params, Optimizer<T>* optimizer,
                               PruneMask<T>* mask) {
  Archive a = read_archive(path);
  std::set<std::string> taken;
  auto take = [&](const std::string& key, ad::Index expected_size, const std::string& what) {
    const std::string member = key + ".npy";
    if (a.zip.find(member) == nullptr) throw FileError(path, what + " is missing (another architecture or config?)");
    std::vector<T> v;
    try {
      const NpyHeaderInfo header = a.zip.npy_header(member);
      const std::int64_t count = NpyArray{header.shape, DType::u1, {}}.size();
      if (count != expected_size)
        throw FileError(path, fmt::format("{} has {} values, the model expects {}", what, count, expected_size));
      v = parse_npy(a.zip.member(member), a.zip.member_label(member)).template to_vector<T>();
    } catch (const std::invalid_argument& e) {
      throw FileError(path, what + ": " + e.what());
    }
    taken.insert(key);
    return v;
  };

  ad::Vector<T> values(params.size());
  for (const auto& e : params.entries()) {
    const auto v = take(std::string(kParamPrefix) + e.name, e.size(), "parameter " + e.name);
    std::copy(v.begin(), v.end(), values.data() + e.offset);
  }
  PruneMask<T> masks;
  if (mask != nullptr) masks = read_masks(path, a, params, values, take);
  NamedVectors<T> state;
  std::int64_t steps = 0;
  if (optimizer != nullptr) {
    const auto record = a.metadata.value("optimizer", nlohmann::json::object());
    const auto name = record.is_object() ? record.value("name", nlohmann::json()) : nlohmann::json();
    if (!name.is_string() || name.get<std::string>() != optimizer->name())
      throw FileError(path, fmt::format("optimizer '{}' in the checkpoint, '{}' requested",
                                        name.is_string() ? name.get<std::string>() : "none", optimizer->name()));
    const auto count = record.value("steps", nlohmann::json(0));
    if (!count.is_number_integer()) throw FileError(path, "the optimizer step count in metadata.json is not an integer");
    steps = count.get<std::int64_t>();
    for (const auto& [name, vec] : optimizer->state()) {
      const auto v = take(std::string(kOptimizerPrefix) + name, vec.size(), "optimizer state " + name);
      state.emplace_back(name, Eigen::Map<const ad::Vector<T>>(v.data(), vec.size()));
    }
  }
  for (const std::string& name : a.zip.names())
    for (const std::string_view prefix : {kParamPrefix, kMaskPrefix})
      if (name.starts_with(prefix) && name.ends_with(".npy") && (mask != nullptr || prefix == kParamPrefix) &&
          !taken.contains(name.substr(0, name.size() - 4)))
        throw FileError(path, fmt::format("{} {} is not in the model", prefix == kParamPrefix ? "parameter" : "the mask of",
                                          name.substr(prefix.size(), name.size() - prefix.size() - 4)));
  if (optimizer != nullptr) {
    try {
      optimizer->load_state(state, steps);
    } catch (const std::invalid_argument& e) {
      throw FileError(path, e.what());
    }
  }
  params.values() = values;
  if (mask != nullptr) *mask = std::move(masks);
  return a.metadata.value("user", nlohmann::json::object());
}

nlohmann::json read_checkpoint_metadata(const std::filesystem::path& path) { return read_archive(path).metadata; }

std::int64_t count_checkpoint_parameters(const std::filesystem::path& path) {
  const Archive a = read_archive(path);
  std::int64_t total = 0;
  for (const std::string& name : a.zip.names()) {
    if (!name.starts_with(kParamPrefix) || !name.ends_with(".npy")) continue;
    std::int64_t count = 0;
    try {
      count = NpyArray{a.zip.npy_header(name).shape, DType::u1, {}}.size();
    } catch (const std::invalid_argument& e) {
      throw FileError(path, e.what());
    }
    if (__builtin_add_overflow(total, count, &total)) throw FileError(path, "implausibly many parameter values");
  }
  return total;
}

template void save_checkpoint(const std::filesystem::path&, const ad::ParameterBuffer<float>&, const Optimizer<float>*,
                              const nlohmann::json&, const PruneMask<float>*);
template void save_checkpoint(const std::filesystem::path&, const ad::ParameterBuffer<double>&, const Optimizer<double>*,
                              const nlohmann::json&, const PruneMask<double>*);
template nlohmann::json load_checkpoint(const std::filesystem::path&, ad::ParameterBuffer<float>&, Optimizer<float>*,
                                        PruneMask<float>*);
template nlohmann::json load_checkpoint(const std::filesystem::path&, ad::ParameterBuffer<double>&, Optimizer<double>*,
                                        PruneMask<double>*);

}  // namespace nn
