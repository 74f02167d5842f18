"""The bridge under `mpirun ... python script.py` with mpi4py: its serial and forked
drivers inside a Python process mpirun started, and parallel_driver_mpi, bit-identical to
serial_driver; QC Lab's own MPI example through the bridge."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent


def mpi_ready():
    """mpirun and mpi4py, which scripts/test.sh installs: missing under it is a failure."""
    missing = []
    if shutil.which("mpirun") is None:
        missing.append("mpirun (scripts/install-deps.sh installs Open MPI)")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        missing.append("mpi4py (scripts/test.sh installs it into .build/pyvenv)")
    if missing:
        if os.environ.get("QCLAB_TEST_COMMAND") == "1":
            pytest.fail("missing " + ", ".join(missing))
        pytest.skip("missing " + ", ".join(missing))


def mpirun(ranks, *arguments, env=None):
    environment = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", **(env or {}))
    # `-m mpi4py`: an exception on one rank aborts them all (never a rank waiting for one gone).
    return subprocess.run(["mpirun", "-n", str(ranks), "--oversubscribe", sys.executable, "-m", "mpi4py", *arguments],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)


def part(arrays, prefix):
    return {k[len(prefix) + 1:]: arrays[k] for k in arrays.files if k.startswith(prefix + "/")}


def assert_identical(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("ranks", [2, 3])
def test_the_bridges_drivers_under_mpirun_are_bit_identical_to_serial(tmp_path, ranks):
    mpi_ready()
    completed = mpirun(ranks, str(HERE / "mpi_bridge_run.py"), str(tmp_path / "out"), "compare")
    assert completed.returncode == 0, completed.stderr
    root = np.load(tmp_path / "out.0.npz")
    serial = part(root, "serial")
    assert np.asarray(serial["seed"]).tolist() == list(range(10))
    assert_identical(part(root, "forked"), serial)
    assert_identical(part(root, "mpi"), serial)
    assert np.asarray(part(root, "appended")["seed"]).tolist() == list(range(20))
    assert_identical(part(root, "mpi_appended"), part(root, "appended"))
    for rank in range(1, ranks):
        # The other ranks return the data they were given (a new Data here), as QC Lab's do.
        other = np.load(tmp_path / f"out.{rank}.npz")
        assert np.asarray(part(other, "mpi")["seed"]).size == 0
        assert np.asarray(part(other, "mpi_appended")["seed"]).size == 0


def test_a_rank_whose_executable_fails_is_named_on_every_rank(tmp_path):
    mpi_ready()
    completed = mpirun(3, str(HERE / "mpi_bridge_run.py"), str(tmp_path / "out"), "fail")
    assert completed.returncode == 0, completed.stderr
    messages = [(tmp_path / f"out.{rank}.txt").read_text() for rank in range(3)]
    # Rank 1 holds batches 2 and 3 of 4 (seeds 3 ... 5 of batches of three) as QC Lab splits them.
    assert messages == ["QCLabSwiftError: rank 1 (seeds 3...5): exit status 1"] * 3


def test_qclabs_mpi_example_runs_through_the_bridge(tmp_path):
    """examples/mpi_examples/mpi_example.py as written (QC Lab's parallel_driver_mpi) and with its
    driver imported from qclab_swift: the same data, the bridge's bit-identical to its serial_driver."""
    mpi_ready()
    script = (HERE / "qclab_scripts" / "mpi_example.py").read_text()
    line = "from qclab.dynamics import parallel_driver_mpi"
    assert script.count(line) == 1
    bridged = tmp_path / "mpi_example_bridge.py"
    bridged.write_text(script.replace(line, "from qclab_swift import parallel_driver_mpi"))
    results = {}
    for name, path in (("qclab", HERE / "qclab_scripts" / "mpi_example.py"), ("bridge", bridged)):
        completed = mpirun(2, str(path), env={"QCLAB_SCRIPT_OUTPUT": str(tmp_path / f"{name}.npz")})
        assert completed.returncode == 0, completed.stderr
        results[name] = dict(np.load(tmp_path / f"{name}.npz"))
    ours, theirs = results["bridge"], results["qclab"]
    # QC Lab's rank 0 adds the ranks' batches in the order they arrive: compare in seed order.
    assert sorted(ours) == sorted(theirs)
    assert np.asarray(ours["seed"]).tolist() == sorted(np.asarray(theirs["seed"]).tolist()) == list(range(10))
    for key in theirs:
        if key not in ("seed", "norm_factor"):
            np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6, err_msg=key)
    # The same simulation on the bridge's serial driver, in this (non-MPI) process.
    import qclab_swift
    from qclab import Simulation
    from qclab.algorithms import MeanField
    from qclab.models import SpinBoson
    sim = Simulation()
    sim.settings.num_trajs, sim.settings.batch_size, sim.settings.tmax, sim.settings.dt_update = 10, 3, 1, 0.01
    sim.settings.progress_bar = False
    sim.model = SpinBoson({"A": 10})
    sim.algorithm = MeanField()
    sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
    assert_identical(ours, qclab_swift.serial_driver(sim).data_dict)


def test_qclabs_own_mpi_driver_test_passes_through_the_bridge():
    """QC Lab's tests/test_drivers.py::test_drivers_spinboson_mpi, run as its docstring says
    (`mpirun -n 2 pytest -m mpi`), with qclab.dynamics' drivers the bridge's (qclab_suite/conftest.py)."""
    mpi_ready()
    completed = mpirun(2, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no", "-m", "mpi",
                       str(HERE / "qclab_suite" / "test_drivers.py"))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.count("1 passed, 3 deselected") == 2, completed.stdout


def test_the_fallback_under_mpirun_is_qclabs_mpi_driver_said_once(tmp_path):
    mpi_ready()
    completed = mpirun(2, str(HERE / "mpi_bridge_run.py"), str(tmp_path / "out"), "fallback")
    assert completed.returncode == 0, completed.stderr
    lines = [line for line in completed.stderr.splitlines() if "qclab_swift" in line]
    assert len(lines) == 1 and lines[0].startswith(
        "qclab_swift: running on QC Lab's own drivers (fallback): model SpinBoson: "), completed.stderr
    assert "ingredient 'h_c' (my_h_c)" in lines[0]
    root = dict(np.load(tmp_path / "out.0.npz"))
    assert np.asarray(np.load(tmp_path / "out.1.npz")["seed"]).size == 0
    # QC Lab's own serial driver on the same simulation (mpi_bridge_run.simulation()).
    from qclab import Simulation
    from qclab.algorithms import FewestSwitchesSurfaceHopping
    from qclab.dynamics import serial_driver as qclab_serial_driver
    from qclab.models import SpinBoson
    sim = Simulation({"tmax": 1.0, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 10, "batch_size": 3,
                      "progress_bar": False})
    sim.model = SpinBoson({"A": 6, "l_reorg": 0.05})
    sim.algorithm = FewestSwitchesSurfaceHopping()
    sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
    theirs = qclab_serial_driver(sim).data_dict
    assert sorted(np.asarray(root["seed"]).tolist()) == list(range(10))
    assert sorted(root) == sorted(theirs)
    for key in theirs:
        if key not in ("seed", "norm_factor"):
            np.testing.assert_allclose(root[key], theirs[key], rtol=1e-10, atol=1e-12, err_msg=key)
