#include "autodiff/tape.hpp"

#include <fmt/format.h>

namespace ad {

void shape_error(const char* op, Index ar, Index ac, Index br, Index bc) {
  throw std::invalid_argument(fmt::format("ad::{}: incompatible shapes {}x{} and {}x{}", op, ar, ac, br, bc));
}

void tape_error(const char* op) {
  throw std::invalid_argument(fmt::format("ad::{}: operands live on different tapes", op));
}

}  // namespace ad
