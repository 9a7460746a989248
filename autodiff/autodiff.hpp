#pragma once
// The whole engine: the tape and every op family.

#include "autodiff/parameters.hpp"
#include "autodiff/tape.hpp"
#include "autodiff/jet.hpp"
#include "autodiff/ops/activation.hpp"
#include "autodiff/ops/elementwise.hpp"
#include "autodiff/ops/hyper.hpp"
#include "autodiff/ops/linalg.hpp"
#include "autodiff/ops/loss.hpp"
#include "autodiff/ops/reduce.hpp"
#include "autodiff/ops/shape.hpp"
