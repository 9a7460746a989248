// First-order optimizers: the first steps against the update formulas evaluated by hand, the
// Keras/PyTorch Adam difference, AdaBelief rectification and gradient centralisation, frozen
// entries, checkpoint state and input validation.

#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "nn/optim.hpp"
#include "support/alloc_counter.hpp"

namespace {

using Buffer = ad::ParameterBuffer<double>;

/// |a − b| ≤ tol·max(|a|, |b|).
bool relative_close(double a, double b, double tol = 1e-12) { return std::abs(a - b) <= tol * std::max(std::abs(a), std::abs(b)); }

/// A 2x1 weight matrix and a 1x1 bias: scalars 0 and 1 are the matrix, 2 the bias.
Buffer tiny_buffer() {
  Buffer p;
  p.add("w", 2, 1);
  p.add("b", 1, 1, false);
  p.values() << 0.5, -0.3, 0.1;
  return p;
}

/// The gradient fed to scalar k at step t (1-based), varied in sign and magnitude.
double gradient(int t, int k) {
  static constexpr double g[4][3] = {{0.2, -1.5, 0.7}, {-0.4, -1.1, 0.05}, {0.9, 0.3, -0.6}, {0.1, 0.8, -0.2}};
  return g[(t - 1) % 4][k];
}

/// Runs `steps` steps with gradient(t, k)·scale and checks, after every step, each scalar against
/// `reference(t, k, theta)`, which advances the hand-computed scalar trajectory by one step.
template <class Reference>
void check_trajectory(nn::Optimizer<double>& opt, Buffer& p, int steps, Reference reference, double scale = 1.0) {
  double theta[3] = {p.values()[0], p.values()[1], p.values()[2]};
  for (int t = 1; t <= steps; ++t) {
    for (int k = 0; k < 3; ++k) p.grads()[k] = scale * gradient(t, k);
    opt.step();
    CHECK(opt.steps() == t);
    for (int k = 0; k < 3; ++k) {
      reference(t, k, theta[k]);
      CHECK_MESSAGE(relative_close(p.values()[k], theta[k]), "step ", t, " scalar ", k, ": ", p.values()[k], " vs ", theta[k]);
    }
  }
}

}  // namespace

TEST_CASE("sgd: momentum, nesterov and L2 weight decay follow the PyTorch formulas") {
  for (const bool nesterov : {false, true}) {
    CAPTURE(nesterov);
    Buffer p = tiny_buffer();
    nn::Sgd<double> opt(p, {.learning_rate = 0.1, .weight_decay = 0.01, .momentum = 0.9, .nesterov = nesterov});
    double v[3] = {0, 0, 0};
    check_trajectory(opt, p, 3, [&](int t, int k, double& theta) {
      const double g = gradient(t, k) + 0.01 * theta;
      v[k] = 0.9 * v[k] + g;
      theta -= 0.1 * (nesterov ? g + 0.9 * v[k] : v[k]);
    });
  }
  // Step 1 without momentum is plain gradient descent: θ − lr·g.
  Buffer p = tiny_buffer();
  nn::Sgd<double> plain(p, {.learning_rate = 0.1});
  p.grads() << 0.2, -1.5, 0.7;
  plain.step();
  CHECK(relative_close(p.values()[1], -0.3 + 0.15));
}

TEST_CASE("adam: both flavours follow their formulas over three steps") {
  // At gradient scale 1e-8, ε and its placement dominate the step.
  for (const auto& [flavour, scale] : {std::pair{nn::AdamFlavour::keras, 1.0}, {nn::AdamFlavour::pytorch, 1.0},
                                      {nn::AdamFlavour::keras, 1e-8}, {nn::AdamFlavour::pytorch, 1e-8}}) {
    const bool keras = flavour == nn::AdamFlavour::keras;
    CAPTURE(keras);
    CAPTURE(scale);
    Buffer p = tiny_buffer();
    nn::Adam<double> opt(p, {.learning_rate = 0.01, .adam_flavour = flavour});
    double m[3] = {0, 0, 0}, v[3] = {0, 0, 0};
    check_trajectory(opt, p, 3, [&](int t, int k, double& theta) {
      const double g = scale * gradient(t, k), bc1 = 1 - std::pow(0.9, t), bc2 = 1 - std::pow(0.999, t);
      if (keras) {
        m[k] += 0.1 * (g - m[k]);
        v[k] += 0.001 * (g * g - v[k]);
        theta -= (0.01 * std::sqrt(bc2) / bc1) * m[k] / (std::sqrt(v[k]) + 1e-7);
      } else {
        m[k] = 0.9 * m[k] + 0.1 * g;
        v[k] = 0.999 * v[k] + 0.001 * g * g;
        theta -= 0.01 * (m[k] / bc1) / (std::sqrt(v[k] / bc2) + 1e-8);
      }
    }, scale);
  }
}

