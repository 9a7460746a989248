#!/usr/bin/python3
"""Regenerates the point-table fixtures in tests/data/npz/ read by tests/nif/test_data.cpp and
tests/experiments/test_faults.cpp: archives written the way people write them with numpy.

Run with Debian's interpreter (apt-get install python3-numpy): /usr/bin/python3 make_table_fixtures.py
"""

import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npz")


def table():
    """12 points of a small field: t, x, u, area (area > 0)."""
    t = np.repeat(np.array([0.0, 0.5, 1.0], dtype=np.float32), 4)
    x = np.tile(np.array([0.0, 0.25, 0.5, 0.75], dtype=np.float32), 3)
    u = np.sin(2 * np.pi * (x - 0.1 * t)).astype(np.float32)
    area = np.full(12, 0.25, dtype=np.float32)
    return np.stack([t, x, u, area], axis=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    data = table()
    # Like the cylinder datasets: a table, its column names as a string array, and scalars.
    np.savez(os.path.join(OUT, "named_columns.npz"), data=data, columns=np.array(["t", "x", "u", "area"]),
             Re=np.float64(100.0), n_snapshots=np.int64(3))
    np.savez_compressed(os.path.join(OUT, "named_columns_compressed.npz"), data=data,
                        columns=np.array(["t", "x", "u", "area"]))
    # One 1-d array per quantity: no table to choose.
    np.savez(os.path.join(OUT, "one_array_each.npz"), t=data[:, 0], x=data[:, 1], u=data[:, 2])
    # Two tables: ambiguous without FILE.npz:MEMBER.
    np.savez(os.path.join(OUT, "two_tables.npz"), train=data, test=data[:4] * 2)
    # float64 values beyond float32's range (row 2, column 1).
    wide = data.astype(np.float64)
    wide[2, 1] = 1e300
    np.savez(os.path.join(OUT, "beyond_float.npz"), data=wide)


if __name__ == "__main__":
    main()
