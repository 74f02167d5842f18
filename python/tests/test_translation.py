"""Translation of user models and algorithms into jobs, checked against constants computed
here (no executable needed)."""

import numpy as np
import pytest
from qclab import Simulation, ingredients
from qclab.algorithms import FewestSwitchesSurfaceHopping, MeanField
from qclab.model import Model
from qclab.models import HolsteinLattice, SpinBoson

import qclab_swift
from qclab_swift import UntranslatableSimulation
from qclab_swift.models import LinearVibronicCoupling


def simulation(model, algorithm=None, states=2):
    sim = Simulation({"tmax": 1.0, "dt_update": 0.01, "num_trajs": 2, "batch_size": 2})
    sim.model = model
    sim.algorithm = algorithm or MeanField()
    wf = np.zeros(states, dtype=complex)
    wf[0] = 1
    sim.initial_state["wf_db"] = wf
    return sim


class ThreeSiteChain(Model):
    """A model written from scratch with QC Lab's stock ingredients only; its constants come
    from its own initializer."""

    def __init__(self, constants=None):
        self.default_constants = {"t": 0.3, "g": 0.2, "w": 0.7, "m": 2.0, "kBT": 0.5}
        super().__init__(self.default_constants, constants or {})

    def _init_model(self, parameters, **kwargs):
        c = self.constants
        c.num_quantum_states = 3
        c.num_classical_coordinates = 3
        c.harmonic_frequency = c.w * np.ones(3)
        c.classical_coordinate_weight = c.harmonic_frequency
        c.classical_coordinate_mass = c.m * np.ones(3)
        c.nearest_neighbor_hopping_energy = c.t
        c.nearest_neighbor_periodic = False
        c.diagonal_linear_coupling = c.g * np.eye(3)

    ingredients = [
        ("h_q", ingredients.h_q_nearest_neighbor),
        ("h_qc", ingredients.h_qc_diagonal_linear),
        ("h_c", ingredients.h_c_harmonic),
        ("dh_qc_dzc", ingredients.dh_qc_dzc_diagonal_linear),
        ("dh_c_dzc", ingredients.dh_c_dzc_harmonic),
        ("init_classical", ingredients.init_classical_wigner_harmonic),
        ("hop", ingredients.hop_harmonic),
        ("_init_model", _init_model),
    ]


def test_a_model_from_scratch_with_stock_ingredients_is_linear_vibronic_coupling():
    model = qclab_swift.job_from_simulation(simulation(ThreeSiteChain(), states=3), [0])["model"]
    assert model["name"] == "LinearVibronicCoupling"
    c = model["constants"]
    assert c["h_q"] == [[0.0, -0.3, 0.0], [-0.3, 0.0, -0.3], [0.0, -0.3, 0.0]]
    assert c["frequencies"] == [0.7] * 3 and c["masses"] == [2.0] * 3
    scale = np.sqrt(2 * 2.0 * 0.7)  # K = gamma sqrt(2 m w)
    for k, coupling in enumerate(c["couplings"]):
        expected = np.zeros((3, 3))
        expected[k, k] = 0.2 * scale
        np.testing.assert_allclose(np.array(coupling), expected, rtol=1e-15, atol=0)
    assert c["kBT"] == 0.5 and c["init_classical"] == "wigner"


def test_a_built_in_instance_with_a_changed_stock_ingredient_is_linear_vibronic_coupling():
    model = SpinBoson({"A": 4})
    model.ingredients.append(("h_q", ingredients.h_q_nearest_neighbor))
    model.constants.nearest_neighbor_hopping_energy = 0.25
    model.constants.nearest_neighbor_periodic = False
    job = qclab_swift.job_from_simulation(simulation(model), [0])["model"]
    assert job["name"] == "LinearVibronicCoupling"
    assert job["constants"]["h_q"] == [[0.0, -0.25], [-0.25, 0.0]]


