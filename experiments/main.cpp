// The `nif` program: see `nif --help`.
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "experiments/cli.hpp"
#include "nn/process_group.hpp"

int main(int argc, char** argv) {
  // Under mpirun every rank runs the same command, with MPI up for the whole program.
  std::optional<nn::MpiSession> mpi;
  try {
    mpi.emplace();
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "nif: error: %s\n", e.what());
    return 1;
  }
  return experiments::run_cli(argc, argv);
}
