#pragma once
// Bump allocator owned by a tape: every value and adjoint matrix of a step lives here.

#include <cstddef>
#include <vector>

namespace ad {

/// A list of 64-byte-aligned blocks served by pointer bumps. `rewind()` keeps every block:
/// a training step replays the same sequence of requests, so from the second step on every
/// request lands in memory that already exists and the step performs no heap allocation.
/// Only trivially destructible data may be placed here (nothing is ever destroyed).
class Arena {
 public:
  static constexpr std::size_t alignment = 64;

  explicit Arena(std::size_t first_block_bytes = std::size_t{1} << 16);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  /// `bytes` of uninitialised storage aligned to `alignment`, valid until `rewind()`.
  void* allocate(std::size_t bytes);

  template <class T>
  T* allocate_array(std::size_t count) {
    return static_cast<T*>(allocate(count * sizeof(T)));
  }

  /// Marks all storage free again; blocks are kept for reuse.
  void rewind();

  std::size_t bytes_reserved() const { return reserved_; }
  std::size_t bytes_in_use() const;
  std::size_t block_count() const { return blocks_.size(); }

 private:
  struct Block {
    std::byte* data;
    std::size_t size;
  };
  std::vector<Block> blocks_;
  std::size_t current_ = 0;  // index of the block being filled
  std::size_t offset_ = 0;   // bytes used in the current block
  std::size_t reserved_ = 0;
  std::size_t next_block_bytes_;
};

}  // namespace ad
