// nifcpp._nifcpp: the Python binding of the library the `nif` program is made of. Training goes
// through the CLI's own argument parsing (parse_train_request) and run loop (run_training), so
// the module and `nif train` cannot disagree on options or results. python/nifcpp/__init__.py
// turns keywords into those arguments and wraps the results.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <optional>

#include "experiments/cli.hpp"
#include "experiments/run.hpp"
#include "experiments/saved_model.hpp"
#include "nn/files.hpp"

namespace py = pybind11;

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

/// A 1-D (one column) or 2-D array of points as a matrix, one point per row.
ad::Matrix<float> matrix_of(const FloatArray& a, const char* name) {
  if (a.ndim() != 1 && a.ndim() != 2)
    throw py::value_error(std::string(name) + ": expected a 1-D or 2-D array, got " + std::to_string(a.ndim()) + "-D");
  const ad::Index rows = a.shape(0), cols = a.ndim() == 2 ? a.shape(1) : 1;
  return Eigen::Map<const ad::Matrix<float>>(a.data(), rows, cols);
}

py::array_t<float> array_of(const ad::Matrix<float>& m) {
  py::array_t<float> a({m.rows(), m.cols()});
  Eigen::Map<ad::Matrix<float>>(a.mutable_data(), m.rows(), m.cols()) = m;
  return a;
}

/// N x K x O from K matrices N x O: element [n, k, o] is matrix k's (n, o).
py::array_t<float> stacked(const std::vector<ad::Matrix<float>>& ms, ad::Index rows, ad::Index outputs) {
  py::array_t<float> a({rows, ad::Index(ms.size()), outputs});
  auto view = a.mutable_unchecked<3>();
  for (std::size_t k = 0; k < ms.size(); ++k)
    for (ad::Index n = 0; n < rows; ++n)
      for (ad::Index o = 0; o < outputs; ++o) view(n, py::ssize_t(k), o) = ms[k](n, o);
  return a;
}

/// Collects the epoch history of a run and reports progress to a Python callable,
/// callback(epoch, loss, epochs), at most every 0.1 s and at the last epoch, taking the GIL only then.
class Progress {
 public:
  Progress(py::object callback, int epochs) : callback_(std::move(callback)), report_(!callback_.is_none()), epochs_(epochs) {}

  void operator()(const std::vector<nif::EpochLog>& history) {
    history_.insert(history_.end(), history.begin() + std::ptrdiff_t(history_.size()), history.end());
    const auto now = std::chrono::steady_clock::now();
    const nif::EpochLog& e = history.back();
    if (!report_ || (now - last_ < std::chrono::milliseconds(100) && e.epoch != epochs_)) return;
    last_ = now;
    py::gil_scoped_acquire gil;
    callback_(e.epoch, e.loss, epochs_);
  }

  /// The history as a dict of numpy arrays, one per log.csv column.
  py::dict history() const {
    auto column = [&](auto field) {
      py::array_t<double> a(py::ssize_t(history_.size()));
      for (std::size_t i = 0; i < history_.size(); ++i) a.mutable_at(py::ssize_t(i)) = double(history_[i].*field);
      return a;
    };
    py::dict d;
    d["epoch"] = column(&nif::EpochLog::epoch);
    d["loss"] = column(&nif::EpochLog::loss);
    d["lr"] = column(&nif::EpochLog::lr);
    d["samples_per_s"] = column(&nif::EpochLog::samples_per_s);
    d["seed_points_per_s"] = column(&nif::EpochLog::seed_points_per_s);
    d["elapsed_s"] = column(&nif::EpochLog::elapsed_s);
    return d;
  }

 private:
  py::object callback_;
  bool report_;  // read without the GIL
  int epochs_;
  std::chrono::steady_clock::time_point last_{};
  std::vector<nif::EpochLog> history_;
};

