"""qclab_swift against QC Lab 1.3.0's own drivers, on small jobs."""

import functools
import os
import warnings

import numpy as np
import pytest
from qclab import Simulation, ingredients
from qclab.algorithms import FewestSwitchesSurfaceHopping, MeanField, MultiStateMappingApproachToSurfaceHopping
from qclab.dynamics import serial_driver as qclab_serial_driver
from qclab.models import ComplexAvoidedCrossingA, FMOComplex, HolsteinLattice, SpinBoson, TullyProblemOne, TullyProblemTwo

import qclab_swift
from qclab_swift import QCLabSwiftError, UntranslatableSimulation

from agreement import assert_agree


def spin_boson_mf():
    sim = Simulation({"tmax": 2.0, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 12, "batch_size": 5,
                      "progress_bar": False})
    sim.model = SpinBoson({"V": 0.5, "E": 0.5, "A": 20, "l_reorg": 0.02})
    sim.algorithm = MeanField()
    sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
    return sim


def tully_fssh():
    sim = Simulation({"tmax": 300.0, "dt_update": 0.5, "dt_collect": 10.0, "num_trajs": 8, "batch_size": 4,
                      "progress_bar": False})
    sim.model = TullyProblemOne({"init_momentum": 15.0})
    sim.algorithm = FewestSwitchesSurfaceHopping({"gauge_fixing": "phase_overlap"})
    sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
    return sim


def holstein_fssh_deterministic():
    sim = Simulation({"tmax": 1.0, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 8, "batch_size": 8,
                      "progress_bar": False})
    sim.model = HolsteinLattice({"N": 4, "g": 0.8, "periodic": False})
    sim.algorithm = FewestSwitchesSurfaceHopping({"fssh_deterministic": True})
    wf = np.zeros(4, dtype=complex)
    wf[1] = 1
    sim.initial_state["wf_db"] = wf
    return sim


def fmo_wigner():
    sim = Simulation({"tmax": 1.0, "dt_update": 0.01, "num_trajs": 6, "batch_size": 3, "progress_bar": False})
    sim.model = FMOComplex({"N": 10})
    sim.model.ingredients.append(("init_classical", ingredients.init_classical_wigner_harmonic))
    sim.algorithm = MeanField()
    wf = np.zeros(7, dtype=complex)
    wf[0] = 1
    sim.initial_state["wf_db"] = wf
    return sim


def tully_two_msmash():
    """Through both crossings of Tully's second problem, where MSMASH hops."""
    sim = Simulation({"tmax": 1600.0, "dt_update": 1.0, "dt_collect": 40.0, "num_trajs": 8, "batch_size": 4,
                      "progress_bar": False})
    sim.model = TullyProblemTwo({"init_position": -8.0, "init_momentum": 20.0})
    sim.algorithm = MultiStateMappingApproachToSurfaceHopping(
        {"reverse_frustrated_hops": False, "msmash_max_hops": 6, "msmash_num_bisections": 12})
    sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
    return sim


def complex_crossing_a_fssh():
    """Model A with a constant H_q (its optional two_level_* constants), the gauge-field force and phase gauges."""
    sim = Simulation({"tmax": 0.4, "dt_update": 0.002, "dt_collect": 0.02, "num_trajs": 8, "batch_size": 4,
                      "progress_bar": False})
    sim.model = ComplexAvoidedCrossingA({"W": 1.5, "init_momentum_x": 12.0, "two_level_00": 0.5,
                                         "two_level_01_im": 0.25})
    sim.algorithm = FewestSwitchesSurfaceHopping({"gauge_fixing": "phase_der_couple", "use_gauge_field_force": True})
    sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
    return sim


