"""lvc_conical_intersection.py (qclab-dev's docs, user_guide/developing_models, "Example:
a linear vibronic coupling model") written with qclab_swift.models.LinearVibronicCoupling:
the same Hamiltonian by its job constants (K_0 = diag(kappa) on the tuning mode,
K_1 = lam (|1><2| + |2><1|) on the coupling mode, w = m = 1, Wigner sampling). QC Lab's
drivers run it as a QC Lab model; the bridge runs it in Swift.
Adapted: fewer trajectories, a shorter time."""

import numpy as np
from qclab import Simulation
from qclab.algorithms import MeanField
from qclab.dynamics import serial_driver
from qclab_swift.models import LinearVibronicCoupling

kappa, lam = (0.5, -0.5), 0.3
sim = Simulation({
    "tmax": 3.0, "dt_update": 0.005, "dt_collect": 0.1,
    "num_trajs": 8, "batch_size": 4, "progress_bar": False,
})
sim.model = LinearVibronicCoupling({
    "h_q": [[0.0, 0.0], [0.0, 0.0]],
    "frequencies": [1.0, 1.0],
    "masses": [1.0, 1.0],
    "couplings": [[[kappa[0], 0.0], [0.0, kappa[1]]], [[0.0, lam], [lam, 0.0]]],
    "kBT": 1.0,
    "init_classical": "wigner",
})
sim.algorithm = MeanField()
sim.initial_state["wf_db"] = np.array([1.0 + 0j, 0.0 + 0j])
data = serial_driver(sim)
