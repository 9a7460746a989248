#!/usr/bin/python3
"""PyTorch reference for `nif bench`: eager-mode training throughput of the seed's PyTorch NIF port.

What it measures
    Training steps (zero_grad, forward, MSE, backward, torch.optim.Adam step, loss.item()) on the
    seed's traveling-wave data, batch 512 over reshuffled epochs of the 2000 grid points (the last
    batch of 464 is kept). The first few steps are warm-up and not timed; the reported figure is the
    TRUE throughput, samples processed in the timed steps divided by their wall time (not the
    seed's "points/sec", which is 3.9x smaller; docs/seed-study.md §10).

The model (docs/seed-study.md §8, = architecture "pytorch" in nif/pytorch.cpp), float32
    ParameterNet  t̂ -> Linear(1,30) -> SiLU -> Shortcut -> Shortcut -> Linear(30,1) -> SiLU
                  -> Linear(1,1951) = p, where Shortcut(h) = h + SiLU(Linear(30,30)(h)).
                  Init: trunc_normal_(std 0.1) for the Linear(1,30), Linear(30,1), Linear(1,1951)
                  weights and biases; torch's default nn.Linear init inside the Shortcuts.
    ShapeNet      per-sample weights sliced from p with the flat layout of §4 / nif/layout.hpp
                  (all weights row-major [in, out] first, then all biases):
                  low-frequency   s = SiLU(x̂·W + b) for the first and both hidden layers (no
                                  residual), y = s·WL + p[1920]: the port's last-bias index defect
                                  (it reads bh1[0]; p[1950] is never used).
                  high-frequency  s = sin(30·(x̂·W) + b) three times, y = s·WL with no bias.
    Data          u = exp(-1000 s²)·sin(ω s), s = x - 0.2 - 0.006 t, ω = 4 (low) or 400 (high),
                  computed in float64 on x = j/200 (j < 200), t = 10 i (i < 10), t-major, then cast
                  to float32 (§2); normalised per column in float32 (§3): z-score for
                  low-frequency, min-max for high-frequency.
    Optimiser     torch.optim.Adam(lr) with torch's defaults (betas 0.9/0.999, eps 1e-8).
    Schedule      --schedule constant (default) keeps lr; --schedule seed is the port's LambdaLR with
                  factors 1, 10, 5, 1 for 0-based epochs [0,1000), [1000,2000), [2000,4000), 4000+
                  (stepped after each epoch, so epoch e trains at lr·factor(e); §5).
    Shuffling     each epoch's order is drawn exactly as the port's DataLoader(shuffle=True) draws it
                  (RandomSampler): one global int64 draw for the iterator's base seed, one for the
                  sampler's seed, then randperm(2000) from a Generator seeded with the latter.

Hyper layer (each sample's x̂-path row times its own generated W): --formulation picks how it is
written in torch; the defaults are the fastest measured (see the comment above FORMULATIONS).

--units U --layers L --snapshots S --points P widen the ShapeNet (1 -> U, L hidden U x U layers,
U -> 1; the ParameterNet keeps its 30 units and its last Linear grows to the ShapeNet's parameter
count) and regrid the wave, as `nif bench --shape-units U --shape-layers L --snapshots S --points P`
does for the C++ model; the defaults are the seed's.

--grouped mirrors the C++ engine's optional row grouping: every point of one snapshot shares t̂, so
the ParameterNet runs once per distinct t̂ of the batch and each ShapeNet layer is one matrix
product per group (done as one torch.bmm over the groups, rows padded to the largest group; padded
rows are never read back, so they get no gradient).

final_loss is the seed port's epoch loss: the unweighted mean of the batch losses of the last
epoch reached (of the batches done so far if the run stops mid-epoch). best_loss is the smallest
logged epoch loss (with --log-every; else the final one), as the seed's "best" in §11.

Training runs (issue #4) use --epochs E instead of --steps (E epochs = E·⌈2000/batch⌉ steps),
--schedule seed, and --log-every 100, which prints "epoch 0 loss=..." (the full-data MSE at
initialisation) and then "epoch E loss=... lr=..." after every 100th epoch with the port's log labels
(E is 1-based: the line "epoch 100" is the loss of 0-based epoch 99; §10).

Usage
    /usr/bin/python3 bench/torch_reference.py --case {low-frequency,high-frequency} --threads N
        (--steps S | --epochs E) [--grouped] [--batch-size 512] [--lr 1e-4] [--seed 0]
        [--units 30] [--layers 2] [--snapshots 10] [--points 200]
        [--schedule constant|seed] [--log-every K] [--formulation NAME]
The last output line is machine-readable:
    torch_reference case=... threads=N grouped=0|1 steps=S samples_per_s=X samples_per_cpu_s=C final_loss=Y best_loss=Z
(C: per second of the process's CPU time, all threads, over the same timed steps.)
Exit status 2 on bad arguments, 3 if torch (or numpy) cannot be imported. OMP_WAIT_POLICY defaults
to PASSIVE (see below); the BLAS torch loaded is printed because it changes the figures a lot.
"""

