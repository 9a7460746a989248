#include "nn/optim.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace nn {

namespace {

template <class T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

template <class T>
ArrayMap<T> segment(ad::Vector<T>& v, ad::Index begin, ad::Index size) {
  return ArrayMap<T>(v.data() + begin, size);
}

bool is_rate(double x) { return std::isfinite(x) && x >= 0.0; }

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

void check_betas(std::string_view who, const OptimizerOptions& o) {
  const auto in_range = [](double b) { return b >= 0.0 && b < 1.0; };
  require(in_range(o.beta1) && in_range(o.beta2), std::string(who) + ": beta1 and beta2 must lie in [0, 1)");
}

double epsilon_or(std::string_view who, const OptimizerOptions& o, double fallback) {
  const double eps = o.epsilon.value_or(fallback);
  require(is_rate(eps), std::string(who) + ": epsilon must be finite and >= 0");
  return eps;
}

}  // namespace

template <class T>
Optimizer<T>::Optimizer(ad::ParameterBuffer<T>& buffer, const OptimizerOptions& options,
                        const std::vector<std::string>& state_names)
    : buffer_(buffer), options_(options) {
  set_learning_rate(options.learning_rate);
  require(is_rate(options.weight_decay), "nn::Optimizer: weight_decay must be finite and >= 0");
  for (const auto& name : state_names) state_.emplace_back(name, ad::Vector<T>::Zero(buffer.size()));
  ad::Index widest = 0;
  for (const auto& e : buffer.entries())
    if (e.is_matrix) widest = std::max(widest, e.cols);
  column_means_.resize(widest);
}

template <class T>
void Optimizer<T>::set_learning_rate(double lr) {
  // Called every epoch: the message is built only when it is needed (no allocation otherwise).
  if (!is_rate(lr)) throw std::invalid_argument("nn::Optimizer: learning rate must be finite and >= 0, got " + std::to_string(lr));
  options_.learning_rate = lr;
}

template <class T>
void Optimizer<T>::step() {
  begin_step();
  update(0, buffer_.size());
}

template <class T>
void Optimizer<T>::begin_step() {
  if (buffer_.size() != state_.front().second.size())
    throw std::logic_error("nn::Optimizer::step: the parameter buffer changed size after the optimizer was created");
  ++steps_;
  if (options_.centralize_gradients) centralize_gradients();
}

template <class T>
void Optimizer<T>::cancel_step() {
  if (steps_ == 0) throw std::logic_error("nn::Optimizer::cancel_step: no step to take back");
  --steps_;
}

template <class T>
void Optimizer<T>::centralize_gradients() {
  for (const auto& e : buffer_.entries()) {
    if (!e.is_matrix || !e.trainable || e.size() == 0 || (e.rows == 1 && !options_.centralize_fan_in_one)) continue;
    ad::MatrixMap<T> g(buffer_.grads().data() + e.offset, e.rows, e.cols);
    auto means = column_means_.head(e.cols);
    means.noalias() = g.colwise().sum() / static_cast<T>(e.rows);
    g.rowwise() -= means;
  }
}

template <class T>
void Optimizer<T>::load_state(const NamedVectors<T>& state, std::int64_t steps) {
  const std::string who = "nn::Optimizer::load_state (" + std::string(name()) + "): ";
  require(steps >= 0, who + "negative step count " + std::to_string(steps));
  for (const auto& [name, vector] : state) {
    const auto own = std::find_if(state_.begin(), state_.end(), [&](const auto& s) { return s.first == name; });
    require(own != state_.end(), who + "unknown state vector '" + name + "'");
    require(std::count_if(state.begin(), state.end(), [&](const auto& s) { return s.first == name; }) == 1,
            who + "state vector '" + name + "' given twice");
    require(vector.size() == buffer_.size(), who + "state vector '" + name + "' has size " +
                                                 std::to_string(vector.size()) + ", expected " +
                                                 std::to_string(buffer_.size()));
  }
  require(state.size() == state_.size(), who + "expected " + std::to_string(state_.size()) + " state vectors, got " +
                                             std::to_string(state.size()));
  for (const auto& [name, vector] : state)
    std::find_if(state_.begin(), state_.end(), [&](const auto& s) { return s.first == name; })->second = vector;
  steps_ = steps;
}

template <class T>
Sgd<T>::Sgd(ad::ParameterBuffer<T>& buffer, const OptimizerOptions& options)
    : Optimizer<T>(buffer, options, {"momentum"}) {
  require(is_rate(options.momentum), "nn::Sgd: momentum must be finite and >= 0");
  require(!options.nesterov || options.momentum > 0.0, "nn::Sgd: nesterov needs momentum > 0");
}

template <class T>
void Sgd<T>::update(ad::Index lo, ad::Index hi) {
  const auto& o = this->options();
  const T lr = static_cast<T>(o.learning_rate), mu = static_cast<T>(o.momentum), wd = static_cast<T>(o.weight_decay);
  auto& values = this->buffer().values();
  auto& grads = this->buffer().grads();
  auto& velocity = this->state_vector(0);
  this->for_each_trainable_range(lo, hi, [&](ad::Index begin, ad::Index size) {
    auto theta = segment(values, begin, size);
    auto v = segment(velocity, begin, size);
    const auto g = segment(grads, begin, size) + wd * theta;
    v = mu * v + g;
    if (o.nesterov)
      theta -= lr * (g + mu * v);
    else
      theta -= lr * v;
  });
}

