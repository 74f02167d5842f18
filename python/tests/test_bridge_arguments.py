"""Bad arguments to the bridge: each refused before anything runs, in one line naming the
argument in QC Lab's terms (never a temporary file, a bare h5py error or a silent change)."""

import numpy as np
import pytest
from qclab import Simulation
from qclab.algorithms import MeanField
from qclab.models import SpinBoson

import qclab_swift
from qclab_swift import QCLabSwiftError


def small_sim(**settings):
    values = {"tmax": 1.0, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 4, "batch_size": 4, "progress_bar": False}
    values.update(settings)
    sim = Simulation(values)
    sim.model = SpinBoson()
    sim.algorithm = MeanField()
    sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
    return sim


def one_line(error):
    text = str(error.value)
    assert "\n" not in text
    assert "job.json" not in text and "qclab_swift-" not in text
    return text


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_non_finite_tmax_names_the_setting(value):
    with pytest.raises(ValueError) as error:
        qclab_swift.serial_driver(small_sim(tmax=value))
    assert one_line(error).startswith("sim.settings.tmax is ")


def test_a_non_finite_dt_update_names_the_setting():
    sim = small_sim()
    sim.settings.dt_update = float("nan")
    with pytest.raises(ValueError, match=r"^sim\.settings\.dt_update is nan; it must be a finite number$"):
        qclab_swift.serial_driver(sim)


@pytest.mark.parametrize("num_tasks, reason", [
    (-2, "num_tasks must be at least 1 .* got -2"),
    (0, "num_tasks must be at least 1 .* got 0"),
    (1.9, "num_tasks must be a whole number .* got float 1.9"),
    (True, "num_tasks must be a whole number .* got bool True"),
    ("2", "num_tasks must be a whole number .* got str '2'"),
])
def test_num_tasks_is_a_whole_number_of_at_least_one(num_tasks, reason):
    with pytest.raises(ValueError, match=reason) as error:
        qclab_swift.parallel_driver_multiprocessing(small_sim(), num_tasks=num_tasks)
    assert "Missing value" not in one_line(error)


@pytest.mark.parametrize("seeds, reason", [
    ([0.7, 1.2], r"seeds must be whole numbers, got 0\.7"),
    (np.array([[0, 1], [2, 3]]), r"one-dimensional .* shape \(2, 2\)"),
    ([[0, 1]], r"one-dimensional .* shape \(1, 2\)"),
    ([-1, 2], r"seeds must be in 0 \.\.\. 4294967295, got -1"),
    ([0, 2**32], r"seeds must be in 0 \.\.\. 4294967295, got 4294967296"),
    ([True, False], r"seeds must be whole numbers, got True"),
])
def test_seeds_are_never_rounded_or_flattened(seeds, reason):
    with pytest.raises(ValueError, match=reason) as error:
        qclab_swift.serial_driver(small_sim(), seeds=seeds)
    one_line(error)


def test_whole_seeds_still_run():
    data = qclab_swift.serial_driver(small_sim(), seeds=np.array([3, 1], dtype=np.int32))
    assert sorted(np.asarray(data.data_dict["seed"]).tolist()) == [1, 3]


def test_an_executable_that_writes_nothing_is_named(monkeypatch):
    monkeypatch.setenv("QCLAB_SWIFT_BIN", "/bin/true")
    with pytest.raises(QCLabSwiftError, match=r"^/bin/true exited with status 0 but wrote no output; is it the qclab executable") as error:
        qclab_swift.serial_driver(small_sim())
    one_line(error)