TEST_CASE("adam: Keras and PyTorch differ exactly by where epsilon is added") {
  const double g = 1e-9, lr = 0.01;
  const auto first_step = [&](nn::AdamFlavour flavour, std::optional<double> eps) {
    Buffer p;
    p.add("b", 1, 1, false);
    nn::Adam<double> opt(p, {.learning_rate = lr, .epsilon = eps, .adam_flavour = flavour});
    p.grads()[0] = g;
    opt.step();
    return -p.values()[0];
  };
  const double keras = first_step(nn::AdamFlavour::keras, std::nullopt);
  const double torch = first_step(nn::AdamFlavour::pytorch, std::nullopt);
  // Step 1: m = 0.1 g, v = 0.001 g². Keras: lr·√0.001·g/(√0.001·g + 1e-7); PyTorch: lr·g/(g + 1e-8).
  CHECK(relative_close(keras, lr * std::sqrt(0.001) * g / (std::sqrt(0.001) * g + 1e-7)));
  CHECK(relative_close(torch, lr * g / (g + 1e-8)));
  CHECK(torch > 100 * keras);
  // Keras's ε on the uncorrected √v equals PyTorch's ε/√(1−β2^t) on √v̂.
  CHECK(relative_close(first_step(nn::AdamFlavour::pytorch, 1e-7 / std::sqrt(0.001)), keras));
  // With ε = 0 both reduce to a step of exactly lr·sign(g).
  CHECK(relative_close(first_step(nn::AdamFlavour::keras, 0.0), first_step(nn::AdamFlavour::pytorch, 0.0)));
}

TEST_CASE("adabelief: momentum steps until rho_t reaches 5, then rectified steps with r_6 = 0.0258") {
  CHECK_FALSE(nn::AdaBelief<double>::rectification(0.999, 5).has_value());
  REQUIRE(nn::AdaBelief<double>::rectification(0.999, 6).has_value());
  // The seed's values of r_t (docs/seed-study.md §9.2).
  CHECK(std::abs(*nn::AdaBelief<double>::rectification(0.999, 6) - 0.0258) < 5e-5);
  CHECK(std::abs(*nn::AdaBelief<double>::rectification(0.999, 100) - 0.2153) < 5e-5);
  CHECK(std::abs(*nn::AdaBelief<double>::rectification(0.999, 4000) - 0.9619) < 5e-5);

  // At gradient scale 1e-6, the ε added to s dominates the denominator.
  for (const double scale : {1.0, 1e-6}) {
    CAPTURE(scale);
    const double lr = 0.01, rho_inf = 2 / (1 - 0.999) - 1;
    Buffer p = tiny_buffer();
    nn::AdaBelief<double> opt(p, {.learning_rate = lr});
    double m[3] = {0, 0, 0}, s[3] = {0, 0, 0};
    check_trajectory(opt, p, 7, [&](int t, int k, double& theta) {
      const double g = scale * gradient(t, k), bc1 = 1 - std::pow(0.9, t), bc2 = 1 - std::pow(0.999, t);
      m[k] = 0.9 * m[k] + 0.1 * g;
      s[k] = 0.999 * s[k] + 0.001 * (g - m[k]) * (g - m[k]) + 1e-14;
      const double rho_t = rho_inf - 2 * t * std::pow(0.999, t) / bc2;
      if (rho_t < 5) {
        CHECK(t <= 5);
        theta -= lr * m[k] / bc1;
      } else {
        CHECK(t >= 6);
        const double r = std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t));
        theta -= lr * r * (m[k] / bc1) / (std::sqrt(s[k] / bc2) + 1e-14);
      }
    }, scale);
  }
}

