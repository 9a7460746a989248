#pragma once

namespace experiments {

/// Fits sin(x) on [−π, π] with a small MLP on the engine and prints the loss falling.
int run_demo(int argc, char** argv);

}  // namespace experiments
