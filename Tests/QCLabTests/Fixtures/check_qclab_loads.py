#!/usr/bin/env python3
"""
Checks that QC Lab itself reads an HDF5 file written by QCLab for Swift.

Usage:

    python check_qclab_loads.py OUT.h5 [--expect EXPECT.json]

Loads OUT.h5 with ``qclab.Data().load`` (qclab 1.3.0 with h5py), prints a summary
and exits non-zero if the contents do not have QC Lab's layout: ``seed`` a 1-D
integer array, ``norm_factor`` an integer, ``log`` a str, every output an array of
float64 or complex128 whose first axis is the time axis of ``t``, and every
``<name>_sem`` shaped and typed like ``<name>``. The exact sums QCLab for Swift adds
(``<name>_exact``, int64 of shape ``<name>.shape (+ (2,) if complex) + (10,)``, and
``exact_sums``, int64 ``[format, norm_factor, num_samples]``) are checked too.

With ``--expect``, EXPECT.json also pins the values:
``{"seed": [...], "norm_factor": n, "log": "...", "means": {name: [numbers]}}``,
complex means given as interleaved re, im; means must match bit for bit.

Meant for CI (optional, needs the reference environment):

    (from the package root) .build/qclab-ref/bin/python Tests/QCLabTests/Fixtures/check_qclab_loads.py OUT.h5
"""

import argparse
import json
import sys

import numpy as np
import qclab

RESERVED = {"seed", "norm_factor", "num_samples", "exact_sums"}
EXACT_VALUES = 10


def check_layout(data):
    """Returns a list of problems with the layout of a loaded qclab.Data."""
    d, problems = data.data_dict, []
    seed = np.asarray(d.get("seed"))
    if seed.ndim != 1 or seed.dtype.kind not in "iu":
        problems.append(f"seed: expected a 1-D integer array, got {seed.dtype} {seed.shape}")
    norm = np.asarray(d.get("norm_factor"))
    if norm.shape != () or norm.dtype.kind not in "iu" or int(norm) < 0:
        problems.append(f"norm_factor: expected a non-negative integer scalar, got {norm!r}")
    if not isinstance(data.log, str):
        problems.append(f"log: expected str, got {type(data.log).__name__}")
    times = len(d["t"]) if "t" in d else None
    for name, value in d.items():
        if name in RESERVED:
            continue
        if name.endswith("_exact") and name[: -len("_exact")] in d:
            base = d[name[: -len("_exact")]]
            expected = base.shape + ((2,) if base.dtype == np.complex128 else ()) + (EXACT_VALUES,)
            if value.dtype != np.int64 or value.shape != expected:
                problems.append(f"{name}: {value.dtype} {value.shape}, expected int64 {expected}")
            continue
        if value.dtype not in (np.float64, np.complex128):
            problems.append(f"{name}: expected float64 or complex128, got {value.dtype}")
        if times is not None and (value.ndim == 0 or value.shape[0] != times):
            problems.append(f"{name}: shape {value.shape} does not start with {times} time points")
        base = name[: -len("_sem")]
        if name.endswith("_sem") and base in d:
            if d[base].shape != value.shape or d[base].dtype != value.dtype:
                problems.append(f"{name}: {value.dtype} {value.shape} does not match {base}")
    return problems


def check_values(data, expect):
    """Returns a list of differences between a loaded qclab.Data and EXPECT.json."""
    d, problems = data.data_dict, []
    if list(map(int, d["seed"])) != expect["seed"]:
        problems.append(f"seed: {list(map(int, d['seed']))} != {expect['seed']}")
    if int(d["norm_factor"]) != expect["norm_factor"]:
        problems.append(f"norm_factor: {int(d['norm_factor'])} != {expect['norm_factor']}")
    if data.log != expect["log"]:
        problems.append(f"log: {data.log!r} != {expect['log']!r}")
    for name, numbers in expect["means"].items():
        if name not in d:
            problems.append(f"{name}: missing")
            continue
        ours = np.asarray(d[name]).ravel()
        if ours.dtype == np.complex128:
            ours = ours.view(np.float64)
        theirs = np.asarray(numbers, dtype=np.float64)
        if ours.shape != theirs.shape or not np.array_equal(ours, theirs):
            bad = int(np.sum(ours != theirs)) if ours.shape == theirs.shape else "all"
            problems.append(f"{name}: {bad} value(s) differ from the expectation")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--expect", help="JSON file with the expected seed, norm_factor, log and means")
    args = parser.parse_args()
    try:
        data = qclab.Data().load(args.path)
    except Exception as error:  # any failure to load is the failure we test for
        print(f"FAIL: qclab {qclab.__version__} cannot load {args.path}: {error!r}")
        return 1
    print(f"qclab {qclab.__version__} loaded {args.path}:")
    for name, value in data.data_dict.items():
        value = np.asarray(value)
        print(f"  {name}: {value.dtype} {value.shape}")
    print(f"  norm_factor = {int(data.data_dict['norm_factor'])}, "
          f"{len(data.data_dict['seed'])} seeds, log of {len(data.log)} characters")
    problems = check_layout(data)
    if args.expect:
        with open(args.expect, encoding="utf-8") as handle:
            problems += check_values(data, json.load(handle))
    for problem in problems:
        print(f"FAIL: {problem}")
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
