#include "experiments/run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <utility>
#include <fstream>
#include <unistd.h>

#include "experiments/pictures.hpp"
#include "experiments/run_folder.hpp"
#include "experiments/signals.hpp"
#include "experiments/statistics.hpp"
#include "nif/trainer.hpp"
#include "nn/checkpoint.hpp"
#include "nn/files.hpp"
#include "nn/process_group.hpp"

namespace experiments {

namespace {

using ad::Index;

/// log.csv; a run with fine-tuning gets a last column "phase" (the optimizer's name, or lbfgs,
/// whose rows hold the line search's step length in the lr column).
std::string log_csv(const nif::ExperimentConfig& cfg, const std::vector<nif::EpochLog>& history, const HeldOut& held_out) {
  const bool phases = cfg.finetune.active();
  std::string s = "epoch,loss,lr,samples_per_s,seed_points_per_s,elapsed_s" + held_out.csv_header() + (phases ? ",phase" : "") + "\n";
  for (const auto& e : history)
    s += fmt::format("{},{:.9g},{:.6g},{:.1f},{:.1f},{:.4f}{}{}\n", e.epoch, e.loss, e.lr, e.samples_per_s, e.seed_points_per_s,
                     e.elapsed_s, held_out.csv_cells(e.epoch), phases ? "," + (e.lbfgs ? "lbfgs" : cfg.optimizer.name) : "");
  return s;
}

/// Writes config.json. Failing here means the folder cannot be written at all, which is bad
/// input (a FileError, not a WriteError); a folder this run created is removed again.
void write_config(RunFolder& folder, const fs::path& out, const std::string& text) {
  try {
    nn::write_file_atomically(out / "config.json", text);
  } catch (const nn::WriteError& e) {
    folder.abandon();
    throw nn::FileError(out, std::string("cannot write into the run folder (") + e.what() + ")");
  }
}

/// What a run records of its data file, so that `--resume` needs no data flags and notices a
/// changed file: the file's absolute path (with its :MEMBER), a hash of its contents and the
/// columns chosen; null for a wave case or a table in memory.
nlohmann::json data_record(const DataSpec& spec) {
  if (spec.file.empty() || spec.table) return nullptr;
  const auto [file, member] = nif::split_member(spec.file);
  nlohmann::json record{{"file", fs::absolute(file).lexically_normal().string() + (member.empty() ? "" : ":" + member)},
                        {"content_hash", nn::content_hash(file)},
                        {"param_cols", spec.columns.params},
                        {"input_cols", spec.columns.coords},
                        {"output_cols", spec.columns.targets}};
  if (!spec.columns.weight.empty()) record["weight_col"] = spec.columns.weight;
  if (!spec.columns.derivatives.empty()) record["derivative_cols"] = spec.columns.derivatives;
  return record;
}

/// config.json: the experiment config, the held-out spec when there is one, the data record.
nlohmann::json run_config(const nif::ExperimentConfig& cfg, const HeldOut& held_out, const nlohmann::json& data) {
  nlohmann::json json = nif::to_json(cfg);
  if (held_out.active()) json["holdout"] = held_out.spec();
  if (!data.is_null()) json["data"] = data;
  return json;
}

void save(const fs::path& file, nif::Trainer& t, const PreparedData& data) {
  nlohmann::json user{{"config", nif::to_json(t.config())},
                      {"normalizer", nif::to_json(data.normalizer)},
                      {"trainer", t.state_json()}};
  if (data.held_out.active()) user["holdout"] = data.held_out.state_json();
  user["target_names"] = data.field_labels;
  nn::save_checkpoint(file, t.parameters(), &t.optimizer(), user, &t.prune_mask());
}

nlohmann::json metrics(nif::Trainer& t, double wall_s) {
  const auto& h = t.history();
  nlohmann::json m;
  const auto& cfg = t.config();
  m["architecture"] = cfg.architecture;
  m["case"] = cfg.case_name;
  m["optimizer"] = cfg.optimizer.name;
  m["seed"] = cfg.train.seed;
  m["defects"] = cfg.defects.active();
  m["trainable_parameters"] = t.parameters().size();
  m["generated_parameters"] = t.model().generated().size();
  m["sparsity"] = t.prune_mask().sparsity(t.parameters());
  m["epochs"] = t.epochs_done();
  m["lbfgs_steps"] = t.finetune_done();
  m["wall_s"] = wall_s;
  if (h.empty()) return m;
  // "best" as the seed computed it: the minimum over the logged epochs.
  double best = h.back().loss;
  const int every = std::max(cfg.train.log_every, 1);
  for (const auto& e : h)
    if (e.epoch % every == 0) best = std::min(best, e.loss);
  std::vector<double> rates, seed_rates;
  for (std::size_t i = h.size() > 1 ? 1 : 0; i < h.size(); ++i) {  // the first epoch warms up the arena
    rates.push_back(h[i].samples_per_s);
    seed_rates.push_back(h[i].seed_points_per_s);
  }
  m["final_loss"] = h.back().loss;
  m["best_loss"] = best;
  m["final_eval_loss"] = t.evaluate_loss();
  m["samples_per_s"] = median(rates);
  m["seed_points_per_s"] = median(seed_rates);
  m["train_s"] = h.back().elapsed_s;
  m["skipped_steps"] = t.loss_scale().skipped_steps;
  return m;
}

/// The relative L2 error on the training points in physical units (weighted when the data has
/// weights): "train_rel_l2" and "train_rel_l2_<field>", the error of the NIF paper's Table 2,
/// which fits one video.
nlohmann::json training_errors(nif::Trainer& t, const PreparedData& d) {
  nif::RelativeL2Sums sums;
  t.for_each_part([&](const nif::PointDataset& part, const nif::PointDataset* raw) {
    const nif::PointDataset& truth = raw != nullptr ? *raw : d.raw;
    for (Index first = 0; first < part.size(); first += nif::kEvaluationRows) {
      const Index rows = std::min(nif::kEvaluationRows, part.size() - first);
      const ad::Matrix<double> u =
          d.normalizer.denormalize_targets(t.predict(part.params.middleRows(first, rows), part.coords.middleRows(first, rows)))
              .cast<double>();
      sums.add(truth.targets.middleRows(first, rows).cast<double>(), u,
               truth.weighted() ? ad::Matrix<float>(truth.weights.middleRows(first, rows)) : ad::Matrix<float>());
    }
  });
  return nif::errors_json(sums.result(), d.field_labels, "train_rel_l2");
}

/// The counters of a checkpoint's trainer state are integers in int range: nlohmann reads 1e300
/// into an int as undefined behaviour (INT_MIN in practice), so they are checked first.
void check_trainer_counts(const nlohmann::json& state, const fs::path& file) {
  const auto check = [&](const nlohmann::json& value, std::string_view what) {
    if (!value.is_number_integer() || !std::in_range<int>(value.is_number_unsigned() ? 0 : value.get<std::int64_t>()) ||
        (value.is_number_unsigned() && value.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<int>::max())))
      throw nn::FileError(file, fmt::format("the trainer state's {} is not an integer in range ({})", what, value.dump()));
  };
  try {
    check(state.at("epochs_done"), "epochs_done");
    check(state.at("loss_scale").at("good_steps"), "loss_scale.good_steps");
    check(state.at("loss_scale").at("skipped_steps"), "loss_scale.skipped_steps");
    for (const auto& entry : state.at("history")) check(entry.at(0), "history epoch");
  } catch (const nlohmann::json::exception& e) {
    throw nn::FileError(file, std::string("malformed trainer state (") + e.what() + ")");
  }
}

/// Refuses to continue the run in `out` on a data file whose contents differ from the file its
/// config.json recorded (a run from before the record is not checked).
void check_same_data(const fs::path& out, const nlohmann::json& record) {
  const fs::path file = out / "config.json";
  if (record.is_null() || !fs::exists(file)) return;
  const nlohmann::json kept = read_json_file(file).value("data", nlohmann::json());
  if (!kept.is_object() || kept.value("content_hash", "") == record.at("content_hash").get<std::string>()) return;
  throw std::invalid_argument(fmt::format("{}: not the data the run was trained on (content hash {}; the run recorded {} for {})",
                                          record.at("file").get<std::string>(), record.at("content_hash").get<std::string>(),
                                          kept.value("content_hash", "none"), kept.value("file", "its data")));
}

/// The checkpoints of a run folder, newest first: checkpoint.npz, then checkpoint-<epoch>.npz by
/// falling epoch.
std::vector<fs::path> checkpoints_newest_first(const fs::path& out) {
  std::vector<std::pair<long long, fs::path>> numbered;
  std::error_code ec;  // under MPI the folder may not be there yet for ranks but 0: no checkpoints
  for (const auto& entry : fs::directory_iterator(out, ec)) {
    const std::string name = entry.path().filename().string();
    // checkpoint-best.npz holds no optimizer state: it is for predictions, not for resuming.
    if (name.starts_with("checkpoint-") && name != "checkpoint-best.npz" && is_run_file(name)) numbered.emplace_back(std::atoll(name.c_str() + 11), entry.path());
  }
  std::sort(numbered.begin(), numbered.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<fs::path> files;
  if (fs::exists(out / "checkpoint.npz")) files.push_back(out / "checkpoint.npz");
  for (auto& [epoch, file] : numbered) files.push_back(std::move(file));
  return files;
}

}  // namespace

namespace {

/// Bytes a streamed point costs beside its values: the batch planner's row order, its row list
/// and the point's input group.
constexpr Index kPlannerBytesPerPoint = 3 * Index(sizeof(Index));

/// The points of a part under `cfg`'s memory budget: what the budget holds, less a tenth for the
/// blocks being read and converted, a whole number of batches.
Index part_rows(const nif::ExperimentConfig& cfg, const nif::PointFile& file) {
  const Index budget = cfg.train.memory_budget_mb << 20;
  const Index batch = cfg.train.batch_size;
  const Index fit = budget / 10 * 9 / (file.point_bytes() + kPlannerBytesPerPoint);
  if (fit >= file.rows()) return file.rows();
  if (fit < batch)
    throw std::invalid_argument(fmt::format("--memory-budget {} holds {} points, fewer than one batch of {}",
                                            cfg.train.memory_budget_mb, fit, batch));
  return fit / batch * batch;
}

/// prepare_data for a file read part by part.
PreparedData prepare_streamed(nif::ExperimentConfig& cfg, const DataSpec& spec) {
  const auto refuse = [](std::string_view what) {
    throw std::invalid_argument(fmt::format("--memory-budget: {}", what));
  };
  if (spec.file.empty()) refuse("needs --data FILE (.npy or .npz)");
  if (!spec.holdout.empty()) refuse("--holdout is not supported with data read in parts");
  if (!spec.columns.derivatives.empty()) refuse("--derivative-cols is not supported with data read in parts");
  if (cfg.loss.collocation_points > 0) refuse("--collocation-points draws from the box of all points, which are not in memory");
  nif::PointFile file(spec.file, spec.columns);
  PreparedData d;
  cfg.parameter_net.input_dim = Index(file.columns().params.size());
  cfg.shape_net.input_dim = Index(file.columns().coords.size());
  cfg.shape_net.output_dim = Index(file.columns().targets.size());
  d.field_labels = nif::column_labels(file.names(), file.columns().targets, "f");
  const nif::Normalization kind =
      cfg.train.normalization == "auto" ? nif::Normalization::standard : nif::parse_normalization(cfg.train.normalization);
  const Index rows = part_rows(cfg, file);
  nif::PointDataset scratch;
  d.normalizer = nif::fit_streaming(file, kind, std::max<Index>(rows / 64, 1), scratch);
  d.stream = std::make_unique<nif::PointStream>(std::move(file), d.normalizer, rows);
  return d;
}

}  // namespace

PreparedData prepare_data(nif::ExperimentConfig& cfg, const DataSpec& spec) {
  if (cfg.train.memory_budget_mb > 0) return prepare_streamed(cfg, spec);
  PreparedData d;
  nif::Normalization kind;
  if (!spec.user_data()) {
    const nif::WaveCase wave = nif::parse_wave_case(cfg.case_name);
    d.raw = nif::from_table(nif::traveling_wave(wave), nif::traveling_wave_columns());
    d.held_out = HeldOut(d.raw, spec.holdout, nif::traveling_wave_columns(), {"t", "x", "u"});
    d.field_labels = {"u"};
    kind = cfg.train.normalization == "auto" ? nif::default_normalization(wave) : nif::parse_normalization(cfg.train.normalization);
  } else {
    // An array in memory has no column names; a file may name them.
    nif::NamedPoints named = spec.table ? nif::NamedPoints{.points = {}, .columns = spec.columns.resolve(spec.table_names),
                                                           .names = spec.table_names}
                                        : nif::load_named_points(spec.file, spec.columns);
    if (spec.table) named.points = nif::from_table(*spec.table, named.columns);
    d.raw = std::move(named.points);
    d.held_out = HeldOut(d.raw, spec.holdout, named.columns, named.names);
    d.field_labels = nif::column_labels(named.names, named.columns.targets, "f");
    kind = cfg.train.normalization == "auto" ? nif::Normalization::standard : nif::parse_normalization(cfg.train.normalization);
  }
  cfg.parameter_net.input_dim = d.raw.params.cols();
  cfg.shape_net.input_dim = d.raw.coords.cols();
  cfg.shape_net.output_dim = d.raw.targets.cols();
  d.normalizer = nif::Normalizer::fit(d.raw, kind);
  d.normalized = d.normalizer.apply(d.raw);
  d.held_out.normalize(d.normalizer);
  return d;
}

namespace {

/// checkpoint-best.npz: the best parameters (no optimizer state) with what `nif predict` needs.
void save_best(const fs::path& file, const nif::Trainer& t, const PreparedData& data) {
  const nlohmann::json user{{"config", nif::to_json(t.config())},
                            {"normalizer", nif::to_json(data.normalizer)},
                            {"best", {{"loss", t.best_loss()}, {"epoch", t.best_epoch()}}}};
  nn::save_checkpoint(file, t.best_parameters(), static_cast<const nn::Optimizer<float>*>(nullptr), user);
}

/// Continues the run from checkpoint `file` (its metadata `user` already loaded into the trainer's
/// parameters, optimizer and prune masks): trainer state, held-out log and best parameters. The
/// checkpoint must hold the same config but for --epochs, which may grow unless the learning rate
/// depends on their number or the run is already fine-tuning, and the fine-tuning steps.
void resume(const fs::path& file, const nlohmann::json& user, nif::Trainer& trainer, PreparedData& data) {
  const nif::ExperimentConfig& cfg = trainer.config();
  nif::ExperimentConfig saved = nif::experiment_config_from_json(user.at("config"));
  const bool extended = saved.train.epochs != cfg.train.epochs;
  saved.train.epochs = cfg.train.epochs;
  saved.finetune.lbfgs_iterations = cfg.finetune.lbfgs_iterations;
  if (nif::to_json(saved) != nif::to_json(cfg))
    throw std::invalid_argument(file.string() + ": the checkpoint was written with another config");
  if (extended && nif::schedule_follows_epochs(cfg.train))
    throw std::invalid_argument(fmt::format("{}: the {} schedule is stretched over the run's epochs, so it cannot be "
                                            "extended to --epochs {}", file.string(), cfg.train.schedule, cfg.train.epochs));
  check_trainer_counts(user.at("trainer"), file);
  trainer.restore_state(user.at("trainer"));
  if (nif::prunes_by(cfg.train, trainer.epochs_done()) && !trainer.prune_mask().active())
    throw nn::FileError(file, fmt::format("the run prunes (--prune {}) from epoch {}, but the checkpoint of epoch {} has no masks",
                                          cfg.train.prune, cfg.train.prune_begin, trainer.epochs_done()));
  if (trainer.finetune_done() > 0 && trainer.epochs_done() < cfg.train.epochs)
    throw std::invalid_argument(fmt::format("{}: the run is fine-tuning after {} epochs, so it cannot be extended to --epochs {}",
                                            file.string(), trainer.epochs_done(), cfg.train.epochs));
  data.held_out.restore_state(user.value("holdout", nlohmann::json()));
  const fs::path best = file.parent_path() / "checkpoint-best.npz";
  if (!fs::exists(best)) return;
  ad::ParameterBuffer<float> values = trainer.parameters();
  const nlohmann::json saved_best = nn::load_checkpoint(best, values, static_cast<nn::Optimizer<float>*>(nullptr));
  try {
    const int epoch = saved_best.at("best").at("epoch").get<int>();
    // A best from after this checkpoint belongs to the state that did not load: the run passes there again.
    if (epoch <= (trainer.history().empty() ? 0 : trainer.history().back().epoch))
      trainer.restore_best(values.values(), saved_best.at("best").at("loss").get<double>(), epoch);
  } catch (const nlohmann::json::exception& e) {
    throw nn::FileError(best, std::string("malformed best-loss record (") + e.what() + ")");
  }
}

/// Continues the run in `out` from its newest checkpoint that loads (checkpoint.npz, else the
/// numbered ones newest first) and says which; one that loads but continues another config is
/// refused. A run without checkpoints starts at epoch 0; one whose checkpoints all fail to load is
/// refused.
void resume_newest(nif::Trainer& trainer, PreparedData& data, const fs::path& out, bool quiet) {
  const std::vector<fs::path> files = checkpoints_newest_first(out);
  std::vector<std::string> failed;
  for (const fs::path& file : files) {
    nlohmann::json user;
    try {
      user = nn::load_checkpoint(file, trainer.parameters(), &trainer.optimizer(), &trainer.prune_mask());
    } catch (const nn::FileError& e) {
      failed.push_back(e.what());
      continue;
    }
    resume(file, user, trainer, data);
    if (quiet) return;
    const std::string where = trainer.finetune_done() > 0
                                  ? fmt::format("after L-BFGS step {} (its curvature history restarts)", trainer.finetune_done())
                                  : fmt::format("from epoch {}", trainer.epochs_done());
    print_progress(fmt::format("resuming {} {} ({}{})\n", out.string(), where, file.filename().string(),
                               failed.empty() ? "" : fmt::format("; not loadable: {}", fmt::join(failed, "; "))));
    return;
  }
  if (!files.empty())
    throw nn::FileError(out, fmt::format("no checkpoint of the run loads ({}); --force starts it over", fmt::join(failed, "; ")));
}

/// The loop's bookkeeping after every epoch or fine-tuning step: progress, log lines, held-out
/// errors, checkpoints, and the reaction to a stop signal.
class Progress {
 public:
  /// Under mpirun only rank 0 (`lead`) records, saves and prints; every rank stops together.
  Progress(nif::Trainer& trainer, PreparedData& data, const fs::path& out, const RunOptions& options, bool lead)
      : lead_(lead), trainer_(trainer), data_(data), out_(out), options_(options), bar_(!options.quiet && isatty(STDOUT_FILENO) != 0),
        total_(trainer.config().train.epochs + trainer.config().finetune.lbfgs_iterations),
        start_(int(trainer.history().size())), bar_start_(std::chrono::steady_clock::now()), last_bar_(bar_start_) {}

