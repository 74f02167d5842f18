"""From QC Lab's examples/mpi_examples/mpi_example.py (tempelaar-team/qclab@e528251),
run as `mpirun -n K python mpi_example.py`. Adapted: fewer trajectories and a shorter
time, no matplotlib import; rank 0 saves `data` where QCLAB_SCRIPT_OUTPUT names (the
test's comparison), and prints the log as the example does."""

import os

import numpy as np
from mpi4py import MPI
from qclab import Simulation
from qclab.models import SpinBoson
from qclab.algorithms import MeanField
from qclab.dynamics import parallel_driver_mpi

# instantiate a simulation
sim = Simulation()

# change settings to customize simulation
sim.settings.num_trajs = 10
sim.settings.batch_size = 3
sim.settings.tmax = 1
sim.settings.dt_update = 0.01
sim.settings.progress_bar = False

# instantiate a model
sim.model = SpinBoson({"A": 10})
# instantiate an algorithm
sim.algorithm = MeanField()
# define an initial diabatic wavefunction
sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)

data = parallel_driver_mpi(sim)


comm = MPI.COMM_WORLD
rank = comm.Get_rank()
if rank == 0:
    print(data.log)
    np.savez(os.environ["QCLAB_SCRIPT_OUTPUT"], **data.data_dict)
