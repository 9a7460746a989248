// `nif modes`: the spatial modes φ(x) of a trained modal model (nif::ModalModel) on any points,
// so that a model trained on one mesh yields its modes on another.

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "experiments/cli.hpp"
#include "experiments/saved_model.hpp"
#include "nif/csv.hpp"
#include "nif/data.hpp"
#include "nif/modal.hpp"
#include "nn/npy.hpp"

namespace experiments {

int run_modes(const std::vector<std::string>& args) {
  std::string checkpoint, data, out, input_cols;
  po::options_description desc("nif modes --checkpoint FILE --data FILE --out FILE");
  desc.add_options()("help", "show this help")("checkpoint", po::value(&checkpoint), "a checkpoint written by nif train")(
      "data", po::value(&data), "points (.npy/.npz/.csv) in physical units")(
      "out", po::value(&out), "modes: .npy or .csv (columns: the coordinates, then phi_o_k for field o, mode k)")(
      "input-cols", po::value(&input_cols), "columns of the coordinates (default: the first D)");
  const auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (checkpoint.empty() || data.empty() || out.empty()) throw UsageError("--checkpoint, --data and --out are required");
  const std::string ext = std::filesystem::path(out).extension().string();
  if (ext != ".npy" && ext != ".csv") throw UsageError("--out must end in .npy or .csv");
  SavedModel saved(checkpoint);
  auto* modal = dynamic_cast<nif::ModalModel<float>*>(&saved.model());
  if (modal == nullptr) throw UsageError(fmt::format("architecture {} has no spatial modes", saved.config().architecture));
  const ad::Index D = saved.config().shape_net.input_dim, O = saved.config().shape_net.output_dim;
  std::vector<ad::Index> cols;
  for (ad::Index i = 0; i < D; ++i) cols.push_back(i);
  if (!input_cols.empty()) cols = parse_columns(input_cols, "input-cols");
  if (ad::Index(cols.size()) != D) throw UsageError(fmt::format("the model takes {} coordinate column(s)", D));
  const ad::Matrix<float> table = nif::read_table(data).values;
  if (table.rows() == 0) throw nn::FileError(data, "no points");
  ad::Matrix<float> x(table.rows(), D);
  for (ad::Index j = 0; j < D; ++j) {
    if (cols[std::size_t(j)] >= table.cols())
      throw nn::FileError(data, fmt::format("column {} requested, the table has {}", cols[std::size_t(j)], table.cols()));
    x.col(j) = table.col(cols[std::size_t(j)]);
  }
  if (!x.allFinite()) throw nn::FileError(data, "a coordinate is not finite");

  ad::Tape<float> tape;
  ad::NoGradGuard<float> guard(tape);
  const ad::Var<float> phi = modal->spatial_modes(tape.constant(saved.normalizer().normalize_coords(x)));
  ad::Matrix<float> result(x.rows(), D + phi.cols());
  result << x, phi.value();
  if (ext == ".npy") {
    nn::write_npy(out, nn::NpyArray::from_matrix(result));
  } else {
    std::vector<std::string> header;
    for (ad::Index i = 0; i < D; ++i) header.push_back(fmt::format("x{}", i));
    for (ad::Index j = 0; j < phi.cols(); ++j) header.push_back(fmt::format("phi_{}_{}", j / (phi.cols() / O), j % (phi.cols() / O)));
    nif::write_csv(out, result, header);
  }
  fmt::print("wrote {} modes on {} points of {} ({}) to {}\n", phi.cols(), x.rows(), saved.config().architecture, checkpoint, out);
  return 0;
}

}  // namespace experiments
