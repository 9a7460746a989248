#include "nn/compact.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "nn/files.hpp"
#include "nn/npy.hpp"

namespace nn {

namespace {

constexpr std::string_view kFormat = "nif-compact", kMetadata = "metadata.json";
constexpr int kVersion = 1;
constexpr std::uint64_t kMaxMetadataBytes = 16 << 20;
// No entry or model of ours comes near; the bound keeps forged sizes from overflowing or
// describing more than memory holds before anything is compared with a model.
constexpr std::int64_t kMaxValues = std::int64_t(1) << 34;

std::size_t value_bytes(WeightFormat f) { return f == WeightFormat::int8 ? 1 : f == WeightFormat::fp16 ? 2 : 4; }
std::string_view npy_descr(WeightFormat f) { return f == WeightFormat::int8 ? "|i1" : f == WeightFormat::fp16 ? "<u2" : "<f4"; }

std::uint16_t to_half_bits(float x) { return std::bit_cast<std::uint16_t>(static_cast<_Float16>(x)); }
float from_half_bits(std::uint16_t bits) { return static_cast<float>(std::bit_cast<_Float16>(bits)); }

/// The smallest fp16 at or above x ≥ 0 (a scale rounded up keeps every |w|/scale ≤ 127).
float half_at_or_above(float x) {
  std::uint16_t bits = to_half_bits(x);
  if (from_half_bits(bits) < x) ++bits;
  const float h = from_half_bits(bits);
  if (!std::isfinite(h)) throw std::invalid_argument("a weight is too large for an int8 export (its scale exceeds fp16)");
  return h;
}

/// One entry as stored: its codes (int8 values, fp16 bits or floats, as raw words), its scales
/// and whether a bitmap marks its non-zero codes.
struct Encoded {
  WeightFormat encoding;
  std::vector<std::int64_t> codes;  ///< one per value, in C order
  std::vector<float> floats;        ///< fp32 values (codes unused)
  std::vector<float> scales;        ///< int8: one per column
};

template <class T>
Encoded encode(const typename ad::ParameterBuffer<T>::Entry& e, const T* w, WeightFormat encoding) {
  Encoded out{encoding, {}, {}, {}};
  const auto n = std::size_t(e.size());
  if (encoding == WeightFormat::fp32) {
    out.floats.assign(w, w + n);
    return out;
  }
  out.codes.resize(n);
  if (encoding == WeightFormat::fp16) {
    for (std::size_t k = 0; k < n; ++k) out.codes[k] = to_half_bits(float(w[k]));
    return out;
  }
  out.scales.assign(std::size_t(e.cols), 0.0f);
  for (std::size_t k = 0; k < n; ++k) {
    float& s = out.scales[k % std::size_t(e.cols)];
    s = std::max(s, float(std::abs(w[k])));
  }
  for (float& s : out.scales) s = half_at_or_above(s / 127);
  for (std::size_t k = 0; k < n; ++k) {
    const float s = out.scales[k % std::size_t(e.cols)];
    out.codes[k] = s > 0 ? std::clamp<std::int64_t>(std::llround(double(w[k]) / s), -127, 127) : 0;
  }
  return out;
}

/// Whether value k of `enc` is zero as stored (fp16 ±0 included).
bool stored_zero(const Encoded& enc, std::size_t k) {
  if (enc.encoding == WeightFormat::fp32) return enc.floats[k] == 0;
  if (enc.encoding == WeightFormat::fp16) return (enc.codes[k] & 0x7fff) == 0;
  return enc.codes[k] == 0;
}

NpyArray values_array(const Encoded& enc, const std::vector<std::size_t>& kept) {
  if (enc.encoding == WeightFormat::fp32) {
    std::vector<float> v;
    for (std::size_t k : kept) v.push_back(enc.floats[k]);
    return NpyArray::from_vector(std::span<const float>(v));
  }
  if (enc.encoding == WeightFormat::fp16) {
    std::vector<std::uint16_t> v;
    for (std::size_t k : kept) v.push_back(std::uint16_t(enc.codes[k]));
    return NpyArray::from_vector(std::span<const std::uint16_t>(v));
  }
  std::vector<std::int8_t> v;
  for (std::size_t k : kept) v.push_back(std::int8_t(enc.codes[k]));
  return NpyArray::from_vector(std::span<const std::int8_t>(v));
}

[[noreturn]] void refuse(const std::filesystem::path& path, const std::string& what) { throw FileError(path, what); }

/// An integer of the metadata in [0, hi]; FileError naming `what` otherwise.
std::int64_t bounded(const std::filesystem::path& path, const nlohmann::json& v, std::int64_t hi, const std::string& what) {
  if (!v.is_number_integer() || (v.is_number_unsigned() ? v.get<std::uint64_t>() > std::uint64_t(hi)
                                                          : v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > hi))
    refuse(path, fmt::format("{} must be an integer from 0 to {} (got {})", what, hi, v.dump()));
  return v.get<std::int64_t>();
}

/// One entry of the metadata, validated.
struct EntryInfo {
  std::string name;
  std::int64_t rows = 0, cols = 0, nonzeros = 0;
  WeightFormat encoding = WeightFormat::fp32;
  bool bitmap = false;
  std::int64_t size() const { return rows * cols; }
  std::int64_t stored() const { return bitmap ? nonzeros : size(); }
};

std::vector<EntryInfo> entries_of(const std::filesystem::path& path, const nlohmann::json& meta) {
  const nlohmann::json entries = meta.value("entries", nlohmann::json());
  if (!entries.is_array()) refuse(path, "metadata.json has no \"entries\" array");
  std::vector<EntryInfo> out;
  std::int64_t total = 0;
  for (const nlohmann::json& j : entries) {
    if (!j.is_object()) refuse(path, "an entry of metadata.json is not an object");
    EntryInfo e;
    const nlohmann::json name = j.value("name", nlohmann::json()), encoding = j.value("encoding", nlohmann::json());
    if (!name.is_string()) refuse(path, "an entry of metadata.json has no name");
    e.name = name.get<std::string>();
    e.rows = bounded(path, j.value("rows", nlohmann::json()), kMaxValues, e.name + " rows");
    e.cols = bounded(path, j.value("cols", nlohmann::json()), kMaxValues, e.name + " cols");
    if (e.rows > 0 && e.cols > kMaxValues / e.rows) refuse(path, e.name + " is implausibly large");
    e.nonzeros = bounded(path, j.value("nonzeros", nlohmann::json()), e.size(), e.name + " nonzeros");
    try {
      e.encoding = parse_weight_format(encoding.is_string() ? encoding.get<std::string>() : "");
    } catch (const std::invalid_argument& ex) {
      refuse(path, e.name + ": " + ex.what());
    }
    const nlohmann::json bitmap = j.value("bitmap", nlohmann::json());
    if (!bitmap.is_boolean()) refuse(path, e.name + ": \"bitmap\" must be true or false");
    e.bitmap = bitmap.get<bool>();
    if ((total += e.size()) > kMaxValues) refuse(path, "implausibly many values");
    out.push_back(std::move(e));
  }
  return out;
}

struct Archive {
  ZipArchive zip;
  nlohmann::json metadata;
  std::vector<EntryInfo> entries;
};

/// The metadata of the zip `zip`, or null when it has none or it is not JSON.
nlohmann::json metadata_of(const std::filesystem::path& path, const ZipArchive& zip) {
  const ZipArchive::Entry* meta = zip.find(kMetadata);
  if (meta == nullptr) return nullptr;
  if (meta->size > kMaxMetadataBytes)
    refuse(path, fmt::format("metadata.json is {} bytes, more than the {} accepted", meta->size, kMaxMetadataBytes));
  const auto bytes = zip.member(kMetadata);
  return nlohmann::json::parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), nullptr, false);
}

