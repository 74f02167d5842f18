#!/usr/bin/env python3
"""
Side-by-side comparison of QCLab for Swift with QC Lab 1.3.0 (the Python package).

Run it through scripts/compare.sh, which creates the reference venv (qclab==1.3.0,
h5py), builds `qclab` in release mode and then runs this script with the venv's
Python:

    scripts/compare.sh [--workloads a,b] [--skip-qclab] [--repeat N]

For every workload of ../shared/workloads.json and Benchmarks/workloads-lattice.json (the
Holstein lattice at N = 100 and 200) it runs, each in a subprocess of its own:

* QC Lab serial: a fresh Python process that imports qclab, warms up (runs the same
  model and algorithm on a tiny job, so that numba compiles everything), then times
  `qclab.dynamics.serial_driver` on the workload (progress bar off) and saves the
  result with `Data.save`;
* ours serial: `.build/release/qclab run JOB --output OUT.h5`;
* ours multiprocessing: the same with `--driver multiprocessing --num-tasks 2`;
* ours MPI: `mpirun --oversubscribe -n 2 .build/release/qclab run ... --driver mpi`.

It prints a Markdown table (and writes it to Benchmarks/results/latest.md) with the
seconds, trajectory-steps per second, peak memory, the speed-up QC Lab / ours, and
whether our output agrees with QC Lab's (every array within
|ours - theirs| <= 1e-6 + 1e-5 |theirs|). Per workload it also gives the file sizes (ours by
default, ours --mergeable, QC Lab's), the exact reduction's share of our serial run (perf
samples, in one more run under `perf record`; "n/a" without perf), and how the ratio to
QC Lab grows with the Holstein lattice's N. A run that fails shows "error" (or "n/a" when
the driver is not available) in its cells; it never stops the table.

This file is also the QC Lab worker: `compare.py --qclab-worker JOB.json OUT.h5 RESULT.json`,
and the exact-share measurement alone: `compare.py --exact-share [--binary BIN] [JOB.json ...]`
(scripts/exact-share.sh).
"""

import argparse
import copy
import datetime
import hashlib
import json
import math
import os
import platform
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The shared workloads, then the repository's own (the Holstein lattice at N = 100 and 200).
DEFAULT_WORKLOADS = [
    os.path.join(os.path.dirname(REPO), "shared", "workloads.json"),
    os.path.join(REPO, "Benchmarks", "workloads-lattice.json"),
]
RESULTS = os.path.join(REPO, "Benchmarks", "results")
CACHE = os.path.join(REPO, "Benchmarks", ".build", "compare")
QCLAB_TIMES = os.path.join(RESULTS, "qclab-times.json")

# Targets: QC Lab serial seconds / ours serial seconds, the goals of the performance issue
# (Benchmarks/README.md); None: reported without a target.
TARGETS = {
    "spin_boson_mf": 25, "spin_boson_fssh": 25, "fmo_mf": 25, "fmo_fssh": None,
    "holstein50_fssh": 15, "tully1_fssh": 100, "spin_boson_msmash": 25, "cacA_fssh": 25,
    # The lattice grown (Benchmarks/workloads-lattice.json): N = 100 is reported only.
    "holstein100_fssh": None, "holstein200_fssh": 20,
}
ALTERNATIVE_TARGETS = {}
# The Holstein lattice workloads by N, for the growth section (those present are shown).
LATTICE = [(50, "holstein50_fssh"), (100, "holstein100_fssh"), (200, "holstein200_fssh")]
ABS_TOL, REL_TOL = 1e-6, 1e-5


# ---------------------------------------------------------------------------
# QC Lab worker (runs inside the reference venv, in a process of its own)
# ---------------------------------------------------------------------------

def build_simulation(job):
    """A qclab Simulation and seeds from a job dict (../shared/job-format.md layout)."""
    import numpy as np
    import qclab
    import qclab.algorithms
    import qclab.ingredients
    import qclab.models

    settings = dict(job.get("settings", {}))
    settings["progress_bar"] = False
    sim = qclab.Simulation(settings)
    spec = job["model"]
    sim.model = getattr(qclab.models, spec["name"])(dict(spec.get("constants", {})))
    init_classical = spec.get("init_classical")
    if init_classical is not None:
        # Model.get scans the ingredients from the end, so an appended entry wins.
        sim.model.ingredients.append(
            ("init_classical", getattr(qclab.ingredients, "init_classical_" + init_classical)))
    alg = job.get("algorithm", {"name": "MeanField"})
    sim.algorithm = getattr(qclab.algorithms, alg["name"])(dict(alg.get("settings", {})))
    wf = []
    for entry in job["initial_state"]["wf_db"]:
        wf.append(complex(float(entry[0]), float(entry[1])) if isinstance(entry, list) else complex(float(entry)))
    sim.initial_state["wf_db"] = np.array(wf, dtype=complex)
    seeds = job.get("seeds")
    return sim, (np.array(seeds, dtype=int) if seeds is not None else None)


