// Taking a run folder (experiments::RunFolder) whatever it holds: the input's first byte picks
// the mode and the file the rest is written to (the manifest, the lock file, a run's files or a
// user's file). Taking it may refuse only with nn::FileError; once taken, the lock file holds
// this process's PID and the manifest exists; a user's file is never deleted.

#include <unistd.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

#include "experiments/run_folder.hpp"
#include "fuzz/support.hpp"
#include "nn/files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  namespace fs = std::filesystem;
  constexpr std::array<const char*, 6> files{"nif-run.json", "nif-run.lock", "config.json", "checkpoint.npz",
                                             "checkpoint-7.npz", "notes.txt"};
  constexpr std::array<experiments::ExistingRun, 3> modes{experiments::ExistingRun::refuse, experiments::ExistingRun::resume,
                                                          experiments::ExistingRun::replace};
  const fs::path dir = fuzz::scratch_dir() / "run";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  const std::string file = files[data[0] % files.size()];
  const auto content = fuzz::bytes(data + 1, size - 1);
  nn::write_file_atomically(dir / file, content);
  if (data[0] & 0x80) nn::write_file_atomically(dir / "config.json", std::string_view("{}"));
  const experiments::ExistingRun mode = modes[(data[0] >> 3) % modes.size()];
  fuzz::refused_with<nn::FileError>([&] {
    const experiments::RunFolder folder(dir, mode);
    const auto pid = nn::read_file(dir / "nif-run.lock");
    fuzz::require(std::string(reinterpret_cast<const char*>(pid.data()), pid.size()) == std::to_string(::getpid()),
                  "the lock file records the holder's PID");
    fuzz::require(fs::exists(dir / "nif-run.json"), "a taken folder is marked as a run");
  });
  if (file == "notes.txt") fuzz::require(fs::exists(dir / file), "a user's file is never deleted");
  return 0;
}