bool compact_metadata(const nlohmann::json& meta) {
  return meta.is_object() && meta.value("format", nlohmann::json()) == std::string(kFormat);
}

Archive read_archive(const std::filesystem::path& path) {
  Archive a{ZipArchive::open(path), {}, {}};
  a.metadata = metadata_of(path, a.zip);
  if (!compact_metadata(a.metadata)) refuse(path, "not a compact model (no metadata.json of format nif-compact)");
  if (a.metadata.value("version", nlohmann::json()) != kVersion)
    refuse(path, fmt::format("unsupported compact model version (expected {})", kVersion));
  const nlohmann::json weights = a.metadata.value("weights", nlohmann::json());
  try {
    parse_weight_format(weights.is_string() ? weights.get<std::string>() : "");
  } catch (const std::invalid_argument& e) {
    refuse(path, std::string("\"weights\": ") + e.what());
  }
  a.entries = entries_of(path, a.metadata);
  return a;
}

/// The member `name` of `a` after its header showed `descr` and `count` values.
NpyArray checked_member(const std::filesystem::path& path, const Archive& a, const std::string& name, std::string_view descr,
                        std::int64_t count) {
  if (a.zip.find(name) == nullptr) refuse(path, name + " is missing");
  const NpyHeaderInfo header = a.zip.npy_header(name);
  if (header.descr != descr || header.shape != std::vector<std::int64_t>{count})
    refuse(path, fmt::format("{} must hold {} values of dtype {}", name, count, descr));
  return parse_npy(a.zip.member(name), a.zip.member_label(name));
}

