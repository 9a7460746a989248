// The `nif` program: see `nif --help`.
#include "experiments/cli.hpp"

int main(int argc, char** argv) { return experiments::run_cli(argc, argv); }
