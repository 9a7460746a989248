// Compact model files (nn/compact.hpp): fp32, fp16 and int8 round trips within their bounds, the
// zeros of a pruned model left out, and a validated reader.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "nn/compact.hpp"
#include "nn/files.hpp"
#include "nn/npy.hpp"
#include "nn/prune.hpp"
#include "nn/random.hpp"
#include "support/scratch_dir.hpp"

namespace {

ad::ParameterBuffer<float> model(std::uint64_t seed = 2) {
  ad::ParameterBuffer<float> p;
  p.add("net.w0", 16, 200);
  p.add("net.b0", 1, 200, /*is_matrix=*/false);
  p.add("net.w1", 200, 3);
  nn::Rng rng(seed);
  for (ad::Index i = 0; i < p.size(); ++i) p.values()[i] = float(rng.uniform(-2, 2));
  return p;
}

ad::ParameterBuffer<float> load(const std::filesystem::path& file) {
  ad::ParameterBuffer<float> q = model(99);
  nn::load_compact_model(file, q);
  return q;
}

}  // namespace

TEST_CASE("fp32 round-trips exactly, fp16 to half precision, int8 within half a step of each output channel's scale") {
  testing::ScratchDir tmp;
  const ad::ParameterBuffer<float> p = model();
  nn::save_compact_model(tmp / "fp32.nifc", p, nn::WeightFormat::fp32, {{"note", 1}});
  CHECK(load(tmp / "fp32.nifc").values() == p.values());
  CHECK(nn::is_compact_model(tmp / "fp32.nifc"));
  CHECK(nn::read_compact_metadata(tmp / "fp32.nifc")["user"]["note"] == 1);
  CHECK(nn::count_compact_parameters(tmp / "fp32.nifc") == p.size());

  nn::save_compact_model(tmp / "fp16.nifc", p, nn::WeightFormat::fp16, {});
  const ad::Vector<float> half = load(tmp / "fp16.nifc").values();
  CHECK(((half - p.values()).array().abs() <= p.values().array().abs() * (1.0f / 2048)).all());

  nn::save_compact_model(tmp / "int8.nifc", p, nn::WeightFormat::int8, {});
  const ad::Vector<float> q = load(tmp / "int8.nifc").values();
  for (const auto& e : p.entries()) {
    for (ad::Index c = 0; c < e.cols; ++c) {
      float scale = 0;
      for (ad::Index r = 0; r < e.rows; ++r) scale = std::max(scale, std::abs(p.values()[e.offset + r * e.cols + c]) / 127);
      for (ad::Index r = 0; r < e.rows; ++r) {
        const ad::Index i = e.offset + r * e.cols + c;
        if (e.is_matrix)  // the scale is stored as fp16, rounded up
          REQUIRE(std::abs(q[i] - p.values()[i]) <= scale / 2 * (1 + 1.0f / 1024));
        else
          REQUIRE(q[i] == float(_Float16(p.values()[i])));  // biases in fp16
      }
    }
  }
  CHECK(std::filesystem::file_size(tmp / "int8.nifc") < std::filesystem::file_size(tmp / "fp16.nifc"));
  CHECK(std::filesystem::file_size(tmp / "fp16.nifc") < std::filesystem::file_size(tmp / "fp32.nifc"));
}

TEST_CASE("a pruned model's zeros stay exactly zero and are left out of the file") {
  testing::ScratchDir tmp;
  ad::ParameterBuffer<float> p = model();
  nn::save_compact_model(tmp / "dense.nifc", p, nn::WeightFormat::fp32, {});
  nn::PruneMask<float> mask;
  mask.update(p, 0.9, nn::PruneScope::layer);
  mask.apply(p, nullptr);
  for (const auto format : {nn::WeightFormat::fp32, nn::WeightFormat::fp16, nn::WeightFormat::int8}) {
    const auto file = tmp / ("sparse." + std::string(nn::weight_format_name(format)));
    nn::save_compact_model(file, p, format, {});
    const ad::Vector<float> q = load(file).values();
    CHECK(((mask.keep().array() == 0) <= (q.array() == 0)).all());
  }
  // 10% of the weights and a bitmap: at most a third of the bytes (the bias is not pruned).
  CHECK(std::filesystem::file_size(tmp / "sparse.fp32") * 3 < std::filesystem::file_size(tmp / "dense.nifc"));
}

TEST_CASE("the compact reader refuses files that do not match the model or their own metadata, leaving it untouched") {
  testing::ScratchDir tmp;
  const ad::ParameterBuffer<float> p = model();
  nn::save_compact_model(tmp / "ok.nifc", p, nn::WeightFormat::int8, {});
  auto members = nn::read_zip_members(tmp / "ok.nifc");
  auto rewrite = [&](const std::string& name, auto edit) {
    nn::NpzWriter w;
    for (auto [member, bytes] : members) {
      if (member == name) edit(bytes);
      w.add_raw(member, bytes);
    }
    w.write(tmp / "bad.nifc");
  };
  auto refused = [&] {
    ad::ParameterBuffer<float> q = model(7);
    const ad::Vector<float> before = q.values();
    CHECK_THROWS_AS(nn::load_compact_model(tmp / "bad.nifc", q), nn::FileError);
    CHECK(q.values() == before);
  };
  auto edit_metadata = [&](auto change) {
    rewrite("metadata.json", [&](std::vector<std::byte>& bytes) {
      auto meta = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      change(meta);
      const std::string text = meta.dump();
      bytes.assign(reinterpret_cast<const std::byte*>(text.data()), reinterpret_cast<const std::byte*>(text.data() + text.size()));
    });
    refused();
  };
  edit_metadata([](nlohmann::json& m) { m["version"] = 2; });
  edit_metadata([](nlohmann::json& m) { m["entries"][0]["rows"] = 9; });
  edit_metadata([](nlohmann::json& m) { m["entries"][0]["rows"] = 1e18; });
  edit_metadata([](nlohmann::json& m) { m["entries"][0]["cols"] = -1; });
  edit_metadata([](nlohmann::json& m) { m["entries"][0]["nonzeros"] = 5; });
  edit_metadata([](nlohmann::json& m) { m["entries"][0]["bitmap"] = true; });
  edit_metadata([](nlohmann::json& m) { m["entries"][2]["encoding"] = "int4"; });
  edit_metadata([](nlohmann::json& m) { m["entries"].erase(1); });
  // A scale that is not finite.
  rewrite("net.w0/scales.npy", [](std::vector<std::byte>& bytes) {
    const std::uint16_t inf = 0x7c00;  // fp16 +inf
    std::memcpy(bytes.data() + bytes.size() - 2, &inf, 2);
  });
  refused();
  // A checkpoint or any other zip is not a compact model.
  nn::NpzWriter other;
  other.add("x", nn::NpyArray::from_vector(std::span<const float>(p.values().data(), 3)));
  other.write(tmp / "bad.nifc");
  CHECK_FALSE(nn::is_compact_model(tmp / "bad.nifc"));
  refused();
  CHECK_THROWS_AS(nn::parse_weight_format("int4"), std::invalid_argument);
}