def warmup_job(job):
    """The same model and algorithm on a tiny job: a few trajectories, two collect intervals."""
    tiny = copy.deepcopy(job)
    tiny.pop("seeds", None)
    settings = tiny.setdefault("settings", {})
    alg = tiny.get("algorithm", {})
    deterministic = alg.get("settings", {}).get("fssh_deterministic", False)
    trajs = len(job["initial_state"]["wf_db"]) if deterministic else 2
    settings["num_trajs"] = trajs
    settings["batch_size"] = trajs
    settings["tmax"] = 2 * settings.get("dt_collect", 0.1)
    return tiny


def qclab_worker(job_path, out_path, result_path):
    import qclab
    import qclab.dynamics

    with open(job_path, encoding="utf-8") as handle:
        job = json.load(handle)
    start = time.perf_counter()
    sim, seeds = build_simulation(warmup_job(job))
    qclab.dynamics.serial_driver(sim, seeds=seeds)
    warmup = time.perf_counter() - start

    sim, seeds = build_simulation(job)
    start = time.perf_counter()
    data = qclab.dynamics.serial_driver(sim, seeds=seeds)
    seconds = time.perf_counter() - start
    data.save(out_path)
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump({"seconds": seconds, "warmup_seconds": warmup, "qclab": qclab.__version__}, handle)
    return 0


# ---------------------------------------------------------------------------
# Running a subprocess: wall time, rusage, sampled memory of its process tree
# ---------------------------------------------------------------------------

PAGE = os.sysconf("SC_PAGE_SIZE")


