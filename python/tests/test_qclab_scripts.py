"""QC Lab's own scripts (python/tests/qclab_scripts, sources noted in each) run as written
on QC Lab's drivers and, with the driver's import changed to qclab_swift, through the
bridge; the two `data` are compared."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from qclab import Simulation
from qclab.algorithms import MeanField
from qclab.models import SpinBoson

import qclab_swift
from qclab_swift import UntranslatableSimulation

from agreement import assert_agree

SCRIPTS = Path(__file__).parent / "qclab_scripts"


def run_script(name, bridge):
    """Runs a script; with `bridge`, its one `from qclab.dynamics import X` becomes `from qclab_swift import X`.
    Returns its module namespace (its `sim`, `data`, ...)."""
    path = SCRIPTS / name
    source = path.read_text()
    if bridge:
        lines = [line for line in source.splitlines() if line.startswith("from qclab.dynamics import ")]
        assert len(lines) == 1, f"{name} imports its driver {len(lines)} times"
        source = source.replace(lines[0], lines[0].replace("qclab.dynamics", "qclab_swift"))
    namespace = {"__name__": "__main__", "__file__": str(path)}
    exec(compile(source, str(path), "exec"), namespace)
    return namespace


def assert_identical(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_a_subclass_overriding_initializers_qclab_never_calls_runs_as_spin_boson():
    theirs = run_script("spin_boson_debye_subclass.py", bridge=False)
    ours = run_script("spin_boson_debye_subclass.py", bridge=True)
    job = qclab_swift.job_from_simulation(ours["sim"], [0])
    assert job["model"]["name"] == "SpinBoson" and job["model"]["constants"]["A"] == 20
    assert_agree(ours["data"], theirs["data"])


def debye_constants():
    """The Debye model's constants computed here, independently of the script."""
    A, w_D, l_reorg = 12, 0.5, 0.05
    w = np.linspace(10.0 * w_D / A, 10.0 * w_D, A)
    g = np.sqrt(2.0 * (2.0 * l_reorg * w_D * w / (w**2 + w_D**2)) * (w[1] - w[0]) / np.pi)
    return w, g


def test_constants_from_the_models_own_initializers_translate_into_linear_vibronic_coupling(monkeypatch):
    namespace = {}
    source = (SCRIPTS / "spin_boson_debye_ingredients.py").read_text().split("\nsim = Simulation(")[0]
    exec(compile(source, "spin_boson_debye_ingredients.py", "exec"), namespace)
    sim = Simulation({"tmax": 1.0, "dt_update": 0.01, "num_trajs": 2, "batch_size": 2})
    sim.model = namespace["SpinBosonDebye"]({"A": 12, "l_reorg": 0.05})
    sim.algorithm = MeanField()
    sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
    model = qclab_swift.job_from_simulation(sim, [0, 1])["model"]
    w, g = debye_constants()
    assert model["name"] == "LinearVibronicCoupling"
    constants = model["constants"]
    assert constants["h_q"] == [[0.5, 0.5], [0.5, -0.5]]
    np.testing.assert_allclose(constants["frequencies"], w, rtol=1e-14)
    assert constants["masses"] == [1.0] * 12
    # h_qc_diagonal_linear's gamma (z + z*) is K q with K = gamma sqrt(2 m w): here +-g.
    for k, coupling in enumerate(constants["couplings"]):
        np.testing.assert_allclose(np.array(coupling), np.diag([g[k], -g[k]]), rtol=1e-13, atol=0)
    assert constants["kBT"] == 1.0 and constants["init_classical"] == "boltzmann"
    assert "gradients" not in model


@pytest.mark.lvc_engine
def test_constants_from_the_models_own_initializers_run_in_swift():
    theirs = run_script("spin_boson_debye_ingredients.py", bridge=False)
    ours = run_script("spin_boson_debye_ingredients.py", bridge=True)
    assert_agree(ours["data"], theirs["data"])


def test_gradients_set_to_none_are_qclabs_finite_differences_in_the_job():
    sim = Simulation({"tmax": 1.0, "dt_update": 0.01, "num_trajs": 2, "batch_size": 2})
    sim.model = SpinBoson({"A": 10})
    sim.model.ingredients.append(("dh_qc_dzc", None))
    sim.algorithm = MeanField()
    sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
    model = qclab_swift.job_from_simulation(sim, [0])["model"]
    assert model["name"] == "SpinBoson"
    assert model["gradients"] == {"dh_qc_dzc": "finite_difference"}
    sim.model.ingredients.append(("dh_c_dzc", None))
    sim.model.constants.dh_c_dzc_finite_difference_delta = 1e-5
    model = qclab_swift.job_from_simulation(sim, [0])["model"]
    assert model["gradients"] == {"dh_qc_dzc": "finite_difference", "dh_c_dzc": "finite_difference",
                                  "dh_c_dzc_finite_difference_delta": 1e-5}
    assert "dh_c_dzc_finite_difference_delta" not in model["constants"]


@pytest.mark.lvc_engine
def test_gradients_set_to_none_run_in_swift_as_in_qclab():
    theirs = run_script("spin_boson_fd_gradient.py", bridge=False)
    ours = run_script("spin_boson_fd_gradient.py", bridge=True)
    assert qclab_swift.job_from_simulation(ours["sim"], [0])["model"]["gradients"] == {
        "dh_qc_dzc": "finite_difference", "dh_c_dzc": "finite_difference"}
    assert_agree(ours["data"], theirs["data"])


