#pragma once
// The POD baseline's result on held-out data, shared by `nif baseline pod` and `nif study`.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "nif/pod.hpp"

namespace experiments {

/// The errors of `pod` at `rank` on `test` (nif::to_json's keys: test_rel_l2, test_rel_l2_<field>,
/// test_snapshots) with rank, interpolation and the stored values.
nlohmann::json pod_result(const nif::Pod& pod, const nif::PointDataset& test, ad::Index rank,
                          nif::Interpolation interpolation, const std::vector<std::string>& fields,
                          const std::vector<std::string>& params);

}  // namespace experiments
