// Trains a registered architecture for a few epochs with nif::Trainer and predicts, as a user's
// own program would. Exits 0 only when the architecture registry is populated, training
// runs, and the prediction is finite and has the data's shape.
#include <cmath>
#include <cstdio>

#include "nif/data.hpp"
#include "nif/model.hpp"
#include "nif/trainer.hpp"

int main() {
  std::printf("architectures:");
  for (const auto& name : nif::architecture_names()) std::printf(" %s", name.c_str());
  std::printf("\n");
  nif::ExperimentConfig cfg = nif::architecture("upstream").defaults("low-frequency");
  cfg.train.epochs = 3;
  const nif::PointDataset raw =
      nif::from_table(nif::traveling_wave(nif::WaveCase::low_frequency), nif::traveling_wave_columns());
  const nif::Normalizer normalizer = nif::Normalizer::fit(raw, nif::Normalization::standard);
  const nif::PointDataset data = normalizer.apply(raw);
  nif::Trainer trainer(cfg, data);
  for (int epoch = 0; epoch < cfg.train.epochs; ++epoch) {
    const nif::EpochLog& log = trainer.train_epoch();
    std::printf("epoch %d  loss %.4e\n", log.epoch, log.loss);
    if (!std::isfinite(log.loss)) return 1;
  }
  const ad::Matrix<float> u = normalizer.denormalize_targets(trainer.predict(data.params, data.coords));
  if (u.rows() != raw.size() || u.cols() != 1 || !u.allFinite()) {
    std::printf("prediction: %ld x %ld, finite: %d\n", long(u.rows()), long(u.cols()), int(u.allFinite()));
    return 1;
  }
  std::printf("predicted %ld points, max |error| %.3e\n", long(u.rows()), double((u - raw.targets).cwiseAbs().maxCoeff()));
  return 0;
}
