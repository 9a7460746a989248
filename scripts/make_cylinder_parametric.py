#!/usr/bin/python3
"""Builds the cylinder's parametric table: Re becomes a column beside t.

The three cylinder files (data/cylinder_re{80,100,120}.npz) hold Re as a scalar member and a
table with columns t, x, y, u, v, area. NIF's ParameterNet takes (t, Re) in the parametric study,
so this writes one table with columns t, Re, x, y, u, v, area (the files one after the other, in
the order given) and a `columns` member naming them.

    scripts/make_cylinder_parametric.py [--out data/cylinder_params.npz] [FILE ...]

Needs python3 and numpy (Debian: python3-numpy).
"""
import argparse
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_INPUTS = [ROOT / "data" / f"cylinder_re{re}.npz" for re in (80, 100, 120)]
INPUT_COLUMNS = ["t", "x", "y", "u", "v", "area"]


def with_re_column(path):
    with np.load(path) as z:
        columns = [str(c) for c in z["columns"]]
        if columns != INPUT_COLUMNS:
            sys.exit(f"{path}: columns {columns}, expected {INPUT_COLUMNS}")
        data = z["data"].astype(np.float32)
        re = np.full((data.shape[0], 1), float(z["Re"]), dtype=np.float32)
    return np.hstack([data[:, :1], re, data[:, 1:]])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=pathlib.Path, default=DEFAULT_INPUTS)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "data" / "cylinder_params.npz")
    args = parser.parse_args()
    table = np.vstack([with_re_column(f) for f in args.files])
    np.savez(args.out, data=table, columns=np.array(["t", "Re"] + INPUT_COLUMNS[1:]))
    print(f"{args.out}: {table.shape[0]} rows, columns t, Re, x, y, u, v, area")


if __name__ == "__main__":
    main()
