#!/usr/bin/env python3
"""Tutorial: Neural Implicit Flow on a traveling wave, from numpy, with nifcpp.

    PYTHONPATH=build/python python3 examples/tutorial.py               # 5000 epochs, under a minute
    PYTHONPATH=build/python python3 examples/tutorial.py --epochs 200  # a quick look

It writes into --out (default runs/tutorial): the run folder (checkpoint, log), loss.png and
fields.png. --arch chooses the architecture (default pytorch, the seed's; with --arch nif, the
default of `nif train --data`, the training loss ends far lower, 2.7e-6 against 2.0e-4, but the
field oscillates between the 200 sampled x of each snapshot: compare the pictures). Steps:
 1. the data: the seed study's low-frequency wave u(x, t), as a numpy array of points (t, x, u);
 2. training: a ParameterNet maps t to the weights of a ShapeNet that maps x to u;
 3. the loss curve;
 4. save and load: the checkpoint holds the model, its config and the data's normalisation;
 5. prediction in physical units, on the training grid and between the snapshots, and the
    derivative du/dx from the model's input derivatives (Model.derivatives).
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import nifcpp  # noqa: E402


def wave(t, x):
    """The seed's low-frequency traveling wave: a Gaussian packet moving right at 0.006 per unit t."""
    s = x - 0.2 - 0.006 * t
    return np.exp(-1000 * s**2) * np.sin(4 * s)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--out", default="runs/tutorial")
    parser.add_argument("--arch", default="pytorch", help="architecture (nif train --arch)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    # 1. Data: 10 snapshots (t = 0, 10, ..., 90) of 200 points x in [0, 1), one row per point.
    t, x = np.meshgrid(10.0 * np.arange(10), 0.005 * np.arange(200), indexing="ij")
    points = np.column_stack([t.ravel(), x.ravel(), wave(t, x).ravel()]).astype(np.float32)
    # nifcpp.traveling_wave() is the same table exactly as the seed computed it.
    assert np.allclose(points, nifcpp.traveling_wave("low-frequency"), atol=1e-6)

    # 2. Training: column 0 feeds the ParameterNet, column 1 the ShapeNet, column 2 is the target.
    # Keywords are the options of `nif train` (arch, optimizer, batch_size, seed, threads, ...);
    # force=True starts the tutorial's run folder over when the tutorial is run again.
    run = nifcpp.train(points, param_cols=0, input_cols=1, output_cols=2, arch=args.arch, epochs=args.epochs, seed=1,
                       out=os.path.join(args.out, "run"), force=True)
    print(f"trained {len(run.history)} epochs in {run.metrics['train_s']:.1f} s: "
          f"final loss {run.metrics['final_loss']:.3e} (normalised MSE), {run.metrics['samples_per_s']:.0f} samples/s")

    # 3. The loss curve.
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.semilogy(run.history["epoch"], run.history["loss"])
    ax.set(xlabel="epoch", ylabel="training loss (normalised MSE)", title=f"{run.metrics['architecture']} architecture")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "loss.png"), dpi=120)

    # 4. Save and load: training saved run.out/checkpoint.npz; any later session loads it.
    model = nifcpp.load(os.path.join(run.out, "checkpoint.npz"))

    # 5. Prediction in physical units, on a grid of t (snapshots and the times between them) and x.
    tq, xq = np.meshgrid(np.linspace(0, 90, 91), np.linspace(0, 1, 400), indexing="ij")
    u_pred = model.predict(tq.ravel(), xq.ravel()).reshape(tq.shape)
    u_true = wave(tq, xq)
    error = u_pred - u_true
    seen = np.isin(tq[:, 0], 10.0 * np.arange(10))
    for name, rows in (("snapshots", seen), ("between them", ~seen)):
        rel = np.linalg.norm(error[rows]) / np.linalg.norm(u_true[rows])
        print(f"relative L2 error, {name}: {rel:.3e}")

    # du/dx from the model's exact input derivatives (forward mode through the network), in
    # physical units; the true one by central differences of the wave.
    h = 1e-3
    t45, x45 = np.full(400, 45.0), np.linspace(0.2, 0.8, 400)
    dudx = model.derivatives(t45, x45)["du_dx"][:, 0, 0]
    dudx_true = (wave(45.0, x45 + h) - wave(45.0, x45 - h)) / (2 * h)
    print(f"du/dx at t = 45: max |error| {np.abs(dudx - dudx_true).max():.3e} (max |du/dx| {np.abs(dudx_true).max():.3e})")

    # The latent code of each t (the ParameterNet's bottleneck) and the ShapeNet weights it makes.
    print(f"latent code per t: {model.latent(np.array([45.0])).shape[1]} values; "
          f"ShapeNet parameters per t: {model.shape_parameters(np.array([45.0])).shape[1]}")

    plot_fields(os.path.join(args.out, "fields.png"), u_true, u_pred, (x45, dudx_true, dudx))
    print(f"pictures: {os.path.join(args.out, 'loss.png')}, {os.path.join(args.out, 'fields.png')}")


def plot_fields(path, u_true, u_pred, derivative):
    """True, predicted and error fields over (t, x), and du/dx (x, true, model) at t = 45."""
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.5))
    for ax, field, title in ((axes[0], u_true, "true u"), (axes[1], u_pred, "predicted u"),
                             (axes[2], u_pred - u_true, "error")):
        image = ax.imshow(field, aspect="auto", extent=(0, 1, 90, 0), cmap="RdBu_r")
        ax.set(xlabel="x", ylabel="t", title=title)
        fig.colorbar(image, ax=ax)
    x, true, model = derivative
    axes[3].plot(x, true, label="true")
    axes[3].plot(x, model, "--", label="model")
    axes[3].set(xlabel="x", title="du/dx at t = 45")
    axes[3].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