template <class T>
Adam<T>::Adam(ad::ParameterBuffer<T>& buffer, const OptimizerOptions& options)
    : Optimizer<T>(buffer, options, {"m", "v"}),
      epsilon_(epsilon_or("nn::Adam", options, options.adam_flavour == AdamFlavour::keras ? 1e-7 : 1e-8)) {
  check_betas("nn::Adam", options);
  require(options.weight_decay == 0.0, "nn::Adam: weight_decay is not supported (use adabelief or sgd)");
}

template <class T>
void Adam<T>::update(ad::Index lo, ad::Index hi) {
  const auto& o = this->options();
  const auto t = static_cast<double>(this->steps());
  const double bc1 = 1.0 - std::pow(o.beta1, t), bc2 = 1.0 - std::pow(o.beta2, t);
  // Both flavours are θ ← θ − step·m/(√v/root + ε); they differ in where √(1−β2^t) goes.
  const bool keras = o.adam_flavour == AdamFlavour::keras;
  const T step = static_cast<T>(keras ? o.learning_rate * std::sqrt(bc2) / bc1 : o.learning_rate / bc1);
  const T root = static_cast<T>(keras ? 1.0 : std::sqrt(bc2));
  const T a1 = static_cast<T>(1.0 - o.beta1), a2 = static_cast<T>(1.0 - o.beta2), eps = static_cast<T>(epsilon_);
  auto& values = this->buffer().values();
  auto& grads = this->buffer().grads();
  auto& first = this->state_vector(0);
  auto& second = this->state_vector(1);
  this->for_each_trainable_range(lo, hi, [&](ad::Index begin, ad::Index size) {
    const auto g = segment(grads, begin, size);
    auto m = segment(first, begin, size);
    auto v = segment(second, begin, size);
    m += a1 * (g - m);
    v += a2 * (g.square() - v);
    segment(values, begin, size) -= step * m / (v.sqrt() / root + eps);
  });
}

template <class T>
AdaBelief<T>::AdaBelief(ad::ParameterBuffer<T>& buffer, const OptimizerOptions& options)
    : Optimizer<T>(buffer, options, {"m", "s"}), epsilon_(epsilon_or("nn::AdaBelief", options, 1e-14)) {
  check_betas("nn::AdaBelief", options);
}

template <class T>
std::optional<double> AdaBelief<T>::rectification(double beta2, std::int64_t t) {
  const double rho_inf = 2.0 / (1.0 - beta2) - 1.0;
  const double beta2_t = std::pow(beta2, static_cast<double>(t));
  const double rho_t = rho_inf - 2.0 * static_cast<double>(t) * beta2_t / (1.0 - beta2_t);
  if (!(rho_t >= 5.0)) return std::nullopt;
  return std::sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t));
}

template <class T>
void AdaBelief<T>::update(ad::Index lo, ad::Index hi) {
  const auto& o = this->options();
  const auto t = this->steps();
  const double bc1 = 1.0 - std::pow(o.beta1, static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(o.beta2, static_cast<double>(t));
  const std::optional<double> r = rectification(o.beta2, t);
  const T decay = static_cast<T>(1.0 - o.learning_rate * o.weight_decay);
  const T b1 = static_cast<T>(o.beta1), a1 = static_cast<T>(1.0 - o.beta1);
  const T b2 = static_cast<T>(o.beta2), a2 = static_cast<T>(1.0 - o.beta2), eps = static_cast<T>(epsilon_);
  // lr·r_t·m̂ = step·m with step = lr·r_t/(1−β1^t); the momentum fallback drops r_t and the denominator.
  const T step = static_cast<T>(o.learning_rate * r.value_or(1.0) / bc1);
  const T inv_bc2 = static_cast<T>(1.0 / bc2);
  auto& values = this->buffer().values();
  auto& grads = this->buffer().grads();
  auto& first = this->state_vector(0);
  auto& belief = this->state_vector(1);
  this->for_each_trainable_range(lo, hi, [&](ad::Index begin, ad::Index size) {
    const auto g = segment(grads, begin, size);
    auto m = segment(first, begin, size);
    auto s = segment(belief, begin, size);
    auto theta = segment(values, begin, size);
    m = b1 * m + a1 * g;
    s = b2 * s + a2 * (g - m).square() + eps;
    if (r)
      theta = theta * decay - step * m / ((s * inv_bc2).sqrt() + eps);
    else
      theta = theta * decay - step * m;
  });
}

template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(std::string_view name, ad::ParameterBuffer<T>& buffer,
                                             const OptimizerOptions& options) {
  if (name == "sgd") return std::make_unique<Sgd<T>>(buffer, options);
  if (name == "adam") return std::make_unique<Adam<T>>(buffer, options);
  if (name == "adabelief") return std::make_unique<AdaBelief<T>>(buffer, options);
  throw std::invalid_argument("nn::make_optimizer: unknown optimizer '" + std::string(name) +
                              "'; accepted: sgd, adam, adabelief");
}

template class Optimizer<float>;
template class Optimizer<double>;
template class Sgd<float>;
template class Sgd<double>;
template class Adam<float>;
template class Adam<double>;
template class AdaBelief<float>;
template class AdaBelief<double>;
template std::unique_ptr<Optimizer<float>> make_optimizer(std::string_view, ad::ParameterBuffer<float>&,
                                                          const OptimizerOptions&);
template std::unique_ptr<Optimizer<double>> make_optimizer(std::string_view, ad::ParameterBuffer<double>&,
                                                           const OptimizerOptions&);

}  // namespace nn
