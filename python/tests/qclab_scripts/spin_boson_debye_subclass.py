"""From qclab-dev's docs, user_guide/developing_models ("Example: subclassing for a
different spectral density", deployed from qclab@870cc279). A SpinBoson subclass that
overrides its initializers as methods. The ingredients list it inherits holds SpinBoson's
own initializer functions, so QC Lab runs SpinBoson's, not these overrides, and the
bridge, which translates by the constants QC Lab computes, runs SpinBoson too.
Adapted: fewer modes and trajectories, a shorter time."""

import numpy as np
from qclab import Simulation
from qclab.models import SpinBoson
from qclab.algorithms import MeanField
from qclab.dynamics import serial_driver


class SpinBosonDebye(SpinBoson):
    """Spin-boson with a Debye spectral density.

    J(w) = 2 * l_reorg * w_D * w / (w**2 + w_D**2)
    """

    def __init__(self, constants=None):
        if constants is None:
            constants = {}
        base_defaults = SpinBoson({}).default_constants
        self.default_constants = {**base_defaults, "w_D": 0.5}
        super().__init__({**self.default_constants, **constants})

    def _init_h_c(self, parameters, **kwargs):
        A = self.constants.A
        w_D = self.constants.w_D
        w_max = 10.0 * w_D
        self.constants.harmonic_frequency = np.linspace(w_max / A, w_max, A)

    def _init_h_qc(self, parameters, **kwargs):
        A = self.constants.A
        w_D = self.constants.w_D
        l_reorg = self.constants.l_reorg
        boson_mass = self.constants.boson_mass
        h = self.constants.classical_coordinate_weight
        w = self.constants.harmonic_frequency
        dw = w[1] - w[0]
        J_w = 2.0 * l_reorg * w_D * w / (w ** 2 + w_D ** 2)
        g = np.sqrt(2.0 * J_w * dw / np.pi)
        self.constants.diagonal_linear_coupling = np.zeros((2, A))
        self.constants.diagonal_linear_coupling[0] = g / np.sqrt(2.0 * boson_mass * h)
        self.constants.diagonal_linear_coupling[1] = -(g / np.sqrt(2.0 * boson_mass * h))


sim = Simulation({"tmax": 2.0, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 8, "batch_size": 4,
                  "progress_bar": False})
sim.model = SpinBosonDebye({"A": 20})
sim.algorithm = MeanField()
sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
data = serial_driver(sim)
