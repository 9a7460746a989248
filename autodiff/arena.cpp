#include "autodiff/arena.hpp"

#include <algorithm>
#include <new>

namespace ad {

namespace {
constexpr std::size_t round_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }
}  // namespace

Arena::Arena(std::size_t first_block_bytes) : next_block_bytes_(round_up(std::max<std::size_t>(first_block_bytes, alignment), alignment)) {}

Arena::~Arena() {
  for (const Block& b : blocks_) ::operator delete(b.data, std::align_val_t{alignment});
}

void* Arena::allocate(std::size_t bytes) {
  bytes = round_up(std::max<std::size_t>(bytes, 1), alignment);
  // Walk forward through the kept blocks first; a replayed step finds room in the same places.
  while (current_ < blocks_.size()) {
    Block& b = blocks_[current_];
    if (offset_ + bytes <= b.size) {
      void* p = b.data + offset_;
      offset_ += bytes;
      return p;
    }
    ++current_;
    offset_ = 0;
  }
  const std::size_t size = std::max(next_block_bytes_, bytes);
  next_block_bytes_ = 2 * size;
  auto* data = static_cast<std::byte*>(::operator new(size, std::align_val_t{alignment}));
  blocks_.push_back({data, size});
  reserved_ += size;
  current_ = blocks_.size() - 1;
  offset_ = bytes;
  return data;
}

void Arena::rewind() {
  current_ = 0;
  offset_ = 0;
}

std::size_t Arena::bytes_in_use() const {
  std::size_t used = offset_;
  for (std::size_t i = 0; i < current_ && i < blocks_.size(); ++i) used += blocks_[i].size;
  return used;
}

}  // namespace ad
