"""Fixtures for the LinearVibronicCoupling model and finite-difference gradients, from qclab 1.3.0.

Run with the qclab 1.3.0 venv (see README.md: `.build/qclab-ref` at the package root) from this folder:

    ../../../.build/qclab-ref/bin/python generate_lvc_fixtures.py [CASE ...]

Writes ``<case>.json`` / ``<case>.h5`` for every case (or only the named ones) and
``index_lvc.json`` (full runs only). Drives qclab through ``generate_fixtures.build_simulation``;
contains no qclab code. ``LinearVibronicCoupling`` below is the model as a QC Lab user writes
it: a ``qclab.model.Model`` subclass with QC Lab's stock harmonic ingredients plus its own
``h_q``, ``h_qc`` and ``dh_qc_dzc`` (numpy), reading the job's constants.

The job's optional ``model.gradients`` (docs/Reference.md) sets an ingredient to None, which
makes QC Lab take its finite-difference gradient: ``{"dh_qc_dzc": "finite_difference",
"dh_c_dzc": "finite_difference", "dh_qc_dzc_finite_difference_delta": 1e-5}``; the deltas become
model constants, as QC Lab reads them.
"""

import copy
import json
import os
import sys
import time

import numpy as np
import qclab
import qclab.ingredients as ingredients
from qclab.model import Model

import generate_fixtures as gf
import generate_msmash_fixtures as gm  # registers MSMASH's settings with generate_fixtures

HERE = os.path.dirname(os.path.abspath(__file__))
assert qclab.__version__ == "1.3.0", qclab.__version__

MF, FSSH, MSMASH = gf.MF, gf.FSSH, gm.MSMASH
LVC = "LinearVibronicCoupling"


def _element(x):
    return complex(x[0], x[1]) if isinstance(x, (list, tuple)) else complex(x)


def _matrix(rows):
    return np.array([[_element(x) for x in row] for row in rows], dtype=complex)


class LinearVibronicCoupling(Model):
    """H = h_q + sum_k q_k K_k + sum_k (p_k^2 / (2 m_k) + m_k w_k^2 q_k^2 / 2), weights h = w."""

    def __init__(self, constants=None):
        self.default_constants = {"kBT": 1.0, "init_classical": "boltzmann"}
        super().__init__(self.default_constants, constants)
        self.update_dh_qc_dzc = False
        self.update_h_q = False

    def _init_model(self, parameters, **kwargs):
        w = np.array(self.constants.get("frequencies"), dtype=float)
        m = np.array(self.constants.get("masses", np.ones(len(w))), dtype=float)
        self.constants.num_classical_coordinates = len(w)
        self.constants.num_quantum_states = len(self.constants.get("h_q"))
        self.constants.harmonic_frequency = w
        self.constants.classical_coordinate_weight = w
        self.constants.classical_coordinate_mass = m
        self.constants.lvc_h_q = _matrix(self.constants.get("h_q"))
        self.constants.lvc_couplings = np.array([_matrix(k) for k in self.constants.get("couplings")])

    def h_q(self, parameters, **kwargs):
        n = self.constants.num_quantum_states
        return np.broadcast_to(self.constants.lvc_h_q, (kwargs["batch_size"], n, n))

    def h_qc(self, parameters, **kwargs):
        z = kwargs["z"]
        m = self.constants.classical_coordinate_mass
        h = self.constants.classical_coordinate_weight
        q = np.real(z + np.conj(z)) / np.sqrt(2 * m * h)
        return np.einsum("bk,kij->bij", q, self.constants.lvc_couplings)

    def dh_qc_dzc(self, parameters, **kwargs):
        z = kwargs["z"]
        m = self.constants.classical_coordinate_mass
        h = self.constants.classical_coordinate_weight
        gradient = self.constants.lvc_couplings / np.sqrt(2 * m * h)[:, None, None]
        full = np.broadcast_to(gradient, (len(z),) + gradient.shape)
        inds = np.where(full != 0)
        return inds, full[inds], full.shape

    def init_classical(self, parameters, **kwargs):
        chosen = {"boltzmann": ingredients.init_classical_boltzmann_harmonic,
                  "wigner": ingredients.init_classical_wigner_harmonic}[self.constants.get("init_classical")]
        return chosen(self, parameters, **kwargs)

    ingredients = [
        ("h_q", h_q),
        ("h_qc", h_qc),
        ("h_c", ingredients.h_c_harmonic),
        ("dh_qc_dzc", dh_qc_dzc),
        ("dh_c_dzc", ingredients.dh_c_dzc_harmonic),
        ("init_classical", init_classical),
        ("hop", ingredients.hop_harmonic),
        ("_init_model", _init_model),
    ]