def process_tree_rss(root):
    """Summed resident memory (bytes) of `root` and all its descendants, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            pass
        stack.extend(children.get(pid, []))
    return total


def failure_reason(output, status):
    """The most telling line of a failed run's output: the first that mentions an error
    (our executable prints a one-line reason; mpirun adds banners after it), else the last."""
    lines = [line.strip() for line in output.splitlines()
             if line.strip() and not set(line.strip()) <= set("-=*_ ")]
    telling = [line for line in lines if "error" in line.lower()]
    reason = (telling[0] if telling else lines[-1]) if lines else ""
    return f"exit status {status}" + (f": {reason[:300]}" if reason else "")


class RunResult:
    def __init__(self, ok, seconds=None, maxrss=None, tree_rss=None, status=None, message=""):
        self.ok = ok
        self.seconds = seconds        # wall seconds of the whole process
        self.maxrss = maxrss          # bytes: largest single process of the tree (wait4)
        self.tree_rss = tree_rss      # bytes: sampled peak of the summed tree
        self.status = status
        self.message = message


def run_process(argv, env=None, timeout=1800.0, sample_tree=False):
    """Runs argv; returns a RunResult with wall time, ru_maxrss (via wait4) and, when
    asked, the sampled peak resident memory of the whole process tree."""
    log = tempfile.TemporaryFile()
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    except OSError as error:
        return RunResult(False, status=None, message=f"cannot start {argv[0]}: {error}")
    tree_peak, deadline, timed_out = 0, start + timeout, False
    # A pidfd becomes readable the moment the process exits, so the wall time is not rounded
    # up to the sampling period (which would add up to 20 ms to every run).
    try:
        exited = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        exited = None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        if sample_tree:
            tree_peak = max(tree_peak, process_tree_rss(proc.pid))
        if time.perf_counter() > deadline and not timed_out:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
        if exited is None:
            time.sleep(0.02)
        else:
            select.select([exited], [], [], 0.02)
    seconds = time.perf_counter() - start
    if exited is not None:
        os.close(exited)
    proc.returncode = os.waitstatus_to_exitcode(status)
    log.seek(0)
    output = log.read().decode("utf-8", "replace")
    log.close()
    maxrss = usage.ru_maxrss * 1024  # kilobytes on Linux
    if timed_out:
        return RunResult(False, seconds, maxrss, tree_peak, proc.returncode, f"timed out after {timeout:.0f} s")
    if proc.returncode != 0:
        return RunResult(False, seconds, maxrss, tree_peak, proc.returncode, failure_reason(output, proc.returncode))
    return RunResult(True, seconds, maxrss, tree_peak or None, 0, output)


# ---------------------------------------------------------------------------
# Agreement of two HDF5 outputs
# ---------------------------------------------------------------------------

def agreement(ours_path, theirs_path):
    """(True, "") when every dataset of QC Lab's file is in ours with the same shape and
    |ours - theirs| <= 1e-6 + 1e-5 |theirs|; else (False, what differs)."""
    import h5py
    import numpy as np

    try:
        with h5py.File(theirs_path, "r") as theirs, h5py.File(ours_path, "r") as ours:
            worst = None
            for name in theirs.keys():
                if not isinstance(theirs[name], h5py.Dataset):
                    continue
                if name not in ours:
                    return False, f"{name} missing"
                a = np.asarray(ours[name][()])
                b = np.asarray(theirs[name][()])
                if a.shape != b.shape:
                    return False, f"{name} shape {a.shape} != {b.shape}"
                if a.dtype.kind in "iu" and b.dtype.kind in "iu":
                    if not np.array_equal(a, b):
                        return False, f"{name} differs"
                    continue
                a = a.astype(complex) if np.iscomplexobj(a) or np.iscomplexobj(b) else a.astype(float)
                b = b.astype(a.dtype)
                if a.size == 0:
                    continue
                excess = np.abs(a - b) - (ABS_TOL + REL_TOL * np.abs(b))
                excess = np.where(np.isnan(excess), np.inf, excess)
                i = int(np.argmax(excess))
                if excess.flat[i] > 0 and (worst is None or excess.flat[i] > worst[0]):
                    worst = (float(excess.flat[i]), name, float(np.abs(a - b).flat[i]))
            if worst is not None:
                return False, f"{worst[1]}: max |diff| {worst[2]:.2e} over tolerance"
            return True, ""
    except Exception as error:  # unreadable file: report it, keep going
        return False, f"cannot compare: {error}"


# ---------------------------------------------------------------------------
# Workloads, machine, formatting
# ---------------------------------------------------------------------------

def time_grid_steps(settings):
    """QC Lab's number of update steps per trajectory (Simulation.initialize_timesteps)."""
    tmax = settings.get("tmax", 10.0)
    dt_update = settings.get("dt_update", 0.001)
    dt_collect = settings.get("dt_collect", 0.1)
    per_collect = round(dt_collect / dt_update)  # half to even, as np.round
    if per_collect == 0:
        per_collect, dt_collect = 1, dt_update
    return round(tmax / dt_collect) * per_collect


def num_trajs(job):
    if job.get("seeds") is not None:
        return len(job["seeds"])
    return job.get("settings", {}).get("num_trajs", 100)


def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cores = os.cpu_count()
    memory = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
                    break
    except OSError:
        pass
    return f"{cpu}, {cores} cores{memory}, {platform.system()} {platform.release()}"


def command_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception:
        return ""


def seconds_cell(s):
    return "error" if s is None else (f"{s:.3f}" if s < 10 else f"{s:.2f}")


def rate_cell(rate):
    if rate is None:
        return ""
    if rate >= 1e6:
        return f"{rate / 1e6:.2f} M"
    if rate >= 1e3:
        return f"{rate / 1e3:.1f} k"
    return f"{rate:.0f}"


def mb(nbytes):
    return f"{nbytes / 1e6:.0f} MB" if nbytes else ""


# ---------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------

def job_digest(job):
    return hashlib.sha256(json.dumps(job, sort_keys=True).encode()).hexdigest()[:16]