/// The dequantised values of entry `e` (e.size() of them, zeros where the bitmap has none).
std::vector<double> decode(const std::filesystem::path& path, const Archive& a, const EntryInfo& e) {
  const std::vector<double> stored = checked_member(path, a, e.name + "/values.npy", npy_descr(e.encoding), e.stored()).to_vector<double>();
  std::vector<double> scales;
  if (e.encoding == WeightFormat::int8) {
    for (const double bits : checked_member(path, a, e.name + "/scales.npy", "<u2", e.cols).to_vector<double>())
      scales.push_back(from_half_bits(std::uint16_t(bits)));
    if (!std::all_of(scales.begin(), scales.end(), [](double s) { return std::isfinite(s) && s >= 0; }))
      refuse(path, e.name + ": a scale is negative or not finite");
  }
  std::vector<double> out(std::size_t(e.size()), 0.0);
  std::vector<std::size_t> positions;
  if (e.bitmap) {
    const std::vector<double> bits = checked_member(path, a, e.name + "/bitmap.npy", "|u1", (e.size() + 7) / 8).to_vector<double>();
    for (std::size_t k = 0; k < out.size(); ++k)
      if ((std::uint32_t(bits[k / 8]) >> (k % 8)) & 1u) positions.push_back(k);
    const auto total = std::accumulate(bits.begin(), bits.end(), std::int64_t(0),
                                       [](std::int64_t s, double b) { return s + std::popcount(std::uint32_t(b)); });
    if (std::int64_t(positions.size()) != e.nonzeros || total != e.nonzeros)
      refuse(path, fmt::format("{}: the bitmap marks {} values, the entry stores {}", e.name, total, e.nonzeros));
  }
  const auto zero = [&](double v) { return e.encoding == WeightFormat::fp16 ? (std::uint32_t(v) & 0x7fffu) == 0 : v == 0; };
  const auto nonzeros = std::count_if(stored.begin(), stored.end(), [&](double v) { return !zero(v); });
  if (!e.bitmap && nonzeros != e.nonzeros)
    refuse(path, fmt::format("{} declares {} non-zero values and holds {}", e.name, e.nonzeros, nonzeros));
  for (std::size_t i = 0; i < stored.size(); ++i) {
    const std::size_t k = e.bitmap ? positions[i] : i;
    const double v = e.encoding == WeightFormat::fp16 ? double(from_half_bits(std::uint16_t(stored[i])))
                     : e.encoding == WeightFormat::int8 ? stored[i] * scales[k % std::size_t(e.cols)]
                                                        : stored[i];
    if (!std::isfinite(v)) refuse(path, e.name + " holds a value that is not finite");
    out[k] = v;
  }
  return out;
}

}  // namespace

WeightFormat parse_weight_format(const std::string& name) {
  if (name == "fp32") return WeightFormat::fp32;
  if (name == "fp16") return WeightFormat::fp16;
  if (name == "int8") return WeightFormat::int8;
  throw std::invalid_argument("unknown format '" + name + "' (expected fp32, fp16, int8)");
}

std::string_view weight_format_name(WeightFormat format) {
  return format == WeightFormat::int8 ? "int8" : format == WeightFormat::fp16 ? "fp16" : "fp32";
}