GRADIENT_KEYS = {"dh_qc_dzc", "dh_c_dzc", "dh_qc_dzc_finite_difference_delta", "dh_c_dzc_finite_difference_delta"}


def build_simulation(job):
    """gf.build_simulation, with the user's LinearVibronicCoupling and model.gradients."""
    j = copy.deepcopy(job)
    gradients = j["model"].pop("gradients", {})
    gf._check_keys("model.gradients", gradients, GRADIENT_KEYS)
    qclab.models.LinearVibronicCoupling = LinearVibronicCoupling  # not a qclab 1.3.0 model: the user's own
    try:
        sim, seeds = gf.build_simulation(j)
    finally:
        del qclab.models.LinearVibronicCoupling
    for name in ("dh_qc_dzc", "dh_c_dzc"):
        if gradients.get(name, "analytic") == "finite_difference":
            sim.model.ingredients.append((name, None))  # Model.get: None means "absent"
    for name in ("dh_qc_dzc_finite_difference_delta", "dh_c_dzc_finite_difference_delta"):
        if name in gradients:
            setattr(sim.model.constants, name, gradients[name])
    return sim, seeds


def run_job(job):
    sim, seeds = build_simulation(job)
    return qclab.dynamics.serial_driver(sim, seeds=seeds)


GRID = {"tmax": 10.0, "dt_update": 0.01, "dt_collect": 0.5, "num_trajs": 20, "batch_size": 10}

# A two-state, two-mode conical intersection: a tuning mode (diagonal K_0) and a coupling mode
# whose K_1 is complex (the model's defaults), or real.
CI = {
    "h_q": [[0.2, 0.0], [0.0, -0.2]],
    "frequencies": [1.0, 0.5],
    "couplings": [[[0.5, 0.0], [0.0, -0.5]], [[0.0, [0.2, 0.1]], [[0.2, -0.1], 0.0]]],
    "kBT": 1.0,
}
CI_REAL = dict(CI, couplings=[[[0.5, 0.0], [0.0, -0.5]], [[0.0, 0.25], [0.25, 0.0]]], masses=[1.0, 2.0])

# Three states, four modes, diagonal couplings (the spin-boson/Holstein kind), a complex h_q.
DIAGONAL = {
    "h_q": [[0.0, [0.1, 0.05], 0.0], [[0.1, -0.05], 0.3, 0.1], [0.0, 0.1, -0.2]],
    "frequencies": [0.5, 1.0, 1.5, 0.8],
    "masses": [1.0, 1.0, 2.0, 0.5],
    "couplings": [[[0.3, 0, 0], [0, -0.3, 0], [0, 0, 0.1]], [[0.0, 0, 0], [0, 0.4, 0], [0, 0, -0.4]],
                  [[0.2, 0, 0], [0, 0.0, 0], [0, 0, 0.2]], [[-0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.0]]],
    "kBT": 0.5,
}


def spin_boson_as_lvc():
    """SpinBoson's constants (as the gf cases set them) as LVC constants, K_k = diag(gamma_k) sqrt(2 m h)."""
    model = qclab.models.SpinBoson(dict(gf.SB_CONSTANTS))
    c = model.constants
    scale = np.sqrt(2 * c.classical_coordinate_mass * c.classical_coordinate_weight)
    gamma = c.diagonal_linear_coupling
    return {
        "h_q": [[c.two_level_00, c.two_level_01_re], [c.two_level_01_re, c.two_level_11]],
        "frequencies": [float(x) for x in c.harmonic_frequency],
        "masses": [float(x) for x in c.classical_coordinate_mass],
        "couplings": [[[float(gamma[0, k] * scale[k]), 0.0], [0.0, float(gamma[1, k] * scale[k])]]
                      for k in range(len(scale))],
        "kBT": float(c.kBT),
    }


def job(model, constants, algorithm, settings, wf_db, grid=GRID, gradients=None):
    j = gf.job(grid, model, constants, algorithm, settings, wf_db)
    if gradients is not None:
        j["model"]["gradients"] = gradients
    return j


SB_GRID = dict(gf.SB_GRID, tmax=5.0, num_trajs=20, batch_size=10)
FD_BOTH = {"dh_qc_dzc": "finite_difference", "dh_c_dzc": "finite_difference"}


