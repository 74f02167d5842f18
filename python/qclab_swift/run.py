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
import qclab.dynamics
from qclab import Data

from qclab_swift.errors import CODES_VARIABLE, QCLabSwiftError, split_error_line
from qclab_swift.translate import UntranslatableSimulation, job_from_simulation


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


#: Environment variables by which an MPI launcher tells a process it is one of its ranks.
#: The executable the bridge starts is no rank (the Python process is, if anything), and
#: would refuse a non-MPI driver seeing them: they are left out of its environment.
LAUNCHER_PREFIXES = ("OMPI_", "PMIX_", "PMI_", "HYDRA_")
LAUNCHER_NAMES = ("SLURM_PROCID", "SLURM_STEP_ID", "SLURM_NTASKS")


def _child_environment():
    """This process's environment without an MPI launcher's rank variables."""
    return {
        key: value for key, value in os.environ.items()
        if not key.startswith(LAUNCHER_PREFIXES) and key not in LAUNCHER_NAMES
    }


def _wants_fallback(fallback):
    """Whether an untranslatable simulation runs on QC Lab's own drivers: `fallback`, else
    ``QCLAB_SWIFT_FALLBACK`` (1 or 0; unset is 0)."""
    if fallback is not None:
        if not isinstance(fallback, bool):
            raise ValueError(f"fallback must be True or False, got {type(fallback).__name__} {fallback!r}")
        return fallback
    value = os.environ.get("QCLAB_SWIFT_FALLBACK", "").strip()
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    raise ValueError(f"QCLAB_SWIFT_FALLBACK is '{value}'; set it to 1 (run what cannot be translated on "
                     "QC Lab's own drivers) or 0")


def _job_or_fallback(sim, seeds, fallback, announce=True):
    """The job that runs ``sim`` on ``seeds``, or None when it cannot be translated and the
    user asked for the fallback (said in one line on standard error)."""
    try:
        return job_from_simulation(sim, seeds)
    except UntranslatableSimulation as error:
        if not _wants_fallback(fallback):
            raise
        if announce:
            reason = str(error).split("; the qclab executable cannot run Python")[0]
            print(f"qclab_swift: running on QC Lab's own drivers (fallback): {reason}", file=sys.stderr, flush=True)
        return None


