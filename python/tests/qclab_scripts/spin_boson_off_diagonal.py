"""From QC Lab's docs, interactive_docs/spin-boson-example/change-coupling.rst
(tempelaar-team/qclab@e528251): an off-diagonal coupling written in Python (a user
h_qc) with its gradient set to None, so that QC Lab differentiates it by finite
differences. A Python ingredient: the bridge runs it on QC Lab's own drivers when asked
(fallback). Adapted: fewer modes and trajectories, a shorter time."""

import numpy as np
from qclab import Simulation
from qclab.models import SpinBoson
from qclab.algorithms import FewestSwitchesSurfaceHopping
from qclab.dynamics import serial_driver
from qclab.functions import vectorize_ingredient


@vectorize_ingredient
def h_qc(model, parameters, **kwargs):
    """
    A coupling term that couples the boson coordinates to the off-diagonal elements of the quantum Hamiltonian.
    """
    z = kwargs['z']
    m = model.constants.classical_coordinate_mass
    h = model.constants.classical_coordinate_weight
    g = model.constants.harmonic_frequency * np.sqrt(2 * model.constants.l_reorg / model.constants.A)
    h_qc = np.zeros((2, 2), dtype=complex)
    h_qc[0, 1] = np.sum((g * np.sqrt(1 / (2 * m * h))) * (z + np.conj(z)))
    h_qc[1, 0] = np.conj(h_qc[0, 1])
    return h_qc


sim = Simulation({"tmax": 1.0, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 4, "batch_size": 2,
                  "progress_bar": False})
sim.model = SpinBoson({"A": 10})
sim.model.constants.l_reorg = 0.05
# Add the new coupling term to the model's ingredients.
sim.model.ingredients.append(("h_qc", h_qc))
# Overwrite the analytical gradient ingredient, which is no longer correct for the new coupling.
sim.model.ingredients.append(("dh_qc_dzc", None))
sim.algorithm = FewestSwitchesSurfaceHopping()
sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
data = serial_driver(sim)
