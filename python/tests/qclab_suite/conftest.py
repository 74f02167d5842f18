"""QC Lab's own tests (test_drivers.py: tempelaar-team/qclab@e528251, tests/test_drivers.py,
copied unchanged), run through the bridge as a new user would try it: QC Lab's drivers in
qclab.dynamics are the bridge's while these tests run. Its `mpi` test runs under mpirun
(python/tests/test_mpi.py starts it so, as its docstring says); in a process mpirun did
not start it is left out, since it would run MPI in pytest's own process."""

import os

import pytest
import qclab.dynamics

import qclab_swift


@pytest.fixture(autouse=True)
def the_bridges_drivers(monkeypatch):
    for name in ("serial_driver", "parallel_driver_multiprocessing", "parallel_driver_mpi"):
        monkeypatch.setattr(qclab.dynamics, name, getattr(qclab_swift, name))


def pytest_configure(config):
    config.addinivalue_line("markers", "mpi: tests that require mpi4py and mpirun")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("OMPI_COMM_WORLD_SIZE"):
        return
    kept = [item for item in items if item.get_closest_marker("mpi") is None]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept
