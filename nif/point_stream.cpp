#include "nif/point_stream.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace nif {

namespace {

/// One column block's statistics accumulated over parts, in double.
class ColumnAccumulator {
 public:
  void add(const ad::Matrix<float>& m) {
    if (mean_.empty()) {
      const auto cols = static_cast<std::size_t>(m.cols());
      mean_.assign(cols, 0.0);
      squares_.assign(cols, 0.0);
      s_.min.assign(cols, INFINITY);
      s_.max.assign(cols, -INFINITY);
      s_.peak.assign(cols, 0.0f);
    }
    const auto n = static_cast<double>(m.rows());
    for (Index c = 0; c < m.cols(); ++c) {
      const auto k = static_cast<std::size_t>(c);
      const Eigen::ArrayXd v = m.col(c).cast<double>().array();
      const double mean = v.mean();
      const double squares = (v - mean).square().sum();
      // Chan et al.: merging the part's mean and squared deviations into the running ones.
      const double delta = mean - mean_[k], total = count_ + n;
      mean_[k] += delta * n / total;
      squares_[k] += squares + delta * delta * count_ * n / total;
      s_.min[k] = std::min(s_.min[k], m.col(c).minCoeff());
      s_.max[k] = std::max(s_.max[k], m.col(c).maxCoeff());
      s_.peak[k] = std::max(s_.peak[k], m.col(c).cwiseAbs().maxCoeff());
    }
    count_ += n;
  }

  ColumnStatistics statistics() const {
    ColumnStatistics s = s_;
    for (std::size_t k = 0; k < mean_.size(); ++k) {
      s.mean.push_back(static_cast<float>(mean_[k]));
      s.deviation.push_back(static_cast<float>(std::sqrt(squares_[k] / count_)));
    }
    return s;
  }

 private:
  double count_ = 0;
  std::vector<double> mean_, squares_;
  ColumnStatistics s_;
};

/// Rows [from, from + count) of `src` into the same rows of `dst`, when `src` has columns.
void copy_rows(const ad::Matrix<float>& src, Index from, ad::Matrix<float>& dst, Index count) {
  if (src.cols() > 0) dst.middleRows(from, count) = src.topRows(count);
}

void resize_like(PointDataset& data, Index rows, const Columns& columns) {
  data.params.resize(rows, Index(columns.params.size()));
  data.coords.resize(rows, Index(columns.coords.size()));
  data.targets.resize(rows, Index(columns.targets.size()));
  data.weights.resize(columns.weight >= 0 ? rows : 0, columns.weight >= 0 ? 1 : 0);
}

}  // namespace

Normalizer fit_streaming(PointFile& file, Normalization kind, Index part_rows, PointDataset& scratch) {
  if (part_rows < 1) throw std::invalid_argument("nif::fit_streaming: parts need at least one row");
  ColumnAccumulator params, coords, targets;
  double weight_sum = 0;
  for (Index first = 0; first < file.rows(); first += part_rows) {
    file.read(first, std::min(part_rows, file.rows() - first), scratch);
    params.add(scratch.params);
    coords.add(scratch.coords);
    targets.add(scratch.targets);
    if (scratch.weighted()) weight_sum += scratch.weights.cast<double>().sum();
  }
  const bool weighted = file.columns().weight >= 0;
  const DatasetStatistics statistics{params.statistics(), coords.statistics(), targets.statistics(), weighted,
                                     weighted ? static_cast<float>(weight_sum / double(file.rows())) : 0.0f};
  return Normalizer::from_statistics(statistics, kind);
}

PointStream::PointStream(PointFile file, Normalizer normalizer, Index part_rows)
    : file_(std::move(file)), normalizer_(std::move(normalizer)), part_rows_(part_rows), block_rows_(std::max<Index>(part_rows / 64, 1)) {
  if (part_rows < 1) throw std::invalid_argument("nif::PointStream: parts need at least one row");
  blocks_.resize(static_cast<std::size_t>((rows() + block_rows_ - 1) / block_rows_));
  rewind();
}

void PointStream::rewind() {
  std::iota(blocks_.begin(), blocks_.end(), Index(0));
  block_ = 0;
  offset_ = 0;
  left_ = rows();
}

void PointStream::shuffle(nn::Rng& rng) {
  rewind();
  rng.shuffle(blocks_);
}

bool PointStream::next(PointDataset& part, PointDataset* raw) {
  if (left_ == 0) return false;
  const Index rows = std::min(part_rows_, left_);
  resize_like(part, rows, file_.columns());
  for (Index filled = 0; filled < rows;) {
    const Index start = blocks_[block_] * block_rows_;
    const Index in_block = std::min(block_rows_, this->rows() - start) - offset_;
    const Index take = std::min(in_block, rows - filled);
    file_.read(start + offset_, take, piece_);
    copy_rows(piece_.params, filled, part.params, take);
    copy_rows(piece_.coords, filled, part.coords, take);
    copy_rows(piece_.targets, filled, part.targets, take);
    copy_rows(piece_.weights, filled, part.weights, take);
    filled += take;
    offset_ += take;
    if (offset_ == std::min(block_rows_, this->rows() - start)) {
      ++block_;
      offset_ = 0;
    }
  }
  left_ -= rows;
  if (raw != nullptr) *raw = part;
  normalizer_.apply_in_place(part);
  return true;
}

}  // namespace nif