def test_a_weight_other_than_the_frequency_is_refused_by_name():
    model = ThreeSiteChain()
    # First in the list: QC Lab runs the initializers back to front, so it runs last.
    model.ingredients.insert(0, ("_init_weight", lambda m, p: setattr(m.constants, "classical_coordinate_weight",
                                                                       np.ones(3))))
    model.initialize_constants()
    with pytest.raises(UntranslatableSimulation, match="'classical_coordinate_weight' is not 'harmonic_frequency'"):
        qclab_swift.job_from_simulation(simulation(model, states=3), [0])


def test_an_ingredient_set_to_none_is_named_so_never_removed():
    model = SpinBoson({"A": 4})
    model.ingredients.append(("h_c", None))
    with pytest.raises(UntranslatableSimulation) as error:
        qclab_swift.job_from_simulation(simulation(model), [0])
    assert "ingredient 'h_c' (set to None)" in str(error.value) and "removed" not in str(error.value)


def test_a_holstein_lattice_subclass_that_changes_nothing_stays_holstein_lattice():
    class MyHolstein(HolsteinLattice):
        pass

    sim = simulation(MyHolstein({"N": 4, "g": 0.8}), FewestSwitchesSurfaceHopping(), states=4)
    ours = qclab_swift.job_from_simulation(sim, [0])
    sim.model = HolsteinLattice({"N": 4, "g": 0.8})
    assert ours == qclab_swift.job_from_simulation(sim, [0])


def test_an_algorithm_subclass_with_qclabs_recipes_translates():
    class MyFSSH(FewestSwitchesSurfaceHopping):
        pass

    job = qclab_swift.job_from_simulation(simulation(SpinBoson({"A": 4}), MyFSSH({"fssh_deterministic": True})), [0])
    assert job["algorithm"]["name"] == "FewestSwitchesSurfaceHopping"
    assert job["algorithm"]["settings"]["fssh_deterministic"] is True


def test_our_linear_vibronic_coupling_with_finite_differences_and_complex_couplings():
    model = LinearVibronicCoupling({"h_q": np.array([[1.0, 0.5j], [-0.5j, -1.0]]), "frequencies": [2.0],
                                    "couplings": [[[0.1, [0.0, 0.2]], [[0.0, -0.2], -0.1]]]})
    model.ingredients.append(("dh_qc_dzc", None))
    model.constants.dh_qc_dzc_finite_difference_delta = 1e-7
    job = qclab_swift.job_from_simulation(simulation(model), [0])["model"]
    assert job["constants"] == {"h_q": [[1.0, [0.0, 0.5]], [[0.0, -0.5], -1.0]], "frequencies": [2.0],
                                "masses": [1.0], "couplings": [[[0.1, [0.0, 0.2]], [[0.0, -0.2], -0.1]]],
                                "kBT": 1.0, "init_classical": "boltzmann"}
    assert job["gradients"] == {"dh_qc_dzc": "finite_difference", "dh_qc_dzc_finite_difference_delta": 1e-7}


@pytest.mark.parametrize("constants, message", [
    ({"h_q": [[0.0, 1.0], [0.5, 0.0]]}, r"h_q\[0\]\[1\] = \(1\+0j\) is not the conjugate of h_q\[1\]\[0\]"),
    ({"frequencies": [1.0, -2.0], "couplings": [[[0.0]], [[0.0]]], "h_q": [[0.0]]}, r"frequencies\[1\] is -2.0"),
    ({"masses": [0.0]}, r"masses\[0\] is 0.0"),
    ({"couplings": [[[0.0, 1.0]]]}, r"couplings\[0\]\[0\] must be a row of 1 elements"),
    ({"h_q": [["x"]]}, r"h_q\[0\]\[0\] is 'x'; a matrix element is a number or \[re, im\]"),
    ({"init_classical": "thermal"}, r"init_classical is 'thermal'"),
])
def test_our_linear_vibronic_coupling_refuses_bad_constants_by_element(constants, message):
    with pytest.raises(ValueError, match=message):
        LinearVibronicCoupling(constants)
