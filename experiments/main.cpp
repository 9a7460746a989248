// The `nif` program. Until the NIF study lands, its one job is a demo of the engine.
#include "experiments/demo.hpp"

int main(int argc, char** argv) { return experiments::run_demo(argc, argv); }