def _execute(executable, job, folder, extra_arguments):
    """Runs ``job`` with the executable in ``folder``; the path of its output file."""
    job_path = os.path.join(folder, "job.json")
    out_path = os.path.join(folder, "out.h5")
    with open(job_path, "w") as f:
        json.dump(job, f, allow_nan=False)
    completed = subprocess.run(
        [executable, "run", job_path, "--output", out_path, *extra_arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**_child_environment(), CODES_VARIABLE: "1"},
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
    return out_path


def _read_checked(executable, path):
    try:
        return _read_output(path)
    except OSError as error:
        raise QCLabSwiftError(f"the output {executable} wrote cannot be read: {error}") from None


def _prepared_job(sim, seeds, data, fallback):
    """The seeds and the job (None: run on QC Lab's drivers), checked as QC Lab's drivers would."""
    seeds = _seeds_for(sim, seeds, data)
    _check_settings(sim.settings)
    job = _job_or_fallback(sim, seeds, fallback)
    if job is not None:
        job["settings"]["num_trajs"] = len(seeds)
    return seeds, job


def _run(sim, seeds, data, extra_arguments, fallback, qclab_driver):
    given_seeds = seeds
    seeds, job = _prepared_job(sim, seeds, data, fallback)
    if job is None:
        return qclab_driver(sim, seeds=None if given_seeds is None else seeds, data=data)
    executable = find_executable()
    with tempfile.TemporaryDirectory(prefix="qclab_swift-") as folder:
        new_data = _read_checked(executable, _execute(executable, job, folder, extra_arguments))
    if data is None:
        data = Data()
    data.add_data(new_data)
    return data


def serial_driver(sim, seeds=None, data=None, fallback=None):
    """QC Lab's ``serial_driver``, run by the ``qclab`` executable (``--driver serial``).

    Returns ``data`` (a new ``qclab.Data`` if ``None``) with the new trajectories added.
    A simulation that cannot be translated raises ``UntranslatableSimulation``, or with
    ``fallback=True`` (or ``QCLAB_SWIFT_FALLBACK=1``) runs on QC Lab's own ``serial_driver``.
    """
    return _run(sim, seeds, data, ["--driver", "serial"], fallback, qclab.dynamics.serial_driver)


def parallel_driver_multiprocessing(sim, seeds=None, data=None, num_tasks=None, fallback=None):
    """QC Lab's ``parallel_driver_multiprocessing``, run by forked workers of the ``qclab`` executable.

    ``num_tasks`` workers (default: the cores this process may use). The result is the
    same, to the bit, as ``serial_driver``'s. ``fallback`` as for ``serial_driver``.
    """
    arguments = ["--driver", "multiprocessing"]
    if num_tasks is not None:
        _check_num_tasks(num_tasks, "worker processes", "or None for all cores")
        arguments += ["--num-tasks", str(int(num_tasks))]

    def qclab_driver(sim, seeds=None, data=None):
        return qclab.dynamics.parallel_driver_multiprocessing(sim, seeds=seeds, data=data, num_tasks=num_tasks)

    return _run(sim, seeds, data, arguments, fallback, qclab_driver)


def _check_num_tasks(num_tasks, what, default):
    if isinstance(num_tasks, bool) or not isinstance(num_tasks, numbers.Integral):
        raise ValueError(f"num_tasks must be a whole number of {what} ({default}), "
                         f"got {type(num_tasks).__name__} {num_tasks!r}")
    if num_tasks < 1:
        raise ValueError(f"num_tasks must be at least 1 (the number of {what}), got {num_tasks}")


def _seed_ranges(seeds, batch_size, tasks):
    """Each task's seeds: whole batches, split as QC Lab's ``parallel_driver_mpi`` splits them."""
    num_batches = -(-len(seeds) // batch_size)
    bounds = np.linspace(0, num_batches, tasks + 1, dtype=int)
    return [seeds[bounds[r] * batch_size: bounds[r + 1] * batch_size] for r in range(tasks)]


def parallel_driver_mpi(sim, seeds=None, data=None, num_tasks=None, fallback=None):
    """QC Lab's ``parallel_driver_mpi``: under ``mpirun -n K python script.py`` (mpi4py), each
    rank runs its share of the batches with the ``qclab`` executable, and rank 0 merges
    the shares' exact sums (``qclab merge``) into the same bits as ``serial_driver``'s.

    Rank 0 returns ``data`` (a new ``qclab.Data`` if ``None``) with every trajectory
    added; the other ranks return ``data`` as given (a new one if ``None``), as QC Lab's
    driver does. ``num_tasks``: the ranks that run trajectories (default all; at most
    the number of ranks). New seeds continue after rank 0's ``data`` on every rank.
    ``fallback`` as for ``serial_driver`` (QC Lab's ``parallel_driver_mpi``). A failure
    on any rank is raised on every rank, naming the rank and its seeds.
    """
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError("The package mpi4py is required for the parallel_driver_mpi driver.") from None
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    if num_tasks is None:
        num_tasks = size
    _check_num_tasks(num_tasks, "MPI ranks that run trajectories", "or None for every rank")
    if num_tasks > size:
        raise ValueError(f"num_tasks is {num_tasks}, more than the {size} MPI ranks this script was started with")
    given_seeds = seeds
    seeds = _seeds_for(sim, seeds, data)
    # Rank 0's seeds for every rank: only rank 0's data holds the earlier trajectories
    # (the other ranks' returned data has none), and new seeds continue after them.
    seeds = comm.bcast(seeds, root=0)
    sim.settings.num_trajs = len(seeds)
    _check_settings(sim.settings)
    job = _job_or_fallback(sim, seeds, fallback, announce=rank == 0)
    if job is None:
        return qclab.dynamics.parallel_driver_mpi(sim, seeds=None if given_seeds is None else seeds, data=data,
                                                  num_tasks=num_tasks)
    if data is None:
        data = Data()
    batch_size = int(sim.settings.batch_size) if sim.settings.get("batch_size") else len(seeds)
    mine = _seed_ranges(seeds, max(batch_size, 1), num_tasks)[rank] if rank < num_tasks else seeds[:0]
    # Each rank runs its share; every rank hears of any failure, so that none waits for
    # a rank that is gone and every rank raises the same error.
    part, failure = None, None
    if len(mine):
        try:
            executable = find_executable()
            rank_job = dict(job, seeds=[int(s) for s in mine], settings=dict(job["settings"], num_trajs=len(mine)))
            with tempfile.TemporaryDirectory(prefix="qclab_swift-") as folder:
                with open(_execute(executable, rank_job, folder, ["--driver", "serial", "--mergeable"]), "rb") as f:
                    part = f.read()
        except (QCLabSwiftError, OSError) as error:
            failure = (f"rank {rank} (seeds {int(mine[0])}...{int(mine[-1])}): {error}", getattr(error, "code", None))
    failures = [f for f in comm.allgather(failure) if f]
    if failures:
        codes = {code for _, code in failures}
        raise QCLabSwiftError("; ".join(message for message, _ in failures), codes.pop() if len(codes) == 1 else None)
    parts = comm.gather(part, root=0)
    merged, failure = None, None
    if rank == 0:
        try:
            merged = _merged_parts(find_executable(), [p for p in parts if p is not None])
        except (QCLabSwiftError, OSError) as error:
            failure = f"rank 0 merging the ranks' outputs: {error}"
    failure = comm.bcast(failure, root=0)
    if failure:
        raise QCLabSwiftError(failure)
    if rank == 0:
        data.add_data(merged)
    return data


def _merged_parts(executable, parts):
    """The ranks' output files (bytes, in seed order) merged by ``qclab merge`` and read back."""
    with tempfile.TemporaryDirectory(prefix="qclab_swift-") as folder:
        paths = []
        for index, part in enumerate(parts):
            paths.append(os.path.join(folder, f"part{index}.h5"))
            with open(paths[-1], "wb") as f:
                f.write(part)
        if len(paths) == 1:
            return _read_checked(executable, paths[0])
        out_path = os.path.join(folder, "merged.h5")
        completed = subprocess.run([executable, "merge", *paths, "--output", out_path], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env={**_child_environment(), CODES_VARIABLE: "1"})
        if completed.returncode != 0:
            lines = [line for line in completed.stderr.splitlines() if line.strip()]
            code, reason = split_error_line(lines[-1]) if lines else (None, f"qclab merge: exit status {completed.returncode}")
            raise QCLabSwiftError(reason, code)
        return _read_checked(executable, out_path)
