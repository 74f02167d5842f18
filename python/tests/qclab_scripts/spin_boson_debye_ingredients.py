"""From qclab-dev's docs, user_guide/developing_models ("Example: subclassing for a
different spectral density", deployed from qclab@870cc279), with the Debye initializers
put in the model's ingredients list in place of SpinBoson's (model.rst: "one can add or
overwrite an existing ingredient"), so that QC Lab runs them. Its constants come from its
own _init_ functions; every other ingredient is stock: the bridge runs it as
LinearVibronicCoupling. Adapted: fewer modes and trajectories, a shorter time, FSSH."""

import numpy as np
from qclab import Simulation
from qclab.models import SpinBoson
from qclab.algorithms import FewestSwitchesSurfaceHopping
from qclab.dynamics import serial_driver


def _init_h_c(model, parameters, **kwargs):
    A = model.constants.A
    w_D = model.constants.w_D
    w_max = 10.0 * w_D
    model.constants.harmonic_frequency = np.linspace(w_max / A, w_max, A)


def _init_h_qc(model, parameters, **kwargs):
    A = model.constants.A
    w_D = model.constants.w_D
    l_reorg = model.constants.l_reorg
    boson_mass = model.constants.boson_mass
    h = model.constants.classical_coordinate_weight
    w = model.constants.harmonic_frequency
    dw = w[1] - w[0]
    J_w = 2.0 * l_reorg * w_D * w / (w ** 2 + w_D ** 2)
    g = np.sqrt(2.0 * J_w * dw / np.pi)
    model.constants.diagonal_linear_coupling = np.zeros((2, A))
    model.constants.diagonal_linear_coupling[0] = g / np.sqrt(2.0 * boson_mass * h)
    model.constants.diagonal_linear_coupling[1] = -(g / np.sqrt(2.0 * boson_mass * h))


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

    ingredients = [
        (name, {"_init_h_c": _init_h_c, "_init_h_qc": _init_h_qc}.get(name, ingredient))
        for name, ingredient in SpinBoson.ingredients
    ]


sim = Simulation({"tmax": 2.0, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 8, "batch_size": 4,
                  "progress_bar": False})
sim.model = SpinBosonDebye({"A": 12, "l_reorg": 0.05})
sim.algorithm = FewestSwitchesSurfaceHopping()
sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
data = serial_driver(sim)