  /// Returns false when a stop signal asks to end the run, after writing its checkpoint.
  bool after(const nif::EpochLog& e) {
    const auto& t = trainer_.config().train;
    if (bar_ && std::chrono::steady_clock::now() - last_bar_ > std::chrono::milliseconds(200)) show_bar(e);
    const bool log_epoch = e.epoch % t.log_every == 0 || e.epoch == 1 || e.epoch == t.epochs || e.epoch == total_;
    if (lead_ && log_epoch && data_.held_out.active()) data_.held_out.record(trainer_, e.epoch);
    if (!options_.quiet && log_epoch)
      print_progress(fmt::format("{}{} {:5d}  loss {:.3e}  {} {:.1e}  samples/s {:>9.0f}  points/s (seed) {:>8.0f}  elapsed {:7.2f} s{}\n",
                                 bar_ ? fmt::format("\r{:<90}\r", "") : "", e.lbfgs ? "lbfgs" : "epoch", e.epoch, e.loss,
                                 e.lbfgs ? "step" : "lr", e.lr, e.samples_per_s, e.seed_points_per_s, e.elapsed_s,
                                 data_.held_out.summary(e.epoch)));
    if (options_.on_epoch) options_.on_epoch(trainer_.history());
    // Every rank stops after the same epoch, whichever got the signal (a collective per epoch).
    if (nn::ProcessGroup::world().any(stop_requested())) {
      save_latest();
      return false;
    }
    if (lead_ && t.checkpoint_every > 0 && e.epoch % t.checkpoint_every == 0 && e.epoch != total_) {
      save(out_ / fmt::format("checkpoint-{}.npz", e.epoch), trainer_, data_);
      save_latest();
    }
    return true;
  }