TEST_CASE("adabelief: the step-6 multiplier recovered from the update is r_6") {
  const double lr = 0.01;
  Buffer p = tiny_buffer();
  nn::AdaBelief<double> opt(p, {.learning_rate = lr});
  for (int t = 1; t <= 6; ++t) {
    const ad::Vector<double> before = p.values();
    for (int k = 0; k < 3; ++k) p.grads()[k] = gradient(t, k);
    opt.step();
    const auto state = opt.state();
    const ad::Vector<double>& m = state[0].second;
    const ad::Vector<double>& s = state[1].second;
    const double bc1 = 1 - std::pow(0.9, t), bc2 = 1 - std::pow(0.999, t);
    for (int k = 0; k < 3; ++k) {
      const double step = before[k] - p.values()[k], m_hat = m[k] / bc1;
      if (t < 6) {
        CHECK(relative_close(step, lr * m_hat));  // no adaptive denominator
      } else {
        const double multiplier = step * (std::sqrt(s[k] / bc2) + 1e-14) / (lr * m_hat);
        CHECK(relative_close(multiplier, *nn::AdaBelief<double>::rectification(0.999, 6), 1e-9));
        CHECK(std::abs(multiplier - 0.0258) < 5e-5);
      }
    }
  }
}

TEST_CASE("adabelief: decoupled weight decay scales theta by 1 - lr*wd before the update") {
  Buffer a = tiny_buffer(), b = tiny_buffer();
  nn::AdaBelief<double> plain(a, {.learning_rate = 0.01});
  nn::AdaBelief<double> decayed(b, {.learning_rate = 0.01, .weight_decay = 0.5});
  a.grads() << 0.2, -1.5, 0.7;
  b.grads() = a.grads();
  plain.step();
  decayed.step();
  const ad::Vector<double> initial = tiny_buffer().values();
  for (int k = 0; k < 3; ++k) CHECK(relative_close(b.values()[k], a.values()[k] - 0.01 * 0.5 * initial[k]));
}

namespace {

/// A fan-in-1 matrix, a bias and a fan-in-3 matrix, with fixed pseudo-random gradients.
struct CentralisationCase {
  Buffer p;
  ad::Index fan_in_1, bias, fan_in_3;
  CentralisationCase() {
    fan_in_1 = p.add("w1", 1, 2);
    bias = p.add("b1", 1, 2, false);
    fan_in_3 = p.add("w3", 3, 2);
    for (ad::Index i = 0; i < p.size(); ++i) p.values()[i] = 0.1 * static_cast<double>(i) - 0.4;
  }
  void fill_gradients(int t) {
    for (ad::Index i = 0; i < p.size(); ++i) p.grads()[i] = std::sin(1.7 * static_cast<double>(i + 1) + 0.9 * t);
  }
};

}  // namespace