# QC Lab runs on one BLAS thread, as ours does (LAPACK.setBLASThreads(1)): NumPy's OpenBLAS
# would otherwise start a thread per core for the same work, and the comparison would
# measure thread contention, not the code.
ONE_BLAS_THREAD = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def run_qclab(name, job, job_path, args, python):
    """Best of `repeat` QC Lab runs: dict(seconds, maxrss, h5) or dict(error)."""
    os.makedirs(CACHE, exist_ok=True)
    out = os.path.join(CACHE, f"qclab-{name}.h5")
    best = None
    for _ in range(args.repeat):
        result_path = os.path.join(args.workdir, f"qclab-{name}.json")
        if os.path.exists(result_path):
            os.remove(result_path)
        run = run_process([python, os.path.abspath(__file__), "--qclab-worker", job_path, out, result_path],
                          env=ONE_BLAS_THREAD, timeout=args.timeout)
        if not run.ok:
            return {"error": run.message}
        with open(result_path, encoding="utf-8") as handle:
            timed = json.load(handle)
        if best is None or timed["seconds"] < best["seconds"]:
            best = {"seconds": timed["seconds"], "warmup_seconds": timed["warmup_seconds"],
                    "maxrss": run.maxrss, "h5": out}
        else:
            best["maxrss"] = max(best["maxrss"], run.maxrss)
    return best


def file_size_of_mergeable(name, job_path, args):
    """Bytes of ours serial with --mergeable (the exact sums kept), run once, untimed; None on failure."""
    out = os.path.join(args.workdir, f"ours-{name}-mergeable.h5")
    run = run_process([args.binary, "run", job_path, "--output", out, "--mergeable"], timeout=args.timeout)
    return os.path.getsize(out) if run.ok and os.path.exists(out) else None


def size_cell(nbytes):
    """A file size for the table: KB below a megabyte, else MB (10^3, 10^6 bytes)."""
    if nbytes is None:
        return "n/a"
    return f"{nbytes / 1e3:.0f} KB" if nbytes < 1e6 else f"{nbytes / 1e6:.2f} MB"


# Our runs per cell: at least --repeat, and more while they add up to under 2 s (10 at most).
OURS_MIN_SECONDS, OURS_MAX_RUNS = 2.0, 10


def run_ours(name, variant, job_path, args):
    """Best of `repeat` runs of our executable in one configuration, or of more while they
    take under OURS_MIN_SECONDS in all (at most OURS_MAX_RUNS): a run of a tenth of a second
    is moved by a moment's noise on a shared machine, one of QC Lab's seconds hardly."""
    out = os.path.join(args.workdir, f"ours-{name}-{variant}.h5")
    base = [args.binary, "run", job_path, "--output", out]
    # The same one BLAS thread as QC Lab; without it qclab starts itself again with one.
    env = dict(ONE_BLAS_THREAD)
    if variant == "serial":
        argv = base
    elif variant == "multiprocessing":
        argv = base + ["--driver", "multiprocessing", "--num-tasks", str(args.num_tasks)]
    else:
        mpirun = shutil.which("mpirun")
        if mpirun is None:
            return {"na": "mpirun not found"}
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        argv = [mpirun, "--oversubscribe", "-n", str(args.num_tasks)] + base + ["--driver", "mpi"]
    best, runs, spent = None, 0, 0.0
    while runs < args.repeat or (spent < OURS_MIN_SECONDS and runs < OURS_MAX_RUNS):
        if os.path.exists(out):
            os.remove(out)
        run = run_process(argv, env=env, timeout=args.timeout, sample_tree=variant != "serial")
        runs += 1
        spent += run.seconds or 0.0
        if not run.ok:
            # An ArgumentParser usage error (exit status 64) means this build has no such driver.
            if variant != "serial" and run.status == 64:
                return {"na": run.message}
            return {"error": run.message}
        if best is None or run.seconds < best["seconds"]:
            best = {"seconds": run.seconds, "maxrss": run.maxrss, "tree_rss": run.tree_rss, "h5": out}
    return best


# ---------------------------------------------------------------------------
# The exact reduction's share of a run, by perf samples
# ---------------------------------------------------------------------------

#: Symbols of the functions that make the exact sums: the record and deposit paths of
#: CSources/CQCLabExactSums/exact_sum.c and OutputAccumulator's Swift wrappers around them,
#: moments and merges included.
EXACT_SYMBOLS = re.compile(
    r"record_chunk|record_across|record_elements|qclab_exact|record_with|deposit|add_state|state_value|OutputAccumulator")