def make_cases():
    cases = []

    def add(name, purpose, j):
        cases.append({"case": name, "purpose": purpose, "job": j})

    up2, up3 = gf.basis(2, 0), gf.basis(3, 0)
    add("lvc_diag_mf", "diagonal couplings, complex h_q, 3 states 4 modes, mean field",
        job(LVC, DIAGONAL, MF, {}, up3))
    add("lvc_diag_fssh_wigner", "diagonal couplings, FSSH, Wigner initial conditions",
        job(LVC, dict(DIAGONAL, init_classical="wigner"), FSSH, {}, up3))
    add("lvc_spin_boson_mf", "SpinBoson (gf.SB_CONSTANTS) written as LVC constants, mean field",
        job(LVC, spin_boson_as_lvc(), MF, {}, up2, grid=gf.SB_GRID))
    add("lvc_ci_mf", "complex conical intersection, mean field", job(LVC, CI, MF, {}, up2))
    for gauge in ("sign_overlap", "phase_overlap", "phase_der_couple"):
        add(f"lvc_ci_fssh_{gauge}", f"complex conical intersection, FSSH, {gauge}",
            job(LVC, CI, FSSH, {"gauge_fixing": gauge}, up2))
    add("lvc_ci_fssh_det", "complex conical intersection, deterministic FSSH, phase_der_couple",
        job(LVC, CI, FSSH, {"gauge_fixing": "phase_der_couple", "fssh_deterministic": True}, up2))
    add("lvc_ci_real_fssh", "real conical intersection, unequal masses, FSSH", job(LVC, CI_REAL, FSSH, {}, up2))
    add("lvc_ci_msmash", "complex conical intersection, MSMASH", job(LVC, CI, MSMASH, {}, up2))
    add("lvc_ci_real_msmash", "real conical intersection, MSMASH", job(LVC, CI_REAL, MSMASH, {}, up2))
    # Finite-difference gradients (ingredients set to None).
    add("fd_lvc_ci_mf", "complex conical intersection, mean field, both gradients by finite differences",
        job(LVC, CI, MF, {}, up2, gradients=FD_BOTH))
    add("fd_lvc_ci_fssh", "complex conical intersection, FSSH, dh_qc_dzc by finite differences (delta 1e-5)",
        job(LVC, CI, FSSH, {"gauge_fixing": "phase_der_couple"}, up2,
            gradients={"dh_qc_dzc": "finite_difference", "dh_qc_dzc_finite_difference_delta": 1e-5}))
    add("fd_lvc_ci_msmash", "complex conical intersection, MSMASH, both gradients by finite differences",
        job(LVC, CI, MSMASH, {}, up2, gradients=FD_BOTH))
    add("fd_spin_boson_mf", "SpinBoson, mean field, both gradients by finite differences",
        job("SpinBoson", gf.SB_CONSTANTS, MF, {}, up2, grid=SB_GRID, gradients=FD_BOTH))
    add("fd_spin_boson_fssh", "SpinBoson, FSSH, dh_c_dzc by finite differences (delta 1e-7)",
        job("SpinBoson", gf.SB_CONSTANTS, FSSH, {}, up2, grid=SB_GRID,
            gradients={"dh_c_dzc": "finite_difference", "dh_c_dzc_finite_difference_delta": 1e-7}))
    # Curved Hamiltonians: differences within O(delta) of the analytic gradients; the crossing
    # keeps its own rescaling direction and gauge-field force.
    add("fd_tully2_fssh", "TullyProblemTwo, FSSH, both gradients by finite differences",
        job("TullyProblemTwo", gf.TULLY2, FSSH, {}, up2, grid=dict(gf.TULLY_GRID, num_trajs=8, batch_size=4),
            gradients=FD_BOTH))
    add("fd_caca_fssh_gff", "ComplexAvoidedCrossingA, FSSH phase_der_couple with the gauge-field force, dh_qc_dzc by differences",
        job("ComplexAvoidedCrossingA", {}, FSSH, {"gauge_fixing": "phase_der_couple", "use_gauge_field_force": True}, up2,
            grid={"tmax": 2.0, "dt_update": 0.002, "dt_collect": 0.1, "num_trajs": 8, "batch_size": 4},
            gradients={"dh_qc_dzc": "finite_difference"}))
    return cases


def main(argv):
    print(f"qclab {qclab.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    only = set(argv[1:])
    index = []
    for c in make_cases():
        name, j = c["case"], c["job"]
        index.append({"case": name, "model": j["model"]["name"],
                      "algorithm": j["algorithm"]["name"], "purpose": c["purpose"]})
        if only and name not in only:
            continue
        t0 = time.time()
        text = json.dumps(j, indent=2) + "\n"
        data = run_job(json.loads(text))
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            f.write(text)
        data.save(os.path.join(HERE, name + ".h5"))
        print(f"{name:40s} {time.time() - t0:7.1f} s")
    if not only:
        with open(os.path.join(HERE, "index_lvc.json"), "w") as f:
            json.dump(index, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv)