import argparse
import os
import sys
import time

# Idle OpenMP workers sleep instead of spinning. On this shared 2-core machine spinning workers
# fight the other jobs for the cores and made --threads 2 about ten times slower (4-7k instead of
# 55k samples/s); set OMP_WAIT_POLICY in the environment to override. Must precede `import torch`.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import numpy as np
    import torch
    IMPORT_ERROR = None
except Exception as error:  # a broken install may raise more than ImportError
    IMPORT_ERROR = f"{type(error).__name__}: {error}"

PNET_UNITS = 30
OMEGA0 = 30.0


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line and exits with status 2."""

    def error(self, message):
        print(f"torch_reference: bad arguments: {message}", file=sys.stderr)
        sys.exit(2)


def positive_number(kind):
    """argparse type: text -> kind(text), rejecting non-numbers and values <= 0."""

    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"'{text}' is not a positive {kind.__name__}")
        return value

    return convert


def parse_arguments(argv):
    parser = OneLineParser(description="PyTorch reference throughput of the seed's NIF port.")
    parser.add_argument("--case", required=True, choices=["low-frequency", "high-frequency"])
    parser.add_argument("--threads", required=True, type=positive_number(int))
    length = parser.add_mutually_exclusive_group(required=True)
    length.add_argument("--steps", type=positive_number(int))
    length.add_argument("--epochs", type=positive_number(int))
    parser.add_argument("--grouped", action="store_true")
    parser.add_argument("--batch-size", type=positive_number(int), default=512)
    parser.add_argument("--units", type=positive_number(int), default=30, help="ShapeNet width")
    parser.add_argument("--layers", type=positive_number(int), default=2, help="ShapeNet hidden layers (width x width)")
    parser.add_argument("--snapshots", type=positive_number(int), default=10, help="t values of the wave's grid")
    parser.add_argument("--points", type=positive_number(int), default=200, help="x values per snapshot")
    parser.add_argument("--lr", type=positive_number(float), default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--schedule", choices=sorted(SCHEDULES), default="constant")
    parser.add_argument("--log-every", type=positive_number(int), help="epochs between loss lines")
    parser.add_argument("--formulation", choices=sorted(FORMULATIONS),
                        help="hyper-layer product (default: mul-sum per sample, bmm with --grouped)")
    args = parser.parse_args(argv)
    if args.formulation is None:
        args.formulation = "bmm" if args.grouped else "mul-sum"
    rows = args.snapshots * args.points
    if args.batch_size > rows:
        parser.error(f"--batch-size {args.batch_size} exceeds the {rows} data points")
    if args.epochs is not None:
        args.steps = args.epochs * -(-rows // args.batch_size)
    if args.steps < 10:
        parser.error(f"the run has {args.steps} steps; at least 10 are needed (the first are untimed warm-up)")
    return args


def warmup_steps(steps):
    """Untimed steps at the start: one tenth of the run, at most 50."""
    return min(50, steps // 10)


# ---------------------------------------------------------------------------------------------
# Data (docs/seed-study.md §2, §3)

def traveling_wave(case, snapshots, points):
    """Columns (t̂, x̂, û) as float32 [snapshots·points, 3], rows t-major, normalised as the seed
    does; t = 100 i / snapshots, x = j / points as nif::traveling_wave (the seed's grid is 10 x 200)."""
    omega = 4.0 if case == "low-frequency" else 400.0
    t, x = np.meshgrid(np.arange(snapshots) * (100.0 / snapshots), np.arange(points) / points, indexing="ij")
    s = x - 0.2 - 0.006 * t
    u = np.exp(-1000.0 * s * s) * np.sin(omega * s)
    data = np.stack([t.reshape(-1), x.reshape(-1), u.reshape(-1)], axis=1).astype(np.float32)
    if case == "low-frequency":
        mean, scale = data.mean(axis=0), data.std(axis=0)
    else:
        lo, hi = data.min(axis=0), data.max(axis=0)
        mean, scale = (lo + hi) / 2, (hi - lo) / 2
        mean[2], scale[2] = data[:, 2].mean(), np.abs(data[:, 2]).max()
    return (data - mean) / scale


# ---------------------------------------------------------------------------------------------
# Hyper layer: A_n = X_n · W_n for every n, X [N, R, in], W [N, in, out] -> A [N, R, out].
# Per-sample mode has N = batch, R = 1; grouped mode has N = distinct t̂ (<= 10), R = largest group.
#
# Measured on the 2-core development machine (torch 1.13.1 from Debian, reference BLAS), training
# samples/s, low-frequency, 1 thread, best of 3 runs of 400 steps while other jobs shared the
# machine (so only the ranking is meaningful):
#   per sample   mul-sum 63k   bmm 45k    einsum 41k    -> default mul-sum
#   grouped      bmm 143k      einsum 116k  mul-sum 86k -> default bmm
# The high-frequency case ranks the same. Also tried and dropped: bmm for the 30×30 layers with a
# broadcast product for the 1×30 and 30×1 ones (slower than mul-sum throughout), and
# Adam(foreach=True) (no measurable gain; the seed used the default).

def hyper_bmm(x, w):
    return torch.bmm(x, w)


def hyper_einsum(x, w):
    return torch.einsum("nri,nio->nro", x, w)


def hyper_mul_sum(x, w):
    return (x.unsqueeze(3) * w.unsqueeze(1)).sum(2)


FORMULATIONS = {"bmm": hyper_bmm, "einsum": hyper_einsum, "mul-sum": hyper_mul_sum}


# ---------------------------------------------------------------------------------------------
# Model (docs/seed-study.md §8)

def layer_dims(units, layers):
    """The ShapeNet's (in, out) per layer: 1 -> units, `layers` hidden units x units, units -> 1
    (the seed's is units 30, layers 2, whose flat parameter vector has 1951 values)."""
    return [(1, units)] + [(units, units)] * layers + [(units, 1)]


def shape_parameter_count(dims):
    return sum(i * o + o for i, o in dims)


def split_parameters(p, dims):
    """p [N, shape_parameter_count(dims)] -> ([W_k [N, in, out]], [b_k [N, 1, out]]) in the flat
    layout of docs/seed-study.md §4 (all weights row-major, then all biases). One torch.split rather
    than a slice per tensor: the backward of eight slices allocates and accumulates eight
    zero-filled [N, 1951] gradients, which made a per-sample step several times slower."""
    sizes = [i * o for i, o in dims] + [o for _, o in dims]
    blocks = torch.split(p, sizes, dim=1)
    weights = [w.view(-1, i, o) for w, (i, o) in zip(blocks, dims)]
    biases = [b.unsqueeze(1) for b in blocks[len(dims):]]
    return weights, biases


def truncated_normal_linear(n_in, n_out):
    """nn.Linear with weight and bias from trunc_normal_(std 0.1) (torch's ±2 absolute cut)."""
    layer = torch.nn.Linear(n_in, n_out)
    torch.nn.init.trunc_normal_(layer.weight, std=0.1)
    torch.nn.init.trunc_normal_(layer.bias, std=0.1)
    return layer


def build_parameter_net(shape_parameters):
    """The port's ParameterNet, t̂ [N, 1] -> p [N, shape_parameters]."""

    class Shortcut(torch.nn.Module):
        """h + SiLU(h·W + b), with nn.Linear's default initialisation."""

        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(PNET_UNITS, PNET_UNITS)

        def forward(self, h):
            return h + torch.nn.functional.silu(self.linear(h))

    return torch.nn.Sequential(truncated_normal_linear(1, PNET_UNITS), torch.nn.SiLU(), Shortcut(), Shortcut(),
                               truncated_normal_linear(PNET_UNITS, 1), torch.nn.SiLU(),
                               truncated_normal_linear(1, shape_parameters))


def shape_net(siren, x, p, hyper, dims):
    """ShapeNet of x̂ [N, R, 1] with the parameters p [N, ·] shared by the R rows of each n:
    smooth  s = SiLU(s·W + b) per layer, y = s·WL + bL';  SIREN  s = sin(30·(s·W) + b), y = s·WL.
    bL' is the port's last-bias index N_W + L·n, the first bias of the last hidden layer (p[1920]
    for the seed's shapes)."""
    weights, biases = split_parameters(p, dims)
    s = x
    for w, b in zip(weights[:-1], biases[:-1]):
        a = hyper(s, w)
        s = torch.sin(OMEGA0 * a + b) if siren else torch.nn.functional.silu(a + b)
    y = hyper(s, weights[-1])
    return y if siren else y + biases[-2][:, :, 0:1]


def batch_loss(batch, pnet, siren, grouped, hyper, dims):
    """MSE of the model on a batch of (t̂, x̂, û) rows.

    Per-sample: the ParameterNet runs on every row. Grouped: it runs once per distinct t̂; the rows
    are scattered into a [groups, largest group, 1] block (padding slots hold 0 and are never
    gathered back, so they contribute neither loss nor gradient)."""
    if not grouped:
        y = shape_net(siren, batch[:, 1:2].unsqueeze(1), pnet(batch[:, 0:1]), hyper, dims)
        return torch.nn.functional.mse_loss(y.view(-1), batch[:, 2])
    values, group, counts = torch.unique(batch[:, 0], return_inverse=True, return_counts=True)
    order = torch.argsort(group)
    group = group[order]
    rows = int(counts.max())
    first_row = torch.cumsum(counts, 0) - counts
    slot = group * rows + torch.arange(len(group)) - first_row[group]
    x = torch.zeros(len(values) * rows, 1)
    x[slot] = batch[order, 1:2]
    y = shape_net(siren, x.view(len(values), rows, 1), pnet(values.unsqueeze(1)), hyper, dims)
    return torch.nn.functional.mse_loss(y.view(-1)[slot], batch[order, 2])


# ---------------------------------------------------------------------------------------------
# Training and timing

def seed_lr_factor(epoch):
    """The port's LambdaLR factor for 0-based epoch `epoch` (base lr 1e-4 -> 1e-4, 1e-3, 5e-4, 1e-4)."""
    return 1.0 if epoch < 1000 else 10.0 if epoch < 2000 else 5.0 if epoch < 4000 else 1.0


SCHEDULES = {"constant": lambda epoch: 1.0, "seed": seed_lr_factor}


def dataloader_permutation(points):
    """The order DataLoader(shuffle=True, num_workers=0) visits the points in one epoch, drawn from
    the global RNG as torch 1.13-2.x do it: the iterator's base seed (unused without workers), then
    RandomSampler's own seed, which seeds a fresh Generator for randperm."""
    torch.empty((), dtype=torch.int64).random_()
    seed = int(torch.empty((), dtype=torch.int64).random_().item())
    return torch.randperm(points, generator=torch.Generator().manual_seed(seed))


def full_data_loss(data, pnet, siren, grouped, hyper, dims):
    """MSE over all points without gradient (the loss of the model as it stands)."""
    with torch.no_grad():
        return batch_loss(data, pnet, siren, grouped, hyper, dims).item()


def train(args):
    """Runs args.steps Adam steps; returns (timed samples per second of wall time and of the process's
    CPU time, last epoch's loss, best logged epoch loss). With --log-every K it prints the initial full-data loss and every K-th epoch loss."""
    torch.manual_seed(args.seed)
    data = torch.from_numpy(traveling_wave(args.case, args.snapshots, args.points))
    dims = layer_dims(args.units, args.layers)
    pnet = build_parameter_net(shape_parameter_count(dims))
    optimizer = torch.optim.Adam(pnet.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, SCHEDULES[args.schedule])
    siren = args.case == "high-frequency"
    hyper = FORMULATIONS[args.formulation]
    if args.log_every:
        print(f"epoch 0 loss={full_data_loss(data, pnet, siren, args.grouped, hyper, dims):.6g}", flush=True)
    warmup = warmup_steps(args.steps)
    step, timed_samples, epoch, best = 0, 0, 0, float("inf")
    while step < args.steps:
        permutation = dataloader_permutation(len(data))
        lr = optimizer.param_groups[0]["lr"]
        epoch_losses = []
        for start in range(0, len(data), args.batch_size):
            if step == warmup:
                clock, cpu_clock = time.perf_counter(), time.process_time()
            batch = data[permutation[start:start + args.batch_size]]
            optimizer.zero_grad(set_to_none=True)
            loss = batch_loss(batch, pnet, siren, args.grouped, hyper, dims)
            loss.backward()
            optimizer.step()
            epoch_losses.append(loss.item())
            step += 1
            if step > warmup:
                timed_samples += len(batch)
            if step == args.steps:
                break
        scheduler.step()
        epoch += 1
        if args.log_every and epoch % args.log_every == 0:
            epoch_loss = sum(epoch_losses) / len(epoch_losses)
            best = min(best, epoch_loss)
            print(f"epoch {epoch} loss={epoch_loss:.6g} lr={lr:g}", flush=True)
    seconds, cpu_seconds = time.perf_counter() - clock, time.process_time() - cpu_clock
    final_loss = sum(epoch_losses) / len(epoch_losses)
    return timed_samples / seconds, timed_samples / max(cpu_seconds, 1e-9), final_loss, min(best, final_loss)


def loaded_blas():
    """Path of the BLAS library this process mapped (Linux only). Debian's torch calls whatever
    libblas.so.3 resolves to: netlib's reference BLAS by default, which makes the ParameterNet's
    matrix products several times slower than OpenBLAS."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]}
    except OSError:
        return "unknown"
    return ", ".join(sorted(paths)) or "none mapped"


def main(argv):
    args = parse_arguments(argv)
    if IMPORT_ERROR is not None:
        print(f"torch_reference unavailable: {IMPORT_ERROR}")
        return 3
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    print(f"torch {torch.__version__}, BLAS {loaded_blas()}, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
    dims = layer_dims(args.units, args.layers)
    print(f"ShapeNet {args.units}x{args.layers} ({shape_parameter_count(dims)} parameters), {args.snapshots} x {args.points} points, "
          f"formulation {args.formulation}, batch {args.batch_size}, lr {args.lr:g}, schedule {args.schedule}, "
          f"{warmup_steps(args.steps)} warm-up steps untimed")
    samples_per_s, samples_per_cpu_s, final_loss, best_loss = train(args)
    print(f"torch_reference case={args.case} threads={args.threads} grouped={int(args.grouped)} steps={args.steps} "
          f"samples_per_s={samples_per_s:.1f} samples_per_cpu_s={samples_per_cpu_s:.1f} final_loss={final_loss:.6g} best_loss={best_loss:.6g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