TEST_CASE("gradient centralisation: fan-in-1 matrices freeze, biases move, columns get zero mean") {
  for (const char* name : {"adabelief", "sgd", "adam"}) {
    CAPTURE(name);
    CentralisationCase c;
    auto opt = nn::make_optimizer(name, c.p, {.learning_rate = 0.01, .centralize_gradients = true});
    const ad::Matrix<double> w1 = c.p.value(c.fan_in_1), b1 = c.p.value(c.bias);
    for (int t = 1; t <= 8; ++t) {
      c.fill_gradients(t);
      const ad::Matrix<double> raw = c.p.grad(c.fan_in_3);
      opt->step();
      const ad::Matrix<double> centred = c.p.grad(c.fan_in_3);
      for (ad::Index j = 0; j < 2; ++j) {
        CHECK(std::abs(centred.col(j).mean()) < 1e-15);
        for (ad::Index i = 0; i < 3; ++i) CHECK(std::abs(centred(i, j) - (raw(i, j) - raw.col(j).mean())) < 1e-15);
      }
      CHECK((c.p.grad(c.fan_in_1).array() == 0.0).all());
    }
    CHECK((c.p.value(c.fan_in_1).array() == w1.array()).all());
    CHECK((c.p.value(c.bias).array() != b1.array()).all());
  }
  // Without centralisation, or with fan-in-1 matrices exempted, the same matrix trains.
  for (const bool exempt : {false, true}) {
    CAPTURE(exempt);
    CentralisationCase c;
    nn::AdaBelief<double> opt(c.p, {.learning_rate = 0.01, .centralize_gradients = exempt, .centralize_fan_in_one = false});
    const ad::Matrix<double> w1 = c.p.value(c.fan_in_1);
    c.fill_gradients(1);
    const ad::Matrix<double> raw = c.p.grad(c.fan_in_3);
    opt.step();
    CHECK((c.p.value(c.fan_in_1).array() != w1.array()).all());
    const double column_mean = c.p.grad(c.fan_in_3).col(0).mean();
    CHECK(exempt == (std::abs(column_mean) < 1e-15));
    CHECK(std::abs(raw.col(0).mean()) > 1e-3);
  }
}

TEST_CASE("frozen entries are neither updated nor centralised, and do not disturb their neighbours") {
  const auto make = [] {
    Buffer p;
    p.add("a", 2, 2);
    p.add("frozen", 3, 2);
    p.add("c", 1, 2, false);
    for (ad::Index i = 0; i < p.size(); ++i) p.values()[i] = 0.05 * static_cast<double>(i) - 0.2;
    return p;
  };
  for (const std::string name : {"sgd", "adam", "adabelief"}) {
    CAPTURE(name);
    Buffer all = make(), some = make();
    some.set_trainable(1, false);
    const nn::OptimizerOptions options{.learning_rate = 0.05, .momentum = 0.9};
    auto opt_all = nn::make_optimizer(name, all, options);
    auto opt_some = nn::make_optimizer(name, some, options);
    const ad::Matrix<double> frozen = some.value(1);
    for (int t = 1; t <= 7; ++t) {
      for (ad::Index i = 0; i < all.size(); ++i) all.grads()[i] = some.grads()[i] = std::cos(0.7 * static_cast<double>(i) * t);
      opt_all->step();
      opt_some->step();
    }
    CHECK((some.value(1).array() == frozen.array()).all());
    // Equal up to rounding: a scalar may fall in the vectorised body (fused multiply-adds) in one
    // layout and in the scalar tail in the other.
    for (const ad::Index i : {0, 2})
      for (ad::Index k = 0; k < some.entry(i).size(); ++k)
        CHECK(relative_close(some.value(i).reshaped()(k), all.value(i).reshaped()(k), 1e-14));
    CHECK((all.value(1).array() != frozen.array()).all());
  }
  Buffer p = make();
  p.set_trainable(1, false);
  nn::Sgd<double> opt(p, {.centralize_gradients = true});
  p.grads().setConstant(1.0);
  opt.step();
  CHECK((p.grad(1).array() == 1.0).all());
  CHECK((p.grad(0).array() == 0.0).all());
}

namespace {

/// Gradients that depend on the parameters, so a trajectory is sensitive to every bit of state.
void fill_gradients(Buffer& p, int t) {
  for (ad::Index i = 0; i < p.size(); ++i)
    p.grads()[i] = p.values()[i] * static_cast<double>(i + 1) - 0.3 + 0.1 * std::sin(static_cast<double>(t));
}

}  // namespace

