"""From qclab-dev's docs, user_guide/developing_models ("Example: a linear vibronic
coupling model", deployed from qclab@870cc279): a two-state, two-mode LVC model with a
conical intersection, from stock ingredients plus a custom h_qc and dh_qc_dzc. Python
ingredients: the bridge runs it on QC Lab's own drivers when asked (fallback);
lvc_conical_intersection_swift.py is the same model as qclab_swift's LinearVibronicCoupling.
Adapted: fewer trajectories, a shorter time."""

import numpy as np
from qclab import Simulation
from qclab.model import Model
from qclab import ingredients
from qclab import functions
from qclab.algorithms import MeanField
from qclab.dynamics import serial_driver

# ---- novel ingredients ----------------------------------------------


@functions.vectorize_ingredient
def h_qc_lvc(model, parameters, **kwargs):
    """Linear vibronic-coupling quantum-classical Hamiltonian.

    H_qc = kappa_1 q_1 |1><1| + kappa_2 q_1 |2><2|
              + lambda q_2 (|1><2| + |2><1|)
    """
    z = kwargs["z"]
    kappa = model.constants.kappa
    lam = model.constants.lam
    m = model.constants.classical_coordinate_mass
    h = model.constants.classical_coordinate_weight
    q = functions.z_to_q(z, m, h)
    q_tune, q_couple = q[0], q[1]
    h_qc = np.zeros((2, 2), dtype=complex)
    h_qc[0, 0] = kappa[0] * q_tune
    h_qc[1, 1] = kappa[1] * q_tune
    h_qc[0, 1] = lam * q_couple
    h_qc[1, 0] = np.conj(h_qc[0, 1])
    return h_qc


@functions.make_ingredient_sparse
@functions.vectorize_ingredient
def dh_qc_dzc_lvc(model, parameters, **kwargs):
    """Sparse z*-derivative of h_qc_lvc."""
    kappa = model.constants.kappa
    lam = model.constants.lam
    m = model.constants.classical_coordinate_mass
    h = model.constants.classical_coordinate_weight
    # dq/dz* = sqrt(1 / (2 m h))
    dq_dzc = 1.0 / np.sqrt(2.0 * m * h)
    out = np.zeros((2, 2, 2), dtype=complex)
    out[0, 0, 0] = kappa[0] * dq_dzc[0]
    out[0, 1, 1] = kappa[1] * dq_dzc[0]
    out[1, 0, 1] = lam * dq_dzc[1]
    out[1, 1, 0] = np.conj(out[1, 0, 1])
    return out

# ---- the Model class ------------------------------------------------


class LinearVibronicCoupling(Model):
    """Two-state, two-mode linear vibronic coupling model."""

    def __init__(self, constants=None):
        if constants is None:
            constants = {}
        self.default_constants = {
            "kBT":   1.0,
            "w":     1.0,
            "kappa": np.array([0.5, -0.5]),
            "lam":   0.3,
            "mass":  1.0,
        }
        super().__init__(self.default_constants, constants)
        self.update_h_q = False
        self.update_dh_qc_dzc = False

    def _init_model(self, parameters, **kwargs):
        self.constants.num_quantum_states = 2
        self.constants.num_classical_coordinates = 2
        self.constants.classical_coordinate_mass = (
            self.constants.mass * np.ones(2)
        )
        self.constants.harmonic_frequency = (
            self.constants.w * np.ones(2)
        )
        self.constants.classical_coordinate_weight = (
            self.constants.harmonic_frequency.copy()
        )

    def _init_h_q(self, parameters, **kwargs):
        self.constants.two_level_00 = 0.0
        self.constants.two_level_11 = 0.0
        self.constants.two_level_01_re = 0.0
        self.constants.two_level_01_im = 0.0

    ingredients = [
        ("h_q",            ingredients.h_q_two_level),
        ("h_qc",           h_qc_lvc),
        ("h_c",            ingredients.h_c_harmonic),
        ("dh_qc_dzc",      dh_qc_dzc_lvc),
        ("dh_c_dzc",       ingredients.dh_c_dzc_harmonic),
        ("init_classical", ingredients.init_classical_wigner_harmonic),
        ("hop",            ingredients.hop_harmonic),
        ("_init_h_q",      _init_h_q),
        ("_init_model",    _init_model),
    ]

# ---- run ------------------------------------------------------------


sim = Simulation({
    "tmax": 3.0, "dt_update": 0.005, "dt_collect": 0.1,
    "num_trajs": 8, "batch_size": 4, "progress_bar": False,
})
sim.model = LinearVibronicCoupling()
sim.algorithm = MeanField()
sim.initial_state["wf_db"] = np.array([1.0 + 0j, 0.0 + 0j])
data = serial_driver(sim)
