"""QC Lab's drivers, with the trajectories run by the ``qclab`` executable."""

import json
import math
import numbers
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from qclab import Data

from qclab_swift.errors import CODES_VARIABLE, QCLabSwiftError, split_error_line
from qclab_swift.translate import job_from_simulation


def find_executable():
    """The ``qclab`` executable: ``$QCLAB_SWIFT_BIN`` if set, else ``qclab`` on ``PATH``."""
    given = os.environ.get("QCLAB_SWIFT_BIN")
    if given:
        if not (os.path.isfile(given) and os.access(given, os.X_OK)):
            raise QCLabSwiftError(f"QCLAB_SWIFT_BIN is '{given}', which is not an executable file")
        return given
    found = shutil.which("qclab")
    if found is None:
        raise QCLabSwiftError(
            "the qclab executable is not on PATH; build it (swift build -c release) and set "
            "QCLAB_SWIFT_BIN=/path/to/.build/release/qclab"
        )
    return found


#: The largest seed (QC Lab's seeds are 32-bit).
LARGEST_SEED = 2**32 - 1


def _checked_seeds(seeds):
    """``seeds`` as a one-dimensional integer array, or ValueError naming what is wrong.

    Never rounded, flattened or wrapped: ``[0.7, 1.2]`` is refused, not run as 0 and 1.
    """
    array = np.asarray(seeds)
    if array.ndim != 1:
        raise ValueError(f"seeds must be a one-dimensional list of whole numbers, got an array of shape {array.shape}")
    if array.size and not (np.issubdtype(array.dtype, np.integer) and array.dtype != np.bool_):
        bad = next((x for x in array.tolist() if isinstance(x, bool) or not isinstance(x, numbers.Integral)), array[0])
        raise ValueError(f"seeds must be whole numbers, got {bad!r} (dtype {array.dtype}); they are never rounded")
    if array.size and (array.min() < 0 or array.max() > LARGEST_SEED):
        bad = array.min() if array.min() < 0 else array.max()
        raise ValueError(f"seeds must be in 0 ... {LARGEST_SEED}, got {int(bad)}")
    return array.astype(np.int64)


def _seeds_for(sim, seeds, data):
    """The seeds to run, chosen as QC Lab's drivers choose them."""
    if seeds is None:
        previous = np.asarray(data.data_dict["seed"]) if data is not None else np.array([], dtype=int)
        offset = int(np.max(previous)) + 1 if len(previous) > 0 else 0
        return offset + np.arange(sim.settings.num_trajs, dtype=int)
    seeds = _checked_seeds(seeds)
    sim.settings.num_trajs = len(seeds)
    return seeds


def _check_settings(settings):
    """The simulation settings the job carries, checked here so that a bad one is named as
    ``sim.settings.<name>`` (never as a line of a temporary job file the user never saw)."""
    for name in ("tmax", "dt_update", "dt_collect"):
        value = settings.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"sim.settings.{name} must be a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(float(value)):
            raise ValueError(f"sim.settings.{name} is {float(value)}; it must be a finite number")
    for name in ("num_trajs", "batch_size"):
        value = settings.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
            raise ValueError(f"sim.settings.{name} must be a whole number, got {type(value).__name__} {value!r}")


#: Datasets of our files that QC Lab's ``Data`` does not have: error bars and the exact
#: sums behind them (``<name>_sem``, ``num_samples``, ``<name>_exact``, ``exact_sums``).
#: ``Data.add_data`` would average them by ``norm_factor``, which is meaningless for them.
def _ours_only(key):
    return key.endswith("_sem") or key.endswith("_exact") or key in ("num_samples", "exact_sums")


def _read_output(path):
    """Our HDF5 output as a ``qclab.Data`` holding QC Lab's datasets (error bars and exact sums left out)."""
    new_data = Data()
    with h5py.File(path, "r") as f:
        for key in f.keys():
            if _ours_only(key):
                continue
            value = f[key][()]
            new_data.data_dict[key] = int(value) if key == "norm_factor" else value
        log = f.attrs.get("log", "")
        new_data.log = log.decode() if isinstance(log, bytes) else str(log)
    return new_data


def _run(sim, seeds, data, extra_arguments):
    executable = find_executable()
    seeds = _seeds_for(sim, seeds, data)
    _check_settings(sim.settings)
    job = job_from_simulation(sim, seeds)
    job["settings"]["num_trajs"] = len(seeds)
    with tempfile.TemporaryDirectory(prefix="qclab_swift-") as folder:
        job_path = os.path.join(folder, "job.json")
        out_path = os.path.join(folder, "out.h5")
        with open(job_path, "w") as f:
            json.dump(job, f, allow_nan=False)
        completed = subprocess.run(
            [executable, "run", job_path, "--output", out_path, *extra_arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, CODES_VARIABLE: "1"},
        )
        if completed.returncode != 0:
            lines = [line for line in completed.stderr.splitlines() if line.strip()]
            code, reason = split_error_line(lines[-1]) if lines else (None, f"exit status {completed.returncode}")
            # The job file is ours, not the user's: name what it was made from instead.
            raise QCLabSwiftError(reason.replace(f"job file '{job_path}'", "the simulation (sim)").replace(job_path, "the job"),
                                  code)
        for line in completed.stderr.splitlines():
            if line.strip():
                print(line, file=sys.stderr)
        if not os.path.isfile(out_path):
            raise QCLabSwiftError(
                f"{executable} exited with status 0 but wrote no output; is it the qclab executable "
                "(QCLAB_SWIFT_BIN, or qclab on PATH)?"
            )
        try:
            new_data = _read_output(out_path)
        except OSError as error:
            raise QCLabSwiftError(f"the output {executable} wrote cannot be read: {error}") from None
    if data is None:
        data = Data()
    data.add_data(new_data)
    return data


def serial_driver(sim, seeds=None, data=None):
    """QC Lab's ``serial_driver``, run by the ``qclab`` executable (``--driver serial``).

    Returns ``data`` (a new ``qclab.Data`` if ``None``) with the new trajectories added.
    """
    return _run(sim, seeds, data, ["--driver", "serial"])


def parallel_driver_multiprocessing(sim, seeds=None, data=None, num_tasks=None):
    """QC Lab's ``parallel_driver_multiprocessing``, run by forked workers of the ``qclab`` executable.

    ``num_tasks`` workers (default: the cores this process may use). The result is the
    same, to the bit, as ``serial_driver``'s.
    """
    arguments = ["--driver", "multiprocessing"]
    if num_tasks is not None:
        if isinstance(num_tasks, bool) or not isinstance(num_tasks, numbers.Integral):
            raise ValueError(f"num_tasks must be a whole number of worker processes (or None for all cores), "
                             f"got {type(num_tasks).__name__} {num_tasks!r}")
        if num_tasks < 1:
            raise ValueError(f"num_tasks must be at least 1 (the number of worker processes), got {num_tasks}")
        arguments += ["--num-tasks", str(int(num_tasks))]
    return _run(sim, seeds, data, arguments)