TEST_CASE("state round trip: save after N steps, load into a new optimizer, continue bit-identically") {
  const std::pair<const char*, nn::OptimizerOptions> cases[] = {
      {"sgd", {.learning_rate = 0.02, .momentum = 0.9, .nesterov = true}},
      {"adam", {.learning_rate = 0.02, .adam_flavour = nn::AdamFlavour::keras}},
      {"adam", {.learning_rate = 0.02, .adam_flavour = nn::AdamFlavour::pytorch}},
      {"adabelief", {.learning_rate = 0.02, .weight_decay = 0.1, .centralize_gradients = true}},
  };
  for (const auto& [name, options] : cases) {
    CAPTURE(name);
    Buffer straight = tiny_buffer(), first = tiny_buffer(), resumed = tiny_buffer();
    auto opt_straight = nn::make_optimizer(name, straight, options);
    auto opt_first = nn::make_optimizer(name, first, options);
    constexpr int N = 4, M = 5;
    for (int t = 1; t <= N + M; ++t) {
      fill_gradients(straight, t);
      opt_straight->step();
    }
    for (int t = 1; t <= N; ++t) {
      fill_gradients(first, t);
      opt_first->step();
    }
    resumed.values() = first.values();
    auto opt_resumed = nn::make_optimizer(name, resumed, options);
    opt_resumed->load_state(opt_first->state(), opt_first->steps());
    CHECK(opt_resumed->steps() == N);
    for (int t = N + 1; t <= N + M; ++t) {
      fill_gradients(resumed, t);
      opt_resumed->step();
    }
    CHECK((resumed.values().array() == straight.values().array()).all());
    // Without the state the continuation differs.
    Buffer fresh = tiny_buffer();
    fresh.values() = first.values();
    auto opt_fresh = nn::make_optimizer(name, fresh, options);
    for (int t = N + 1; t <= N + M; ++t) {
      fill_gradients(fresh, t);
      opt_fresh->step();
    }
    CHECK_FALSE((fresh.values().array() == straight.values().array()).all());
  }
}

TEST_CASE("state names per optimizer, and load_state rejects mismatches") {
  Buffer p = tiny_buffer();
  CHECK(nn::make_optimizer("sgd", p)->state().front().first == "momentum");
  auto opt = nn::make_optimizer("adabelief", p);
  const auto state = opt->state();
  REQUIRE(state.size() == 2);
  CHECK(state[0].first == "m");
  CHECK(state[1].first == "s");
  CHECK(nn::make_optimizer("adam", p)->state()[1].first == "v");

  const auto rejects = [&](nn::NamedVectors<double> bad, std::int64_t steps, const std::string& fragment) {
    CAPTURE(fragment);
    try {
      opt->load_state(bad, steps);
      FAIL("no exception");
    } catch (const std::invalid_argument& e) {
      const std::string message = e.what();
      CHECK(message.find(fragment) != std::string::npos);
      CHECK(message.find('\n') == std::string::npos);
    }
  };
  auto wrong_size = state;
  wrong_size[1].second = ad::Vector<double>::Zero(4);
  rejects(wrong_size, 3, "has size 4, expected 3");
  rejects({state[0], {"v", state[1].second}}, 3, "unknown state vector 'v'");
  rejects({state[0]}, 3, "expected 2 state vectors, got 1");
  rejects({state[0], state[0]}, 3, "given twice");
  rejects(state, -1, "negative step count");
  // Order does not matter; a failed load leaves the optimizer as it was.
  CHECK(opt->steps() == 0);
  opt->load_state({state[1], state[0]}, 3);
  CHECK(opt->steps() == 3);
}

TEST_CASE("make_optimizer and options validation") {
  Buffer p = tiny_buffer();
  CHECK(nn::make_optimizer("sgd", p)->name() == "sgd");
  CHECK(nn::make_optimizer("adam", p)->name() == "adam");
  CHECK(nn::make_optimizer("adabelief", p)->name() == "adabelief");
  try {
    nn::make_optimizer("adamw", p);
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("'adamw'; accepted: sgd, adam, adabelief") != std::string::npos);
  }
  CHECK_THROWS_AS(nn::make_optimizer("sgd", p, {.nesterov = true}), std::invalid_argument);
  CHECK_THROWS_AS(nn::make_optimizer("adam", p, {.weight_decay = 0.1}), std::invalid_argument);
  CHECK_THROWS_AS(nn::make_optimizer("adabelief", p, {.beta2 = 1.0}), std::invalid_argument);
  CHECK_THROWS_AS(nn::make_optimizer("adam", p, {.epsilon = -1.0}), std::invalid_argument);
  CHECK_THROWS_AS(nn::make_optimizer("sgd", p, {.learning_rate = -0.1}), std::invalid_argument);
  auto opt = nn::make_optimizer("sgd", p);
  CHECK_THROWS_AS(opt->set_learning_rate(std::nan("")), std::invalid_argument);
  p.add("late", 1, 1);
  CHECK_THROWS_AS(opt->step(), std::logic_error);
}