@pytest.mark.parametrize("script, ingredient", [("spin_boson_off_diagonal.py", "h_qc"),
                                                ("lvc_conical_intersection.py", "dh_qc_dzc_lvc|h_qc_lvc")])
def test_python_ingredients_are_refused_with_the_fallback_suggested(monkeypatch, script, ingredient):
    monkeypatch.delenv("QCLAB_SWIFT_FALLBACK", raising=False)
    with pytest.raises(UntranslatableSimulation) as error:
        run_script(script, bridge=True)
    message = str(error.value)
    assert "\n" not in message and "removed" not in message
    assert "fallback=True" in message and "QCLAB_SWIFT_FALLBACK=1" in message
    import re
    assert re.search(rf"ingredient '\w+' \(({ingredient})\)", message), message


@pytest.mark.parametrize("script", ["spin_boson_off_diagonal.py", "lvc_conical_intersection.py"])
def test_python_ingredients_run_on_qclabs_drivers_when_asked(monkeypatch, capfd, script):
    theirs = run_script(script, bridge=False)
    capfd.readouterr()
    monkeypatch.setenv("QCLAB_SWIFT_FALLBACK", "1")
    ours = run_script(script, bridge=True)
    lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("qclab_swift: running on QC Lab's own drivers (fallback): model ")
    assert_identical(ours["data"].data_dict, theirs["data"].data_dict)


def test_the_fallback_argument_and_a_bad_environment_value(monkeypatch, capfd):
    namespace = {}
    source = (SCRIPTS / "spin_boson_off_diagonal.py").read_text().replace("data = serial_driver(sim)", "")
    exec(compile(source, "spin_boson_off_diagonal.py", "exec"), namespace)
    sim = namespace["sim"]
    monkeypatch.setenv("QCLAB_SWIFT_FALLBACK", "yes")
    with pytest.raises(ValueError, match="^QCLAB_SWIFT_FALLBACK is 'yes'; set it to 1"):
        qclab_swift.serial_driver(sim)
    with pytest.raises(UntranslatableSimulation, match="h_qc"):
        qclab_swift.serial_driver(sim, fallback=False)  # the argument wins over the environment
    monkeypatch.delenv("QCLAB_SWIFT_FALLBACK")
    capfd.readouterr()
    data = qclab_swift.serial_driver(sim, seeds=[5, 6], fallback=True)
    assert np.asarray(data.data_dict["seed"]).tolist() == [5, 6]
    assert capfd.readouterr().err.startswith("qclab_swift: running on QC Lab's own drivers (fallback): model SpinBoson: ")


def test_our_linear_vibronic_coupling_is_the_users_model_on_qclabs_drivers():
    """The same Hamiltonian written by a user (QC Lab's worked example) and by its job
    constants (qclab_swift.models): QC Lab's drivers give the same results for both."""
    user = run_script("lvc_conical_intersection.py", bridge=False)
    ours = run_script("lvc_conical_intersection_swift.py", bridge=False)
    assert_agree(ours["data"], user["data"])
    job = qclab_swift.job_from_simulation(ours["sim"], [0])["model"]
    assert job == {"name": "LinearVibronicCoupling", "constants": {
        "h_q": [[0.0, 0.0], [0.0, 0.0]], "frequencies": [1.0, 1.0], "masses": [1.0, 1.0],
        "couplings": [[[0.5, 0.0], [0.0, -0.5]], [[0.0, 0.3], [0.3, 0.0]]], "kBT": 1.0,
        "init_classical": "wigner"}}


@pytest.mark.lvc_engine
def test_our_linear_vibronic_coupling_runs_in_swift_as_on_qclabs_drivers():
    theirs = run_script("lvc_conical_intersection_swift.py", bridge=False)
    ours = run_script("lvc_conical_intersection_swift.py", bridge=True)
    assert_agree(ours["data"], theirs["data"])


@pytest.mark.lvc_engine
@pytest.mark.parametrize("gauge_fixing", ["sign_overlap", "phase_der_couple"])
def test_a_conical_intersection_under_fssh_runs_in_swift_as_on_qclabs_drivers(gauge_fixing):
    """lvc_conical_intersection_swift.py's model under FSSH: hops along the derivative coupling of
    an off-diagonal (and here complex) coupling, harmonic rescaling."""
    from qclab.algorithms import FewestSwitchesSurfaceHopping
    from qclab.dynamics import serial_driver as qclab_serial_driver
    from qclab_swift.models import LinearVibronicCoupling

    def simulation():
        sim = Simulation({"tmax": 3.0, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 8, "batch_size": 4,
                          "progress_bar": False})
        sim.model = LinearVibronicCoupling({
            "h_q": [[0.2, 0.0], [0.0, -0.2]], "frequencies": [1.0, 0.8], "masses": [1.0, 2.0],
            "couplings": [[[0.5, 0.0], [0.0, -0.5]], [[0.0, [0.3, 0.1]], [[0.3, -0.1], 0.0]]],
            "kBT": 0.5, "init_classical": "wigner"})
        sim.algorithm = FewestSwitchesSurfaceHopping({"gauge_fixing": gauge_fixing})
        sim.initial_state["wf_db"] = np.array([1.0 + 0j, 0.0 + 0j])
        return sim

    assert_agree(qclab_swift.serial_driver(simulation()), qclab_serial_driver(simulation()))
