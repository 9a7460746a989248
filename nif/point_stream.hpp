#pragma once
// Training points larger than memory: a PointFile visited part by part in an order drawn for each
// epoch and normalised as it is read, and the normalisation statistics of the whole file.

#include <span>
#include <vector>

#include "nif/data.hpp"
#include "nn/random.hpp"

namespace nif {

/// Normalizer::fit of every point of `file`, read in one pass of parts of `part_rows` rows into
/// `scratch`. The sums are kept in double (the variance by Chan's update of per-part means and
/// squared deviations): the seed's float32 running sums, which fit reproduces bit for bit for the
/// seed's 2000 points, stop growing after 2^24 rows of similar values. So the statistics equal
/// fit's to float rounding, not bit for bit. Errors as fit's, and nn::FileError from reading.
Normalizer fit_streaming(PointFile& file, Normalization kind, Index part_rows, PointDataset& scratch);

/// The order an epoch reads a PointFile in when only `part_rows` of its rows fit in memory.
///
/// The file's rows are cut into blocks of block_rows() consecutive rows (a 64th of a part, so a
/// part mixes at least 64 blocks from all over the file, and a block of a snapshot-ordered file
/// holds points of few snapshots, which keeps grouping by ParameterNet input effective). An epoch
/// draws an order of the blocks from the RNG (Fisher–Yates); its parts are the consecutive runs
/// of part_rows rows of that order (a block may continue in the next part). The trainer shuffles
/// the rows inside each part and cuts it into batches, so with part_rows a multiple of the batch
/// size only the epoch's last batch is partial, and every row is visited once per epoch. The order
/// depends only on the RNG state and part_rows: a resumed run reads the same parts.
class PointStream {
 public:
  /// Reads `file` normalised by `normalizer`; std::invalid_argument when part_rows < 1.
  PointStream(PointFile file, Normalizer normalizer, Index part_rows);

  Index rows() const { return file_.rows(); }
  Index part_rows() const { return part_rows_; }
  Index block_rows() const { return block_rows_; }
  const PointFile& file() const { return file_; }
  const Normalizer& normalizer() const { return normalizer_; }

  /// Starts an epoch's pass: the blocks in an order drawn from `rng`.
  void shuffle(nn::Rng& rng);
  /// Starts a pass in the file's order (evaluation).
  void rewind();
  /// The pass's next part, normalised, into `part` (storage reused); `raw`, when given, gets the
  /// same points in the file's units. False when the pass is over.
  bool next(PointDataset& part, PointDataset* raw = nullptr);

 private:
  PointFile file_;
  Normalizer normalizer_;
  Index part_rows_, block_rows_;
  std::vector<Index> blocks_;  ///< the pass's order of blocks
  std::size_t block_ = 0;      ///< the pass's position: block blocks_[block_], row offset_ in it
  Index offset_ = 0;
  Index left_ = 0;             ///< rows of the pass not yet read
  PointDataset piece_;         ///< the rows of one block being read
};

}  // namespace nif