def quietly(driver, sim, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return driver(sim, **kwargs)


@pytest.mark.parametrize("make", [spin_boson_mf, tully_fssh, holstein_fssh_deterministic, fmo_wigner, tully_two_msmash,
                                  complex_crossing_a_fssh])
def test_serial_driver_agrees_with_qclab(make):
    assert_agree(qclab_swift.serial_driver(make()), quietly(qclab_serial_driver, make()))


def test_seeds_set_num_trajs_as_in_qclab():
    seeds = np.array([7, 3, 11, 20, 5])
    sim = spin_boson_mf()
    ours = qclab_swift.serial_driver(sim, seeds=seeds)
    assert sim.settings.num_trajs == 5
    assert_agree(ours, quietly(qclab_serial_driver, spin_boson_mf(), seeds=seeds))


def test_appending_continues_the_seeds_as_in_qclab():
    ours = qclab_swift.serial_driver(spin_boson_mf())
    returned = qclab_swift.serial_driver(spin_boson_mf(), data=ours)
    assert returned is ours
    theirs = quietly(qclab_serial_driver, spin_boson_mf())
    theirs = quietly(qclab_serial_driver, spin_boson_mf(), data=theirs)
    np.testing.assert_array_equal(ours.data_dict["seed"], np.arange(24))
    assert_agree(ours, theirs)


def test_multiprocessing_driver_is_bit_identical_to_serial():
    serial = qclab_swift.serial_driver(tully_fssh())
    forked = qclab_swift.parallel_driver_multiprocessing(tully_fssh(), num_tasks=2)
    assert sorted(serial.data_dict) == sorted(forked.data_dict)
    for key in serial.data_dict:
        np.testing.assert_array_equal(serial.data_dict[key], forked.data_dict[key], err_msg=key)


def test_job_carries_every_constant_and_setting():
    sim = tully_fssh()
    job = qclab_swift.job_from_simulation(sim, [0, 1])
    assert job["model"]["name"] == "TullyProblemOne"
    assert job["model"]["constants"]["init_momentum"] == 15.0
    assert set(job["model"]["constants"]) == set(sim.model.default_constants)
    assert job["algorithm"] == {"name": "FewestSwitchesSurfaceHopping",
                                "settings": {"fssh_deterministic": False, "gauge_fixing": "phase_overlap",
                                             "use_gauge_field_force": False}}
    assert job["initial_state"]["wf_db"] == [[1.0, 0.0], [0.0, 0.0]]
    assert "init_classical" not in job["model"]
    assert qclab_swift.job_from_simulation(fmo_wigner(), [0])["model"]["init_classical"] == "wigner_harmonic"


def test_msmash_and_complex_crossing_jobs_carry_their_settings_and_constants():
    job = qclab_swift.job_from_simulation(tully_two_msmash(), [0])
    assert job["algorithm"] == {"name": "MultiStateMappingApproachToSurfaceHopping",
                                "settings": {"gauge_fixing": "sign_overlap", "use_gauge_field_force": False,
                                             "reverse_frustrated_hops": False, "msmash_max_hops": 6,
                                             "msmash_num_bisections": 12}}
    job = qclab_swift.job_from_simulation(complex_crossing_a_fssh(), [0])
    constants = job["model"]["constants"]
    assert constants["two_level_00"] == 0.5 and constants["two_level_01_im"] == 0.25
    assert "two_level_11" not in constants  # left at QC Lab's default, 0, as the executable's
    assert set(constants) == set(ComplexAvoidedCrossingA().default_constants) | {"two_level_00", "two_level_01_im"}
    assert "init_classical" not in job["model"]  # the model's own default, wigner_coherent_state


def test_a_constant_the_executable_would_not_read_is_refused_by_name():
    sim = tully_fssh()
    sim.model.constants.two_level_00 = 0.1  # QC Lab's h_q_two_level reads it; our Tully models do not
    with pytest.raises(UntranslatableSimulation, match="constant 'two_level_00' is not one the qclab executable reads"):
        qclab_swift.serial_driver(sim)


def test_our_files_extra_datasets_and_job_attribute_stay_out_of_the_data(monkeypatch):
    """Our files carry error bars and the job record (exact sums only when mergeable); the bridge returns QC Lab's datasets only."""
    import h5py
    from qclab_swift import run

    seen = {}
    original = run._read_output

    def reading(path):
        with h5py.File(path, "r") as f:
            seen["keys"] = set(f.keys())
            seen["attrs"] = set(f.attrs.keys())
        return original(path)

    monkeypatch.setattr(run, "_read_output", reading)
    ours = qclab_swift.serial_driver(tully_two_msmash())
    assert {"dm_db_sem", "num_samples"} <= seen["keys"]
    assert not {"dm_db_exact", "exact_sums"} & seen["keys"]
    assert {"log", "job"} <= seen["attrs"]
    assert sorted(ours.data_dict) == ["dm_db", "norm_factor", "seed", "t"]
    assert "job" not in ours.data_dict


def test_a_python_ingredient_is_refused_by_name():
    sim = spin_boson_mf()

    def my_h_q(model, parameters, **kwargs):
        return None

    sim.model.ingredients.append(("h_q", my_h_q))
    with pytest.raises(UntranslatableSimulation, match=r"ingredient 'h_q' \(my_h_q\).*fallback=True"):
        qclab_swift.serial_driver(sim)


def test_a_python_task_is_refused_by_name():
    sim = spin_boson_mf()

    def collect_my_output(sim, state, parameters):
        return state, parameters

    sim.algorithm.collect_recipe.append(collect_my_output)
    with pytest.raises(UntranslatableSimulation, match=r"collect_recipe\[8\] is task 'collect_my_output'"):
        qclab_swift.serial_driver(sim)


def test_a_subclass_that_changes_nothing_runs_as_its_built_in_model():
    class MySpinBoson(SpinBoson):
        pass

    sim = spin_boson_mf()
    sim.model = MySpinBoson({"V": 0.5, "E": 0.5, "A": 20, "l_reorg": 0.02})
    job = qclab_swift.job_from_simulation(sim, [0])
    assert job["model"] == qclab_swift.job_from_simulation(spin_boson_mf(), [0])["model"]
    mine = sim
    theirs = spin_boson_mf()
    theirs.model = MySpinBoson({"V": 0.5, "E": 0.5, "A": 20, "l_reorg": 0.02})
    assert_agree(qclab_swift.serial_driver(mine), quietly(qclab_serial_driver, theirs))


def test_an_array_constant_is_refused_by_name():
    sim = spin_boson_mf()
    sim.model.constants.E = np.array([0.5, 0.6])
    with pytest.raises(UntranslatableSimulation, match="constant 'E' is ndarray"):
        qclab_swift.serial_driver(sim)


def test_the_executables_error_comes_back_as_its_one_line():
    sim = spin_boson_mf()
    sim.settings.dt_update = -0.01
    with pytest.raises(QCLabSwiftError, match="^qclab: error: .*dt_update"):
        qclab_swift.serial_driver(sim)


def test_a_missing_executable_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("QCLAB_SWIFT_BIN", str(tmp_path / "nowhere" / "qclab"))
    with pytest.raises(QCLabSwiftError, match="QCLAB_SWIFT_BIN is .* not an executable file"):
        qclab_swift.serial_driver(spin_boson_mf())
    monkeypatch.delenv("QCLAB_SWIFT_BIN")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(QCLabSwiftError, match="not on PATH"):
        qclab_swift.serial_driver(spin_boson_mf())
