// `nif modes`: the spatial modes φ(x) of a trained modal model (nif::ModalModel) on any
// points, so that a model trained on one mesh yields its modes on another.

#include <fmt/format.h>

#include <iostream>

#include "experiments/cli.hpp"
#include "nif/data.hpp"
#include "nif/modal.hpp"

namespace experiments {

int run_modes(const std::vector<std::string>& args) {
  PointsFiles files;
  po::options_description desc("nif modes --checkpoint FILE --data FILE --out FILE");
  files.add_to(desc, "modes: .npy or .csv (columns: the coordinates, then phi_o_k for field o, mode k)",
               "columns of the coordinates (default: the first D)");
  if (!files.parse(args, desc)) return 0;
  const auto& [checkpoint, data, out, input_cols] = files;
  const TrainedModel trained = load_trained_model(checkpoint);
  const ad::Index D = trained.config.shape_net.input_dim, O = trained.config.shape_net.output_dim;
  std::vector<ad::Index> xc;
  for (ad::Index i = 0; i < D; ++i) xc.push_back(i);
  if (!input_cols.empty()) xc = parse_columns(input_cols, "input-cols");
  if (ad::Index(xc.size()) != D) throw UsageError(fmt::format("the model takes {} coordinate column(s)", D));
  const ad::Matrix<float> x = table_columns(nif::read_table(data), xc, data);

  ad::Tape<float> tape;
  ad::NoGradGuard<float> guard(tape);
  auto* modal = dynamic_cast<nif::ModalModel<float>*>(trained.model.get());
  if (modal == nullptr) throw UsageError(fmt::format("architecture {} has no spatial modes", trained.config.architecture));
  const ad::Var<float> phi = modal->spatial_modes(tape.constant(trained.normalizer.normalize_coords(x)));
  ad::Matrix<float> result(x.rows(), D + phi.cols());
  result << x, phi.value();
  std::vector<std::string> header;
  for (ad::Index i = 0; i < D; ++i) header.push_back(fmt::format("x{}", i));
  for (ad::Index j = 0; j < phi.cols(); ++j) header.push_back(fmt::format("phi_{}_{}", j / (phi.cols() / O), j % (phi.cols() / O)));
  write_table(out, result, header);
  fmt::print("wrote {} modes on {} points of {} ({}) to {}\n", phi.cols(), x.rows(), trained.config.architecture, checkpoint, out);
  return 0;
}

}  // namespace experiments