TEST_CASE("set_learning_rate applies from the next step") {
  Buffer p = tiny_buffer();
  nn::Sgd<double> opt(p, {.learning_rate = 0.1});
  p.grads() << 1.0, 1.0, 1.0;
  opt.step();
  opt.set_learning_rate(0.25);
  CHECK(opt.learning_rate() == 0.25);
  opt.step();
  CHECK(relative_close(p.values()[2], 0.1 - 0.1 - 0.25));
}

TEST_CASE("float optimizers track the double ones") {
  for (const char* name : {"sgd", "adam", "adabelief"}) {
    CAPTURE(name);
    Buffer d = tiny_buffer();
    ad::ParameterBuffer<float> f;
    f.add("w", 2, 1);
    f.add("b", 1, 1, false);
    f.values() = d.values().cast<float>();
    const nn::OptimizerOptions options{.learning_rate = 0.01, .momentum = 0.5};
    auto opt_d = nn::make_optimizer(name, d, options);
    auto opt_f = nn::make_optimizer(name, f, options);
    for (int t = 1; t <= 8; ++t) {
      for (int k = 0; k < 3; ++k) {
        d.grads()[k] = gradient(t, k);
        f.grads()[k] = static_cast<float>(gradient(t, k));
      }
      opt_d->step();
      opt_f->step();
    }
    for (int k = 0; k < 3; ++k) CHECK(relative_close(f.values()[k], d.values()[k], 1e-5));
  }
}

TEST_CASE("a step and a new learning rate allocate nothing") {
  if (!testing::kAllocationCounting) return;
  CentralisationCase c;
  for (const char* name : {"sgd", "adam", "adabelief"}) {
    CAPTURE(name);
    auto opt = nn::make_optimizer(name, c.p, {.centralize_gradients = true});
    c.fill_gradients(1);
    const std::size_t before = testing::allocation_count();
    for (int t = 1; t <= 10; ++t) {
      opt->set_learning_rate(1e-3 / t);
      opt->step();
    }
    CHECK(testing::allocation_count() == before);
  }
}

TEST_CASE("a step done in parts over disjoint ranges equals a whole step, frozen entries included; a cancelled one is none") {
  for (const std::string name : {"sgd", "adam", "adabelief"}) {
    CAPTURE(name);
    auto make = [] {
      Buffer p;
      p.add("a", 3, 4);
      p.add("frozen", 1, 5, false);
      p.add("b", 2, 3);
      for (ad::Index i = 0; i < p.size(); ++i) p.values()[i] = 0.1 * double(i % 7) - 0.3;
      p.set_trainable(1, false);
      return p;
    };
    Buffer whole = make(), parts = make();
    nn::OptimizerOptions o{.momentum = 0.9};
    auto a = nn::make_optimizer<double>(name, whole, o), b = nn::make_optimizer<double>(name, parts, o);
    for (int t = 1; t <= 7; ++t) {
      for (ad::Index i = 0; i < whole.size(); ++i) whole.grads()[i] = parts.grads()[i] = gradient(t, int(i % 3)) * double(i + 1);
      a->step();
      // An abandoned step, taken back, leaves no trace.
      b->begin_step();
      b->cancel_step();
      b->begin_step();
      // Cuts inside the first entry, inside the frozen one, and at an entry boundary.
      for (auto [lo, hi] : {std::pair<ad::Index, ad::Index>{0, 5}, {5, 14}, {14, 17}, {17, parts.size()}}) b->update_part(lo, hi);
    }
    CHECK(parts.values() == whole.values());
    CHECK(b->steps() == a->steps());
  }
  Buffer p;
  p.add("a", 1, 2);
  CHECK_THROWS_AS(nn::make_optimizer<double>("adam", p, {})->cancel_step(), std::logic_error);
}
