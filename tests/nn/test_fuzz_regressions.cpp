// Checkpoints the fuzz target fuzz/fuzz_checkpoint.cpp found mishandled (saved in
// tests/data/fuzz/checkpoint/): metadata.json values of the wrong JSON type escaped as nlohmann
// exceptions or were converted with undefined behaviour. Each must be refused with nn::FileError.

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "nn/checkpoint.hpp"
#include "support/file_error.hpp"

namespace {

std::filesystem::path saved_input(const std::string& name) {
  return std::filesystem::path(NIF_TEST_DATA_DIR) / "fuzz" / "checkpoint" / name;
}

}  // namespace

TEST_CASE("a checkpoint format that is not the integer 1 is refused with FileError, whatever its JSON type") {
  for (const char* file : {"format_is_a_string.npz", "format_out_of_int_range.npz"}) {
    CAPTURE(file);
    const std::string message = testing::file_error_message([&] { nn::read_checkpoint_metadata(saved_input(file)); });
    CHECK(message == saved_input(file).string() + ": unsupported checkpoint format (expected 1)");
  }
}

TEST_CASE("a malformed optimizer record is refused with FileError and leaves model and optimizer untouched") {
  struct Case {
    const char* file;
    const char* problem;
  };
  for (const Case& c : {Case{"optimizer_record_not_an_object.npz", "optimizer 'none' in the checkpoint, 'adam' requested"},
                        Case{"optimizer_steps_out_of_range.npz", "the optimizer step count in metadata.json is not an integer"}}) {
    CAPTURE(c.file);
    ad::ParameterBuffer<float> params;
    params.add("dense.kernel", 2, 3);
    params.add("dense.bias", 1, 3, /*is_matrix=*/false);
    params.values().setConstant(0.5f);
    const auto adam = nn::make_optimizer<float>("adam", params);
    const std::string message =
        testing::file_error_message([&] { nn::load_checkpoint(saved_input(c.file), params, adam.get()); });
    CHECK(message == saved_input(c.file).string() + ": " + c.problem);
    CHECK((params.values().array() == 0.5f).all());
    CHECK(adam->steps() == 0);
  }
}
