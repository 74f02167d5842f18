"""From QC Lab's docs, user_guide/model.rst and change-coupling.rst
(tempelaar-team/qclab@e528251): a gradient ingredient set to None ("No analytical
gradient available"), here on the stock diagonal coupling, so that every ingredient is
QC Lab's and the gradients are QC Lab's finite differences (the job's model.gradients).
Adapted: fewer modes and trajectories, a shorter time, both gradients set to None."""

import numpy as np
from qclab import Simulation
from qclab.models import SpinBoson
from qclab.algorithms import MeanField
from qclab.dynamics import serial_driver

sim = Simulation({"tmax": 2.0, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 6, "batch_size": 3,
                  "progress_bar": False})
sim.model = SpinBoson({"A": 10, "l_reorg": 0.05})
sim.model.ingredients.append(("dh_qc_dzc", None))  # No analytical gradient available.
sim.model.ingredients.append(("dh_c_dzc", None))
sim.algorithm = MeanField()
sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
data = serial_driver(sim)
