"""Neural Implicit Flow in C++, from Python.

The same library as the ``nif`` program, not a wrapper around it: ``train`` takes every option
of ``nif train`` as a keyword (``batch_size=512`` is ``--batch-size 512``, ``no_grouping=True``
is ``--no-grouping``) and hands them to the program's own option parser, so both accept the same
options with the same messages and give the same results, bit for bit.

    import nifcpp
    run = nifcpp.train(nifcpp.traveling_wave("low-frequency"), arch="pytorch", epochs=500)
    u = run.model.predict(p, x)          # physical units
    model = nifcpp.load(run.out + "/checkpoint.npz")

Errors: bad options or data raise ValueError (or TypeError for a value of the wrong type) with
the program's one-line message; unreadable or unwritable files raise OSError; Ctrl-C finishes the
current epoch, writes the checkpoint and raises KeyboardInterrupt (continue with ``resume=True``
and the same ``out``).
"""

import csv
import json
import numbers
import os
import tempfile

import numpy as np

from ._nifcpp import Model, traveling_wave
from . import _nifcpp

__all__ = ["Model", "Run", "compare", "load", "train", "traveling_wave"]


def load(checkpoint):
    """The model saved in ``checkpoint`` (a checkpoint.npz written by training, or a compact model
    written by ``nif export``)."""
    return Model(os.fspath(checkpoint))


class Run:
    """A finished training run.

    ``out``: its folder (config.json, log.csv, checkpoint.npz, metrics.json, pictures);
    ``history``: one record per epoch of this call and the ones it resumed (fields epoch, loss,
    lr, samples_per_s, seed_points_per_s, elapsed_s); ``metrics``: metrics.json as a dict;
    ``model``: the trained model (loaded from the checkpoint).
    """

    def __init__(self, out, history, metrics):
        self.out = out
        self.history = history
        self.metrics = metrics
        self._model = None

    @property
    def model(self):
        if self._model is None:
            self._model = load(os.path.join(self.out, "checkpoint.npz"))
        return self._model

    def __repr__(self):
        return f"Run(out={self.out!r}, epochs={len(self.history)}, final_loss={self.metrics.get('final_loss')})"


def _cli_args(options):
    """Keywords as command-line arguments: ``name=value`` is ``--name value`` (underscores become
    dashes), True a bare switch, False and None nothing, a list or tuple comma-separated."""
    args = []
    for name, value in options.items():
        if value is None or value is False or isinstance(value, np.bool_) and not value:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True or isinstance(value, np.bool_):
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args += [flag, ",".join(str(v) for v in value)]
        elif isinstance(value, (str, os.PathLike, numbers.Real)):
            args += [flag, str(os.fspath(value) if isinstance(value, os.PathLike) else value)]
        else:
            raise TypeError(f"{name}: expected a number, a string, a bool or a list, got {type(value).__name__}")
    return args


class _Progress:
    """The progress reporter of one run, called as ``(epoch, loss, epochs)``: a tqdm bar (when
    ``progress`` is True and tqdm is importable), the caller's ``f(epoch, loss)``, or nothing."""

    def __init__(self, progress):
        self._callback = progress if callable(progress) else None
        self._bar = None
        self._tqdm = None
        if progress is True:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            self._tqdm = tqdm

    def wanted(self):
        return self._callback is not None or self._tqdm is not None

    def __call__(self, epoch, loss, epochs):
        if self._callback is not None:
            self._callback(epoch, loss)
            return
        if self._bar is None:
            self._bar = self._tqdm(total=epochs, initial=epoch, unit="epoch")
        self._bar.update(epoch - self._bar.n)
        self._bar.set_postfix(loss=f"{loss:.3e}", refresh=False)

    def close(self):
        if self._bar is not None:
            self._bar.close()


def train(data=None, param_cols=None, input_cols=None, output_cols=None, weight_col=None, arch=None, epochs=None,
          out=None, progress=True, **options):
    """Trains one model, as ``nif train`` does, and returns a ``Run``.

    ``data``: None (the traveling-wave ``case=``), a path (.npy/.npz/.csv) or an array of points
    (rows) whose columns ``param_cols``, ``input_cols``, ``output_cols`` and ``weight_col`` select
    (as ints or lists; a float32 C-ordered array is used in place, anything else is converted).
    ``out``: the run folder (default: a new temporary folder). ``progress``: True for a tqdm bar
    when tqdm is installed, False for none, or a callable ``f(epoch, loss)``. Every other keyword
    is an option of ``nif train`` (``case``, ``optimizer``, ``batch_size``, ``seed``, ``threads``,
    ``fix``, ``schedule``, ``lr``, ``resume``, ...); a keyword left at None takes the program's
    default. Per-epoch lines are off unless ``quiet=False``.
    """
    table = None
    if isinstance(data, (str, os.PathLike)):
        options["data"] = data
    elif data is not None:
        table = np.ascontiguousarray(data, dtype=np.float32)
    if out is None:
        out = tempfile.mkdtemp(prefix="nifcpp-run-")
    options.setdefault("quiet", True)
    options.update(param_cols=param_cols, input_cols=input_cols, output_cols=output_cols, weight_col=weight_col,
                   arch=arch, epochs=epochs, out=out)
    args = _cli_args(options)
    reporter = _Progress(progress)
    try:
        result = _nifcpp._train(args, table, reporter if reporter.wanted() else None)
    finally:
        reporter.close()
    if result is None:  # help=True: the options were printed
        return None
    history = result["history"]
    records = np.rec.fromarrays([history[k].astype(np.int64) if k == "epoch" else history[k] for k in history],
                                names=list(history))
    return Run(result["out"], records, json.loads(result["metrics"]))


def _read_table(path):
    try:
        import pandas
    except ImportError:
        pandas = None
    if pandas is not None:
        return pandas.read_csv(path)

    def value(text):
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return text if text else None

    with open(path, newline="") as f:
        return [{k: value(v) for k, v in row.items()} for row in csv.DictReader(f)]


def compare(out=None, archs=None, optimizers=None, cases=None, seeds=None, **options):
    """Runs a study as ``nif compare`` does (finished runs in ``out`` are kept) and returns its two
    tables, ``{"best_loss": ..., "speed": ...}``, each a pandas DataFrame when pandas is
    importable, else a list of dicts (one per case, architecture and optimizer, ours next to the
    seed's published figures). Keywords are ``nif compare``'s options; ``out`` defaults to a new
    temporary folder.
    """
    if out is None:
        out = tempfile.mkdtemp(prefix="nifcpp-study-")
    options.update(out=out, archs=archs, optimizers=optimizers, cases=cases, seeds=seeds)
    _nifcpp._compare(_cli_args(options))
    return {name: _read_table(os.path.join(out, name + ".csv")) for name in ("best_loss", "speed")}
