"""Run under `mpirun -n K python mpi_bridge_run.py OUT MODE` by test_mpi.py: the bridge's
drivers inside a Python process that mpirun started. MODE `compare`: rank 0 runs
serial_driver and parallel_driver_multiprocessing, then every rank parallel_driver_mpi;
each rank saves what it got in OUT.<rank>.npz. MODE `fail`: rank 1's executable fails;
each rank writes the error it raised to OUT.<rank>.txt. MODE `fallback`: a Python
ingredient, run with fallback=True on QC Lab's parallel_driver_mpi; each rank saves its data."""

import os
import sys

import numpy as np
from mpi4py import MPI
from qclab import Data, Simulation, ingredients
from qclab.algorithms import FewestSwitchesSurfaceHopping
from qclab.models import SpinBoson

import qclab_swift


def simulation():
    sim = Simulation({"tmax": 1.0, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 10, "batch_size": 3,
                      "progress_bar": False})
    sim.model = SpinBoson({"A": 6, "l_reorg": 0.05})
    sim.algorithm = FewestSwitchesSurfaceHopping()
    sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
    return sim


def my_h_c(model, parameters, **kwargs):
    """A Python ingredient (QC Lab's own h_c_harmonic, but the bridge cannot know that)."""
    return ingredients.h_c_harmonic(model, parameters, **kwargs)


out, mode = sys.argv[1], sys.argv[2]
rank = MPI.COMM_WORLD.Get_rank()
if mode == "compare":
    arrays = {}
    if rank == 0:
        serial = qclab_swift.serial_driver(simulation())
        forked = qclab_swift.parallel_driver_multiprocessing(simulation(), num_tasks=2)
        arrays.update({f"serial/{k}": v for k, v in serial.data_dict.items()})
        arrays.update({f"forked/{k}": v for k, v in forked.data_dict.items()})
        # Appending: seeds continue after the earlier data's, as serial_driver's do.
        appended = qclab_swift.serial_driver(simulation(), data=qclab_swift.serial_driver(simulation()))
        arrays.update({f"appended/{k}": v for k, v in appended.data_dict.items()})
    mpi = qclab_swift.parallel_driver_mpi(simulation())
    arrays.update({f"mpi/{k}": v for k, v in mpi.data_dict.items()})
    earlier = qclab_swift.serial_driver(simulation()) if rank == 0 else Data()
    mpi_appended = qclab_swift.parallel_driver_mpi(simulation(), data=earlier)
    arrays.update({f"mpi_appended/{k}": v for k, v in mpi_appended.data_dict.items()})
    np.savez(f"{out}.{rank}.npz", **arrays)
elif mode == "fallback":
    sim = simulation()
    sim.model.ingredients.append(("h_c", my_h_c))
    data = qclab_swift.parallel_driver_mpi(sim, fallback=True)
    np.savez(f"{out}.{rank}.npz", **data.data_dict)
else:
    if rank == 1:
        os.environ["QCLAB_SWIFT_BIN"] = "/bin/false"
    try:
        qclab_swift.parallel_driver_mpi(simulation())
        message = "returned"
    except qclab_swift.QCLabSwiftError as error:
        message = f"QCLabSwiftError: {error}"
    with open(f"{out}.{rank}.txt", "w") as f:
        f.write(message)