template <class T>
void save_compact_model(const std::filesystem::path& path, const ad::ParameterBuffer<T>& params, WeightFormat format,
                        const nlohmann::json& user) {
  NpzWriter npz;
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : params.entries()) {
    const WeightFormat encoding = e.is_matrix || format == WeightFormat::fp32 ? format : WeightFormat::fp16;
    const Encoded enc = encode<T>(e, params.values().data() + e.offset, encoding);
    const auto n = std::size_t(e.size());
    std::vector<std::size_t> nonzero;
    for (std::size_t k = 0; k < n; ++k)
      if (!stored_zero(enc, k)) nonzero.push_back(k);
    const std::size_t b = value_bytes(encoding);
    const bool bitmap = nonzero.size() * b + (n + 7) / 8 < n * b;
    std::vector<std::size_t> kept(n);
    for (std::size_t k = 0; k < n; ++k) kept[k] = k;
    if (bitmap) {
      std::vector<std::uint8_t> bits((n + 7) / 8, 0);
      for (std::size_t k : nonzero) bits[k / 8] = std::uint8_t(bits[k / 8] | (1u << (k % 8)));
      npz.add(e.name + "/bitmap", NpyArray::from_vector(std::span<const std::uint8_t>(bits)));
      kept = nonzero;
    }
    npz.add(e.name + "/values", values_array(enc, kept));
    if (encoding == WeightFormat::int8) {
      std::vector<std::uint16_t> scales;
      for (const float scale : enc.scales) scales.push_back(to_half_bits(scale));
      npz.add(e.name + "/scales", NpyArray::from_vector(std::span<const std::uint16_t>(scales)));
    }
    entries.push_back({{"name", e.name}, {"rows", e.rows}, {"cols", e.cols}, {"encoding", std::string(weight_format_name(encoding))},
                       {"nonzeros", nonzero.size()}, {"bitmap", bitmap}});
  }
  const nlohmann::json meta{{"format", std::string(kFormat)}, {"version", kVersion}, {"weights", std::string(weight_format_name(format))},
                            {"entries", entries}, {"user", user}};
  const std::string text = meta.dump(1);
  const auto* bytes = reinterpret_cast<const std::byte*>(text.data());
  npz.add_raw(std::string(kMetadata), std::vector<std::byte>(bytes, bytes + text.size()));
  npz.write(path, /*compress=*/true);
}

bool is_compact_model(const std::filesystem::path& path) {
  const ZipArchive zip = ZipArchive::open(path);
  return compact_metadata(metadata_of(path, zip));
}

nlohmann::json read_compact_metadata(const std::filesystem::path& path) { return read_archive(path).metadata; }

std::int64_t count_compact_parameters(const std::filesystem::path& path) {
  std::int64_t total = 0;
  for (const EntryInfo& e : read_archive(path).entries) total += e.size();
  return total;
}

template <class T>
nlohmann::json load_compact_model(const std::filesystem::path& path, ad::ParameterBuffer<T>& params) {
  const Archive a = read_archive(path);
  if (std::int64_t(a.entries.size()) != params.count())
    refuse(path, fmt::format("{} entries, the model has {} parameters", a.entries.size(), params.count()));
  ad::Vector<T> values(params.size());
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    const EntryInfo& stored = a.entries[i];
    const auto& e = params.entry(ad::Index(i));
    if (stored.name != e.name || stored.rows != e.rows || stored.cols != e.cols)
      refuse(path, fmt::format("entry {} is {} [{} x {}], the model expects {} [{} x {}]", i, stored.name, stored.rows,
                               stored.cols, e.name, e.rows, e.cols));
    const std::vector<double> v = decode(path, a, stored);
    for (std::size_t k = 0; k < v.size(); ++k) values[e.offset + ad::Index(k)] = T(v[k]);
  }
  params.values() = values;
  const nlohmann::json user = a.metadata.value("user", nlohmann::json::object());
  return user.is_object() ? user : nlohmann::json::object();
}

template void save_compact_model(const std::filesystem::path&, const ad::ParameterBuffer<float>&, WeightFormat,
                                 const nlohmann::json&);
template void save_compact_model(const std::filesystem::path&, const ad::ParameterBuffer<double>&, WeightFormat,
                                 const nlohmann::json&);
template nlohmann::json load_compact_model(const std::filesystem::path&, ad::ParameterBuffer<float>&);
template nlohmann::json load_compact_model(const std::filesystem::path&, ad::ParameterBuffer<double>&);

}  // namespace nn
