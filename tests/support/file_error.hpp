#pragma once
// Expecting an nn::FileError in a test.

#include <doctest/doctest.h>

#include <string>

#include "nn/files.hpp"

namespace testing {

/// The message of the nn::FileError thrown by `action` (the test fails if none is thrown;
/// any other exception escapes and fails it too).
template <class F>
std::string file_error_message(F&& action) {
  try {
    action();
  } catch (const nn::FileError& e) {
    return e.what();
  }
  FAIL("expected nn::FileError");
  return {};
}

}  // namespace testing
