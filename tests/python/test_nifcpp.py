"""The Python module nifcpp against the nif program it shares its library with.

Run by CTest with PYTHONPATH set to the built module and NIF_BIN to the built program.
"""

import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import nifcpp

NIF = os.environ.get("NIF_BIN", "nif")


def nif(*args):
    subprocess.run([NIF, *map(str, args)], check=True, stdout=subprocess.DEVNULL)


def log_column(run_dir, name):
    with open(os.path.join(run_dir, "log.csv"), newline="") as f:
        return [row[name] for row in csv.DictReader(f)]


def checkpoint_arrays(run_dir):
    """The numbers of a checkpoint (parameters, optimizer state), without its metadata (timings)."""
    with np.load(os.path.join(run_dir, "checkpoint.npz")) as z:
        arrays = {k: z[k] for k in z.files}
        return {k: v for k, v in arrays.items() if isinstance(v, np.ndarray)}


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """50 epochs of the low-frequency seed case (upstream, Adam, seed 3), by nif and by nifcpp."""
    base = tmp_path_factory.mktemp("short")
    cli, py = base / "cli", base / "py"
    nif("train", "--arch", "upstream", "--case", "low-frequency", "--epochs", 50, "--seed", 3, "--batch-size", 512,
        "--quiet", "--out", cli)
    run = nifcpp.train(arch="upstream", case="low-frequency", epochs=50, seed=3, batch_size=512, out=py, progress=False)
    return cli, py, run


def test_train_gives_the_loss_history_of_nif_train_bit_for_bit(short_run):
    cli, py, run = short_run
    assert log_column(py, "loss") == log_column(cli, "loss")
    assert [f"{v:.9g}" for v in run.history["loss"]] == log_column(cli, "loss")
    a, b = checkpoint_arrays(cli), checkpoint_arrays(py)
    assert a.keys() == b.keys() and len(a) > 1
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_run_has_history_metrics_and_model(short_run):
    _, py, run = short_run
    assert run.out == str(py)
    assert list(run.history["epoch"]) == list(range(1, 51))
    assert set(run.history.dtype.names) == {"epoch", "loss", "lr", "samples_per_s", "seed_points_per_s", "elapsed_s"}
    assert run.metrics["epochs"] == 50 and run.metrics["final_loss"] == run.history["loss"][-1]
    u = run.model.predict(np.full(3, 10.0), np.array([0.1, 0.2, 0.3]))
    assert u.shape == (3, 1) and u.dtype == np.float32


def test_numpy_array_trains_like_the_same_points_from_a_file(tmp_path):
    wave = nifcpp.traveling_wave("low-frequency")
    assert wave.shape == (2000, 3) and wave.dtype == np.float32
    np.save(tmp_path / "wave.npy", wave)
    common = dict(arch="pytorch", epochs=5, seed=2, progress=False)
    from_file = nifcpp.train(tmp_path / "wave.npy", param_cols=0, input_cols=1, output_cols=2, out=tmp_path / "f", **common)
    from_array = nifcpp.train(wave, param_cols=[0], input_cols=[1], output_cols=[2], out=tmp_path / "a", **common)
    # A float64, Fortran-ordered copy is converted to the same float32 points.
    converted = nifcpp.train(np.asfortranarray(wave.astype(np.float64)), out=tmp_path / "c", **common)
    np.testing.assert_array_equal(from_array.history["loss"], from_file.history["loss"])
    np.testing.assert_array_equal(converted.history["loss"], from_file.history["loss"])


def test_model_predicts_as_nif_predict_and_exposes_its_sub_models(short_run, tmp_path):
    _, py, run = short_run
    t = np.repeat(np.array([0.0, 45.0], dtype=np.float32), 4)
    x = np.tile(np.linspace(0, 1, 4, dtype=np.float32), 2)
    points = np.column_stack([t, x])
    np.save(tmp_path / "points.npy", points)
    nif("predict", "--checkpoint", py / "checkpoint.npz", "--data", tmp_path / "points.npy", "--out", tmp_path / "u.npy")
    model = nifcpp.load(py / "checkpoint.npz")
    u = model.predict(t, x)
    np.testing.assert_array_equal(u[:, 0], np.load(tmp_path / "u.npy")[:, 2])
    z = model.latent(t)
    w = model.shape_parameters(t.reshape(-1, 1))
    assert z.shape[0] == 8 and w.shape[0] == 8 and w.shape[1] > z.shape[1]
    np.testing.assert_array_equal(z[0], z[3])  # the same t, the same latent code
    assert not np.array_equal(z[0], z[4])