def exact_share(binary, job_path, workdir, timeout=1800.0):
    """The exact reduction's share of our serial run of `job_path`: dict(samples, exact,
    share in percent) from `perf record` (this process's own CPU time, so it holds on a busy
    machine too), or dict(na=reason) when perf is missing or may not sample."""
    perf = shutil.which("perf")
    if perf is None:
        return {"na": "perf not found"}
    name = os.path.splitext(os.path.basename(job_path))[0]
    data = os.path.join(workdir, f"perf-{name}.data")
    out = os.path.join(workdir, f"perf-{name}.h5")
    run = run_process([perf, "record", "-q", "-F", "4000", "-o", data, binary, "run", job_path, "--output", out],
                      env=ONE_BLAS_THREAD, timeout=timeout)
    if os.path.exists(out):
        os.remove(out)
    if not run.ok:
        return {"na": f"perf record: {run.message}"}
    try:
        report = subprocess.run(
            [perf, "report", "-i", data, "--no-children", "--sort", "symbol", "-F", "overhead,sample,symbol",
             "--percent-limit", "0", "--stdio"],
            capture_output=True, text=True, timeout=600)
    finally:
        os.remove(data)
    total = exact = 0
    for line in report.stdout.splitlines():
        fields = line.split()
        if line.startswith("#") or len(fields) < 3 or not fields[1].isdigit():
            continue
        samples = int(fields[1])
        total += samples
        if EXACT_SYMBOLS.search(line):
            exact += samples
    if total == 0:
        return {"na": "perf report: no samples" + (f" ({report.stderr.strip()[:200]})" if report.stderr.strip() else "")}
    return {"samples": total, "exact": exact, "share": 100.0 * exact / total}


#: The largest share of a run the exact reduction may take (percent).
SHARE_LIMIT = 5.0


def share_cell(result):
    if "share" not in result:
        return "n/a"
    return f"{result['share']:.1f}%" + (f" (over {SHARE_LIMIT:g}%)" if result["share"] > SHARE_LIMIT else "")


def exact_share_main(argv):
    """`compare.py --exact-share [--binary BIN] [JOB.json ...]`: the share table alone (every
    workload of the default workloads files when no job is given)."""
    parser = argparse.ArgumentParser(prog="exact-share.sh",
                                     description="The exact reduction's share of each run, by perf samples.")
    parser.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "qclab"))
    parser.add_argument("jobs", nargs="*", help="job files (default: every workload)")
    args = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="qclab-exact-share-")
    try:
        jobs = args.jobs
        if not jobs:
            workloads = load_workloads(workloads_files(None), parser.error)
            jobs = []
            for name, job in workloads.items():
                jobs.append(os.path.join(workdir, f"{name}.json"))
                with open(jobs[-1], "w", encoding="utf-8") as handle:
                    json.dump(dict(job, settings=dict(job.get("settings", {}), progress_bar=False)), handle)
        print("| job | samples | exact reduction | share |\n|---|---:|---:|---:|", flush=True)
        failed = False
        for job in jobs:
            name = os.path.splitext(os.path.basename(job))[0]
            result = exact_share(args.binary, job, workdir)
            if "na" in result:
                print(f"exact-share: {name}: {result['na']}", file=sys.stderr)
                failed = True
                continue
            print(f"| {name} | {result['samples']} | {result['exact']} | {result['share']:.1f}% |", flush=True)
        return 1 if failed else 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def workloads_files(given):
    """The workloads files: those given (--workloads-file), else QCLAB_WORKLOADS (paths
    separated by ':'), else the shared workloads and Benchmarks/workloads-lattice.json."""
    if given:
        return given
    env = os.environ.get("QCLAB_WORKLOADS")
    if env:
        return [path for path in env.split(os.pathsep) if path]
    return DEFAULT_WORKLOADS


