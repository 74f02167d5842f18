"""Fixtures for a model with only the core ingredients (qclab 1.3.0).

`AnharmonicDimer` below is a QC Lab model that gives H_q, H_qc, H_c and their gradients
and nothing else: no `hop` and no `init_classical` ingredient. QC Lab then falls back on
its numerical defaults, `functions.numerical_fssh_hop` for hops and the Metropolis-Hastings
sampler `initialize_z_mcmc` for the initial coordinates. `CoreModelTests.swift` defines the
same model in Swift with only the core, registers it under this name and runs these job
files, which checks that our defaults (NumericalHop, MonteCarloBoltzmannSampler) are QC Lab's.

The model: two states, `H_q = [[E, V], [V, -E]]`, a diagonal linear coupling `gamma`
(QC Lab's `h_qc_diagonal_linear`), and two anharmonic coordinates,
`H_c = sum_xi p^2 / (2 m) + m w^2 q^2 / 2 + quartic q^4`, weight `h = w`.

Run from this folder: `../../../.build/qclab-ref/bin/python generate_core_model_fixtures.py` (writes core_model_*.json/.h5
and index_core_model.json). Uses generate_fixtures.run_job's layout; contains no qclab code.
"""
import json
import os
import sys

import numpy as np
import qclab
import qclab.ingredients as ingredients
from qclab.model import Model

import generate_fixtures

assert qclab.__version__ == "1.3.0", qclab.__version__
HERE = os.path.dirname(os.path.abspath(__file__))


def coordinates(model, z):
    """The constants m, w, h and QC Lab's q = sqrt(2/(m h)) Re z, p = sqrt(2 m h) Im z."""
    c = model.constants
    m, w, h = c.classical_coordinate_mass, c.anharmonic_frequency, c.classical_coordinate_weight
    return c, m, w, h, np.sqrt(2.0 / (m * h)) * z.real, np.sqrt(2.0 * m * h) * z.imag


def h_c(model, parameters, **kwargs):
    c, m, w, h, q, p = coordinates(model, kwargs["z"])
    terms = 0.5 * (p * p) / m + 0.5 * m * (w * w) * (q * q) + c.quartic * ((q * q) * (q * q))
    return np.sum(terms, axis=-1)


def dh_c_dzc(model, parameters, **kwargs):
    c, m, w, h, q, p = coordinates(model, kwargs["z"])
    dq = (m * (w * w) * q + 4.0 * c.quartic * (q * q * q)) / np.sqrt(2.0 * m * h)
    dp = (p / m) * np.sqrt(0.5 * m * h)
    return dq + 1j * dp


class AnharmonicDimer(Model):
    def __init__(self, constants=None):
        self.default_constants = {"kBT": 1.0, "E": 0.5, "V": 0.3, "quartic": 0.05,
                                  "g0": 0.6, "g1": -0.4}
        super().__init__(self.default_constants, {} if constants is None else constants)
        self.update_dh_qc_dzc = False
        self.update_h_q = False

    def _init_model(self, parameters, **kwargs):
        c = self.constants
        c.num_quantum_states = 2
        c.num_classical_coordinates = 2
        c.anharmonic_frequency = np.array([1.0, 0.7])
        c.classical_coordinate_mass = np.array([1.0, 2.0])
        c.classical_coordinate_weight = np.array([1.0, 0.7])
        c.two_level_00 = c.get("E")
        c.two_level_11 = -c.get("E")
        c.two_level_01_re = c.get("V")
        c.two_level_01_im = 0.0
        g0, g1 = c.get("g0"), c.get("g1")
        c.diagonal_linear_coupling = np.array([[g0, g1], [-g0, -g1]])

    ingredients = [
        ("h_q", ingredients.h_q_two_level),
        ("h_qc", ingredients.h_qc_diagonal_linear),
        ("h_c", h_c),
        ("dh_qc_dzc", ingredients.dh_qc_dzc_diagonal_linear),
        ("dh_c_dzc", dh_c_dzc),
        ("_init_model", _init_model),
    ]


# The job files name the model; qclab.models does not have it, so the generator adds it.
qclab.models.AnharmonicDimer = AnharmonicDimer

GRID = {"tmax": 20.0, "dt_update": 0.01, "dt_collect": 0.5}
CONSTANTS = {"kBT": 1.0, "E": 0.5, "V": 0.3, "quartic": 0.05, "g0": 0.6, "g1": -0.4}
CASES = [
    ("core_model_mf", "MeanField", {}, {**GRID, "num_trajs": 32, "batch_size": 32},
     "MF of a core-only model: QC Lab's MCMC Boltzmann sampler"),
    ("core_model_fssh", "FewestSwitchesSurfaceHopping", {}, {**GRID, "num_trajs": 48, "batch_size": 48},
     "FSSH of a core-only model: MCMC sampler and numerical_fssh_hop"),
]


def main():
    print(f"qclab {qclab.__version__}, numpy {np.__version__}")
    index = []
    for name, algorithm, alg_settings, settings, purpose in CASES:
        job = generate_fixtures.job(settings, "AnharmonicDimer", CONSTANTS, algorithm, alg_settings,
                                    generate_fixtures.wf(1.0, 0.0))
        text = json.dumps(job, indent=2) + "\n"
        data = generate_fixtures.run_job(json.loads(text))
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            f.write(text)
        data.save(os.path.join(HERE, name + ".h5"))
        index.append({"case": name, "model": "AnharmonicDimer", "algorithm": algorithm, "purpose": purpose})
        print(name, "done")
    with open(os.path.join(HERE, "index_core_model.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