  /// checkpoint.npz, checkpoint-best.npz when the best changed, and log.csv.
  void save_latest() {
    if (!lead_) return;
    save(out_ / "checkpoint.npz", trainer_, data_);
    if (trainer_.best_epoch() != best_written_ && trainer_.best_epoch() > 0) {
      save_best(out_ / "checkpoint-best.npz", trainer_, data_);
      best_written_ = trainer_.best_epoch();
    }
    nn::write_file_atomically(out_ / "log.csv", log_csv(trainer_.config(), trainer_.history(), data_.held_out));
  }

 private:
  void show_bar(const nif::EpochLog& e) {
    last_bar_ = std::chrono::steady_clock::now();
    const double done = double(e.epoch - start_) / double(std::max(total_ - start_, 1));
    const double spent = std::chrono::duration<double>(last_bar_ - bar_start_).count();
    const int filled = int(done * 30);
    print_progress(fmt::format("\r[{:<30}] {} {}/{}  loss {:.3e}  ETA {:.0f} s   ", std::string(std::size_t(filled), '#'),
                               e.lbfgs ? "lbfgs" : "epoch", e.epoch, total_, e.loss, spent / std::max(done, 1e-9) * (1 - done)));
  }

  const bool lead_;
  nif::Trainer& trainer_;
  PreparedData& data_;
  const fs::path& out_;
  const RunOptions& options_;
  const bool bar_;  ///< on a terminal a progress bar with an ETA replaces the periodic lines between them
  const int total_, start_;
  const std::chrono::steady_clock::time_point bar_start_;
  std::chrono::steady_clock::time_point last_bar_;
  int best_written_ = -1;
};

}  // namespace

nlohmann::json run_training(nif::ExperimentConfig cfg, const DataSpec& spec, const fs::path& out, const RunOptions& options) {
  const auto wall0 = std::chrono::steady_clock::now();
  const StopSignals signals;
  // Under mpirun every rank trains its share of each batch (nif::Trainer); rank 0 alone owns the
  // run folder and prints. Resuming, every rank reads the checkpoint: the folder must be on a file
  // system they all see.
  const nn::ProcessGroup& group = nn::ProcessGroup::world();
  const bool lead = group.rank() == 0;
  RunOptions own = options;
  own.quiet = options.quiet || !lead;
  const nlohmann::json record = data_record(spec);
  if (options.resume) check_same_data(out, record);  // before the file is loaded
  PreparedData data = prepare_data(cfg, spec);
  const std::unique_ptr<nif::Trainer> owned = data.stream != nullptr
                                                 ? std::make_unique<nif::Trainer>(cfg, std::move(data.stream), &group)
                                                 : std::make_unique<nif::Trainer>(cfg, data.normalized, data.normalizer, &group);
  nif::Trainer& trainer = *owned;
  std::optional<RunFolder> folder;
  if (lead)
    folder.emplace(out, options.resume ? ExistingRun::resume : options.force ? ExistingRun::replace : ExistingRun::refuse);
  if (options.resume) resume_newest(trainer, data, out, own.quiet);
  if (lead) write_config(*folder, out, run_config(cfg, data.held_out, record).dump(2) + "\n");
  if (options.on_start) options.on_start();
  Progress progress(trainer, data, out, own, lead);
  const auto interrupted = [&](const nif::EpochLog& e) {
    return Interrupted(fmt::format("interrupted after {} {}; checkpoint written, continue with --resume --out {}",
                                   e.lbfgs ? "L-BFGS step" : "epoch", e.lbfgs ? trainer.finetune_done() : e.epoch, out.string()));
  };
  while (trainer.epochs_done() < cfg.train.epochs)
    if (!progress.after(trainer.train_epoch())) throw interrupted(trainer.history().back());
  std::string lbfgs_stop;
  if (!trainer.finished()) {
    const nn::LbfgsStop stop = trainer.finetune([&](const nif::EpochLog& e) { return progress.after(e); });
    if (stop == nn::LbfgsStop::stopped && stop_requested()) throw interrupted(trainer.history().back());
    lbfgs_stop = nn::to_string(stop);
  }
  if (!lead) return nlohmann::json::object();
  progress.save_latest();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  if (options.pictures) write_pictures(out, trainer, data, spec);
  nlohmann::json m = metrics(trainer, wall);
  if (!lbfgs_stop.empty()) m["lbfgs_stop"] = lbfgs_stop;
  m.update(training_errors(trainer, data));
  m.update(data.held_out.metrics(trainer));
  nn::write_file_atomically(out / "metrics.json", m.dump(2) + "\n");
  return m;
}

nlohmann::json read_json_file(const fs::path& file) {
  const auto bytes = nn::read_file(file, kMaxRecordBytes);
  try {
    return nlohmann::json::parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  } catch (const nlohmann::json::exception& e) {
    throw nn::FileError(file, std::string("not valid JSON (") + e.what() + ")");
  }
}

nlohmann::json read_metrics(const fs::path& run_dir) {
  const fs::path file = run_dir / "metrics.json";
  if (!fs::exists(file)) return nullptr;
  return read_json_file(file);
}

}  // namespace experiments