/// `nif train ARGS` on the points of `table` (when given) instead of a case or --data file.
/// Returns {"out", "metrics" (JSON text), "history"}, or None after printing the help for --help.
py::object train(const std::vector<std::string>& args, std::optional<FloatArray> table, py::object progress) {
  std::optional<experiments::TrainRequest> parsed = experiments::parse_train_request(args, table.has_value());
  if (!parsed) return py::none();
  experiments::TrainRequest& request = *parsed;
  if (table) {
    if (table->ndim() != 2)
      throw py::value_error("data: expected a 2-D array (points x columns), got " + std::to_string(table->ndim()) + "-D");
    request.data.table.emplace(table->data(), table->shape(0), table->shape(1));  // a view: no copy
  }
  Progress collector(std::move(progress), request.config.train.epochs);
  request.options.on_epoch = [&collector](const std::vector<nif::EpochLog>& h) { collector(h); };
  nlohmann::json metrics;
  {
    py::gil_scoped_release release;
    metrics = experiments::run_training(request.config, request.data, request.out, request.options);
  }
  py::dict result;
  result["out"] = request.out;
  result["metrics"] = metrics.dump();
  result["history"] = collector.history();
  return result;
}

/// `nif compare ARGS` (prints its tables; the CSVs are left in the study folder).
void compare(const std::vector<std::string>& args) {
  py::gil_scoped_release release;
  experiments::run_compare(args);
}

/// The Model class: a loaded checkpoint's predictions, derivatives, latent and generated weights.
void bind_model(py::module_& m) {
  py::class_<experiments::SavedModel>(m, "Model", "A trained model, loaded from a checkpoint written by training.")
      .def(py::init<const std::string&>(), py::arg("checkpoint"))
      .def(
          "predict",
          [](experiments::SavedModel& s, const FloatArray& p, const FloatArray& x) {
            const ad::Matrix<float> pm = matrix_of(p, "p"), xm = matrix_of(x, "x");
            ad::Matrix<float> u;
            {
              py::gil_scoped_release release;
              u = s.predict(pm, xm);
            }
            return array_of(u);
          },
          py::arg("p"), py::arg("x"),
          "u(x; p) in physical units (N x outputs) for parameters p (N x P, or N) and coordinates x (N x D, or N).")
      .def(
          "derivatives",
          [](experiments::SavedModel& s, const FloatArray& p, const FloatArray& x) {
            const ad::Matrix<float> pm = matrix_of(p, "p"), xm = matrix_of(x, "x");
            nif::DerivativeValues d;
            {
              py::gil_scoped_release release;
              d = s.derivatives(pm, xm);
            }
            const ad::Index n = xm.rows(), outputs = s.config().shape_net.output_dim;
            py::dict out;
            out["du_dx"] = stacked(d.du_dx, n, outputs);
            out["d2u_dx2"] = stacked(d.d2u_dx2, n, outputs);
            out["du_dp"] = stacked(d.du_dp, n, outputs);
            return out;
          },
          py::arg("p"), py::arg("x"),
          "Input derivatives in physical units, exact (forward-mode through the model), as a dict of arrays: "
          "'du_dx' and 'd2u_dx2' N x D x outputs ([n, k, o] = du_o/dx_k, d2u_o/dx_k2), 'du_dp' N x P x outputs.")
      .def(
          "latent", [](experiments::SavedModel& s, const FloatArray& p) { return array_of(s.latent(matrix_of(p, "p"))); },
          py::arg("p"), "The ParameterNet's bottleneck (latent representation) for parameters p: N x r.")
      .def(
          "shape_parameters",
          [](experiments::SavedModel& s, const FloatArray& p) { return array_of(s.shape_parameters(matrix_of(p, "p"))); },
          py::arg("p"), "Every generated ShapeNet weight and bias for parameters p: N x (number of ShapeNet parameters).")
      .def_property_readonly("_config_json", [](const experiments::SavedModel& s) { return nif::to_json(s.config()).dump(); });
}

}  // namespace

PYBIND11_MODULE(_nifcpp, m) {
  m.doc() = "Neural Implicit Flow in C++: the binding (use the nifcpp package)";
  // The CLI's exit codes, as exceptions: bad input ValueError, unreadable or unwritable files
  // OSError, a stop by SIGINT KeyboardInterrupt (after the checkpoint), failures RuntimeError.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const experiments::Interrupted& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
    } catch (const nn::FileError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    }
  });
  m.def("_train", &train, py::arg("args"), py::arg("table"), py::arg("progress"));
  m.def("_compare", &compare, py::arg("args"));
  m.def(
      "traveling_wave",
      [](const std::string& case_name) { return array_of(nif::traveling_wave(nif::parse_wave_case(case_name))); },
      py::arg("case") = "low-frequency",
      "The seed study's traveling wave as a 2000 x 3 float32 array of points (t, x, u): 10 snapshots of 200 points.");

  bind_model(m);
}