def test_load_reads_a_compact_model_written_by_nif_export(short_run, tmp_path):
    _, py, _ = short_run
    nif("export", "--checkpoint", py / "checkpoint.npz", "--format", "fp32", "--out", tmp_path / "model.nifc")
    t = np.linspace(0, 90, 8, dtype=np.float32)
    x = np.linspace(0, 1, 8, dtype=np.float32)
    exact = nifcpp.load(py / "checkpoint.npz").predict(t, x)
    np.testing.assert_array_equal(nifcpp.load(tmp_path / "model.nifc").predict(t, x), exact)


def cli_error(*args):
    """The one-line message of `nif train ARGS` (exit code 2) without its "nif train: " prefix."""
    proc = subprocess.run([NIF, "train", *map(str, args)], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    return proc.stderr.strip().removeprefix("nif train: ")


def test_bad_options_raise_value_error_with_the_programs_message(tmp_path):
    for keywords, args in (({"batch_size": 0}, ["--batch-size", 0]),
                           ({"optimizer": "adamw"}, ["--optimizer", "adamw"]),
                           ({"no_such_option": 1}, ["--no-such-option", 1]),
                           ({"arch": "nope"}, ["--arch", "nope"])):
        with pytest.raises(ValueError) as error:
            nifcpp.train(out=tmp_path / "a", **keywords)
        assert str(error.value) == cli_error(*args, "--out", tmp_path / "a")
    wave = tmp_path / "wave.npy"
    np.save(wave, nifcpp.traveling_wave())
    with pytest.raises(ValueError) as error:
        nifcpp.train(nifcpp.traveling_wave(), case="low-frequency", out=tmp_path / "a")
    assert str(error.value) == cli_error("--data", wave, "--case", "low-frequency")
    with pytest.raises(ValueError, match="column 7 is out of range"):
        nifcpp.train(np.zeros((10, 3), np.float32), output_cols=7, out=tmp_path / "a")
    with pytest.raises(TypeError, match="seed: expected"):
        nifcpp.train(seed={"a": 1}, out=tmp_path / "a")
    with pytest.raises(ValueError, match="p: expected a 1-D or 2-D array"):
        nifcpp.load(nifcpp_checkpoint(tmp_path)).predict(np.zeros((2, 2, 2)), np.zeros(2))
    assert not (tmp_path / "a").exists()


def nifcpp_checkpoint(tmp_path):
    return nifcpp.train(arch="pytorch", epochs=1, out=tmp_path / "one", progress=False).out + "/checkpoint.npz"


def test_file_problems_raise_os_error(tmp_path):
    with pytest.raises(OSError, match="missing.npz"):
        nifcpp.load(tmp_path / "missing.npz")
    with pytest.raises(OSError, match="missing.csv"):
        nifcpp.train(tmp_path / "missing.csv", out=tmp_path / "a")
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OSError, match="cannot create the run folder"):
        nifcpp.train(arch="pytorch", epochs=1, out=tmp_path / "file" / "run")


def test_progress_callback_sees_the_last_epoch(tmp_path):
    seen = []
    nifcpp.train(arch="pytorch", epochs=30, out=tmp_path / "p", progress=lambda epoch, loss: seen.append((epoch, loss)))
    assert seen and seen[-1][0] == 30 and np.isfinite(seen[-1][1])


def test_sigint_stops_at_an_epoch_end_with_a_checkpoint_and_raises_keyboard_interrupt(tmp_path):
    out = tmp_path / "run"
    code = f"import nifcpp; nifcpp.train(arch='pytorch', epochs=1000000, out={str(out)!r}, progress=False)"
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "config.json").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "KeyboardInterrupt: interrupted after epoch" in err
    epochs = log_column(out, "epoch")
    assert 0 < len(epochs) < 1000000 and (out / "checkpoint.npz").exists()
    resumed = nifcpp.train(arch="pytorch", epochs=len(epochs) + 2, out=out, resume=True, progress=False)
    assert list(resumed.history["epoch"]) == list(range(1, len(epochs) + 3))


def test_compare_returns_the_tables(tmp_path):
    tables = nifcpp.compare(out=tmp_path / "study", archs="pytorch", cases="low-frequency", epochs=3)
    loss, speed = tables["best_loss"], tables["speed"]
    rows = loss.to_dict("records") if hasattr(loss, "to_dict") else loss
    assert len(rows) == 1 and rows[0]["architecture"] == "pytorch" and rows[0]["runs"] == 1
    assert rows[0]["seed_best_loss"] > 0 and rows[0]["best_loss"] > 0
    assert len(speed) == 1
