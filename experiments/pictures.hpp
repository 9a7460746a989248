#pragma once
// The pictures of a finished run: its loss curve and its fields, true against predicted.

#include "experiments/run.hpp"
#include "nif/trainer.hpp"

namespace experiments {

/// Writes into `out`:
///  * loss.svg: the training loss per epoch, log scale;
///  * fields.png, in physical units: true / predicted / error over (t, x) when the data is a
///    1-D grid (one parameter, one coordinate, one field, t-major: every parameter value holds
///    the same increasing x), or, for 2-D coordinates, on the scattered points at the first,
///    middle and last distinct ParameterNet input, one row per output field and snapshot.
///    Other data gets no fields.png.
/// Titles name the seed case, or for a user's file the file's name.
void write_pictures(const fs::path& out, nif::Trainer& trainer, const PreparedData& data, const DataSpec& spec);

}  // namespace experiments