def load_workloads(paths, fail):
    """Every workload of the files, in their order; `fail(message)` on a name in two files."""
    workloads, origin = {}, {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for name, job in json.load(handle).items():  # keeps the file's order
                if name in workloads:
                    fail(f"workload {name} is in both {origin[name]} and {path}")
                workloads[name], origin[name] = job, path
    return workloads


VARIANTS = [
    ("serial", "ours serial"),
    ("multiprocessing", "ours multiprocessing"),
    ("mpi", "ours MPI"),
]


def growth_section(growth):
    """The Markdown lines of "Growth with the lattice": per N of the Holstein workloads measured,
    the seconds per trajectory-step of QC Lab and ours, the ratio, and the exponent p of
    t ~ N^p from the previous N (QC Lab's dense eigensolver grows as N^3)."""
    measured = [(n, name) for n, name in LATTICE if name in growth]
    if len(measured) < 2:
        return []
    lines = [
        "",
        "## Growth with the lattice (HolsteinLattice FSSH, N = 50, 100, 200)",
        "",
        "| N | workload | QC Lab ms per traj-step | ours ms per traj-step | QC Lab / ours "
        "| QC Lab growth N^p | ours growth N^p |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    previous = None
    for n, name in measured:
        theirs, ours, ratio = growth[name]
        exponents = ["", ""]
        if previous is not None:
            scale = math.log(n / previous[0])
            exponents = [f"p = {math.log(theirs / previous[1]) / scale:.2f}",
                         f"p = {math.log(ours / previous[2]) / scale:.2f}"]
        lines.append(f"| {n} | {name} | {theirs * 1e3:.3f} | {ours * 1e3:.4f} | {ratio:.1f}x | "
                     + " | ".join(exponents) + " |")
        previous = (n, theirs, ours)
    lines += ["", "p from the previous row: per traj-step time ratio = (N / N_previous)^p. The workloads differ "
              "only in N, wf_db and tmax (Benchmarks/workloads-lattice.json)."]
    return lines


def main():
    parser = argparse.ArgumentParser(description="QCLab for Swift vs QC Lab 1.3.0, side by side.")
    parser.add_argument("--workloads", help="comma-separated subset of the workloads (default: all)")
    parser.add_argument("--skip-qclab", action="store_true",
                        help=f"reuse the QC Lab timings saved in {os.path.relpath(QCLAB_TIMES, REPO)}")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the best (fastest) is shown")
    parser.add_argument("--num-tasks", type=int, default=2, help="workers / MPI ranks of the parallel runs")
    parser.add_argument("--workloads-file", action="append",
                        help="a workloads file (repeat for more; default: QCLAB_WORKLOADS, paths separated by ':', "
                        "else ../shared/workloads.json and Benchmarks/workloads-lattice.json)")
    parser.add_argument("--no-exact-share", action="store_true",
                        help="skip the run under perf that measures the exact reduction's share")
    parser.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "qclab"))
    parser.add_argument("--output", default=os.path.join(RESULTS, "latest.md"), help="where to write the table")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds before a run is killed")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    workloads = load_workloads(workloads_files(args.workloads_file), parser.error)
    names = list(workloads)
    if args.workloads:
        wanted = [w.strip() for w in args.workloads.split(",") if w.strip()]
        unknown = [w for w in wanted if w not in workloads]
        if unknown:
            parser.error(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(names)}")
        names = wanted

    saved = {}
    if os.path.exists(QCLAB_TIMES):
        with open(QCLAB_TIMES, encoding="utf-8") as handle:
            saved = json.load(handle)

    import h5py  # noqa: F401  (fail early, before any run, if the venv lacks it)
    python = sys.executable
    qclab_version = command_output([python, "-c", "import qclab; print(qclab.__version__)"])
    versions = command_output([python, "-c",
                               "import numpy, numba; print(f'NumPy {numpy.__version__}, numba {numba.__version__}')"])
    swift_version = command_output(["swift", "--version"]).splitlines()
    swift_version = swift_version[0] if swift_version else "swift ?"
    commit = command_output(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    dirty = command_output(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"])
    commit = (commit + (" + uncommitted changes" if dirty else "")) if commit else "unknown"

    args.workdir = tempfile.mkdtemp(prefix="qclab-compare-")
    # Run a copy, so that every run uses the same binary even if it is rebuilt meanwhile.
    if os.path.exists(args.binary):
        copied = os.path.join(args.workdir, "qclab")
        shutil.copy2(args.binary, copied)
        args.binary = copied
    load = os.getloadavg()[0]
    rows, notes, summary, sizes = [], [], [], []
    share_notes, growth = set(), {}
    try:
        for name in names:
            job = copy.deepcopy(workloads[name])
            job.setdefault("settings", {})["progress_bar"] = False
            job_path = os.path.join(args.workdir, f"{name}.json")
            with open(job_path, "w", encoding="utf-8") as handle:
                json.dump(job, handle)
            trajs, steps = num_trajs(job), time_grid_steps(job.get("settings", {}))
            work = trajs * steps
            digest = job_digest(workloads[name])

            # QC Lab serial.
            if args.skip_qclab:
                entry = saved.get(name)
                if entry is None:
                    theirs = {"na": "no saved QC Lab timing"}
                elif entry.get("job") != digest:
                    theirs = dict(entry, stale=True)
                else:
                    theirs = dict(entry)
                label = f"QC Lab 1.3.0 serial (saved {theirs.get('date', '?')})" if "seconds" in theirs else "QC Lab 1.3.0 serial"
            else:
                print(f"[{name}] QC Lab serial ...", file=sys.stderr, flush=True)
                theirs = run_qclab(name, workloads[name], job_path, args, python)
                if "seconds" in theirs:
                    saved[name] = dict(theirs, h5=os.path.relpath(theirs["h5"], REPO), job=digest,
                                       date=datetime.date.today().isoformat(), machine=machine_description())
                label = "QC Lab 1.3.0 serial"
            reference = None
            if "seconds" in theirs and not theirs.get("stale") and theirs.get("h5"):
                path = os.path.join(REPO, theirs["h5"])  # an absolute path stays as it is
                reference = path if os.path.exists(path) else None
            if "seconds" in theirs:
                note = " (saved for a different job!)" if theirs.get("stale") else ""
                rows.append([name, f"{trajs} x {steps}", label + note, seconds_cell(theirs["seconds"]),
                             rate_cell(work / theirs["seconds"]), mb(theirs["maxrss"]), "1", "reference"])
            else:
                cell = "n/a" if "na" in theirs else "error"
                rows.append([name, f"{trajs} x {steps}", label, cell, "", "", "", ""])
                notes.append(f"{name}, QC Lab: {theirs.get('na') or theirs.get('error')}")
            qclab_seconds = theirs.get("seconds")

            per_variant = {}
            for variant, title in VARIANTS:
                if variant != "serial":
                    title = f"{title} x{args.num_tasks}"
                print(f"[{name}] {title} ...", file=sys.stderr, flush=True)
                ours = run_ours(name, variant, job_path, args)
                per_variant[variant] = ours
                if "seconds" not in ours:
                    cell = "n/a" if "na" in ours else "error"
                    rows.append([name, f"{trajs} x {steps}", title, cell, "", "", "", ""])
                    notes.append(f"{name}, {title}: {ours.get('na') or ours.get('error')}")
                    continue
                memory = mb(ours["maxrss"])
                if variant != "serial" and ours.get("tree_rss"):
                    memory += f" ({mb(ours['tree_rss'])} all)"
                ratio = f"{qclab_seconds / ours['seconds']:.1f}x" if qclab_seconds else ""
                if reference:
                    ok, detail = agreement(ours["h5"], reference)
                    agrees = "yes" if ok else "NO"
                    if not ok:
                        notes.append(f"{name}, {title}: disagrees with QC Lab: {detail}")
                else:
                    agrees = "n/a"
                rows.append([name, f"{trajs} x {steps}", title, seconds_cell(ours["seconds"]),
                             rate_cell(work / ours["seconds"]), memory, ratio, agrees])

            serial = per_variant["serial"]
            ours_bytes = os.path.getsize(serial["h5"]) if "h5" in serial and os.path.exists(serial["h5"]) else None
            mergeable_bytes = file_size_of_mergeable(name, job_path, args) if ours_bytes else None
            theirs_bytes = os.path.getsize(reference) if reference else None
            def times_qclab(nbytes):
                return f"{nbytes / theirs_bytes:.1f}x" if nbytes and theirs_bytes else ""
            sizes.append([name, size_cell(ours_bytes), size_cell(mergeable_bytes), size_cell(theirs_bytes),
                          times_qclab(ours_bytes), times_qclab(mergeable_bytes)])
            # The exact reduction's share: one more serial run, under perf (not timed).
            if args.no_exact_share:
                share = {"na": "not measured (--no-exact-share)"}
            elif "seconds" not in serial:
                share = {"na": "our serial run failed"}
            else:
                print(f"[{name}] ours serial under perf ...", file=sys.stderr, flush=True)
                share = exact_share(args.binary, job_path, args.workdir, args.timeout)
            if "na" in share and not args.no_exact_share:
                share_notes.add(share["na"])
            speedup = (qclab_seconds / serial["seconds"]) if qclab_seconds and "seconds" in serial else None
            target = TARGETS.get(name)
            met = "" if speedup is None or target is None else ("yes" if speedup >= target else "no")
            if met == "no" and name in ALTERNATIVE_TARGETS:
                met = "see alternative"
            def parallel(v):
                r = per_variant[v]
                return seconds_cell(r["seconds"]) if "seconds" in r else ("n/a" if "na" in r else "error")
            target_cell = (f">= {target}x" if target else "report only") + (
                f" {ALTERNATIVE_TARGETS[name]}" if name in ALTERNATIVE_TARGETS else "")
            summary.append([name, seconds_cell(qclab_seconds) if qclab_seconds else "n/a",
                            seconds_cell(serial.get("seconds")) if "seconds" in serial else ("error"),
                            f"{speedup:.1f}x" if speedup else "", target_cell, met, share_cell(share),
                            size_cell(ours_bytes), size_cell(mergeable_bytes), size_cell(theirs_bytes),
                            parallel("multiprocessing"), parallel("mpi")])
            if qclab_seconds and "seconds" in serial:
                growth[name] = (qclab_seconds / work, serial["seconds"] / work, speedup)
    finally:
        shutil.rmtree(args.workdir, ignore_errors=True)

    if not args.skip_qclab:
        os.makedirs(RESULTS, exist_ok=True)
        with open(QCLAB_TIMES, "w", encoding="utf-8") as handle:
            json.dump(saved, handle, indent=1, sort_keys=True)
            handle.write("\n")

    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        "# QCLab for Swift vs QC Lab 1.3.0",
        "",
        f"- Date: {now}",
        f"- Machine: {machine_description()}; load average {load:.2f} when the comparison started",
        f"- Ours: {swift_version}, release build, commit {commit}",
        f"- Reference: qclab {qclab_version or '?'} ({versions}), Python {platform.python_version()}",
        f"- Command: `scripts/compare.sh{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}`"
        + f" (best of {args.repeat} QC Lab runs per cell; of ours, best of {args.repeat} or more:"
        f" as many as fit in {OURS_MIN_SECONDS:.0f} s, at most {OURS_MAX_RUNS})",
        "",
        "## Summary (seconds; speed-up = QC Lab serial / ours serial)",
        "",
        "| workload | QC Lab serial | ours serial | speed-up | target | met | exact-sum share "
        "| file: ours | ours --mergeable | QC Lab "
        f"| ours multiprocessing x{args.num_tasks} | ours MPI x{args.num_tasks} |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in summary]
    lines += growth_section(growth)
    lines += [
        "",
        "## All runs",
        "",
        "| workload | trajs x steps | run | seconds | traj-steps/s | peak RSS | QC Lab / ours | agrees |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += [
        "",
        "## Output file sizes",
        "",
        "| workload | ours | ours --mergeable | QC Lab `Data.save` | ours / QC Lab | mergeable / QC Lab |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in sizes]
    lines += [
        "",
        "Notes:",
        "",
        "- seconds: for QC Lab, the wall time of `serial_driver` alone, in a fresh Python process after "
        "a warm-up run of the same model and algorithm on a tiny job (numba compiled; import, warm-up "
        "and `Data.save` not counted). For ours, the wall time of the whole `qclab run` process "
        "(start-up, job parsing, the run, writing the HDF5 file), or of `mpirun` for MPI.",
        "- traj-steps/s: trajectories x update steps (QC Lab's time-grid rounding) / seconds.",
        "- peak RSS: the largest resident set of a single process of the run (`ru_maxrss` from `wait4`); "
        "for QC Lab the Python process that ran the workload (including the interpreter, numba and the "
        "warm-up). For the parallel runs, \"(N MB all)\" is the peak of the summed resident memory of "
        "the whole process tree, sampled every 20 ms.",
        f"- agrees: every dataset of QC Lab's output is in ours with the same shape and "
        f"|ours - theirs| <= {ABS_TOL:g} + {REL_TOL:g} |theirs| element-wise.",
        "- error / n/a: the run failed / the driver or reference is not available; details below.",
        "- file sizes: ours serial as written by default (means and `_sem`), the same job with "
        "`--mergeable` (the exact sums kept too, for exact merges), and QC Lab's `Data.save` of it.",
        "- exact-sum share: the share of `perf record` samples (4000 Hz, our serial run once more, "
        "one BLAS thread) in the functions that make the exact sums (record, deposit, add, clear, "
        "moments; `scripts/exact-share.sh` alone). It counts the process's own CPU time, so it holds "
        f"on a busy machine too; the aim is at most {SHARE_LIMIT:g}%." + (f" n/a: {'; '.join(sorted(share_notes))}." if share_notes else ""),
    ]
    if notes:
        lines += [""] + [f"- {note}" for note in notes]
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--qclab-worker":
        sys.exit(qclab_worker(*sys.argv[2:5]))
    if len(sys.argv) >= 2 and sys.argv[1] == "--exact-share":
        sys.exit(exact_share_main(sys.argv[2:]))
    sys.exit(main())
