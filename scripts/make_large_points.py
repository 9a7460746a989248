#!/usr/bin/python3
"""Writes a point table larger than memory for the out-of-core benchmark (README, "Data larger
than memory"): SNAPSHOTS snapshots of POINTS scattered points of a travelling vortex street,
columns (t, x, y, u, v, area) as float32, one snapshot after another, written snapshot by
snapshot through a memory map so that the script itself needs little memory.

    /usr/bin/python3 scripts/make_large_points.py OUT.npy [SNAPSHOTS [POINTS]]

The default 1000 x 250000 rows make 6.0 GB. The same arguments always give the same file.
"""

import sys

import numpy as np


def main():
    out = sys.argv[1]
    snapshots = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    points = int(sys.argv[3]) if len(sys.argv) > 3 else 250_000
    rng = np.random.default_rng(0)
    x = rng.uniform(-2.0, 8.0, points).astype(np.float32)
    y = rng.uniform(-2.0, 2.0, points).astype(np.float32)
    area = np.full(points, 40.0 / points, dtype=np.float32)
    table = np.lib.format.open_memmap(out, mode="w+", dtype=np.float32, shape=(snapshots * points, 6))
    for i in range(snapshots):
        t = np.float32(i * 0.01)
        phase = 2.0 * np.pi * (0.25 * x - t)
        decay = np.exp(-0.5 * y * y) * (x > -0.5)
        rows = slice(i * points, (i + 1) * points)
        table[rows, 0] = t
        table[rows, 1] = x
        table[rows, 2] = y
        table[rows, 3] = 1.0 - 0.3 * decay * np.cos(phase) * y
        table[rows, 4] = 0.4 * decay * np.sin(phase)
        table[rows, 5] = area
    table.flush()


if __name__ == "__main__":
    main()
