"""Every error code of the qclab executable reaches Python as QCLabSwiftError.code."""

import json
import subprocess

import numpy as np
import pytest
from qclab import Simulation
from qclab.algorithms import MeanField
from qclab.models import SpinBoson

import qclab_swift
from qclab_swift import QCLabSwiftError
from qclab_swift.errors import CODES, split_error_line

#: The codes of Swift's QCLabError.Code (the command line adds usage and other).
LIBRARY_CODES = CODES[:-2]


def small_sim():
    sim = Simulation({"tmax": 0.2, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 4, "batch_size": 2,
                      "progress_bar": False})
    sim.model = SpinBoson()
    sim.algorithm = MeanField()
    sim.initial_state["wf_db"] = np.array([1, 0], dtype=complex)
    return sim


@pytest.mark.parametrize("code", LIBRARY_CODES)
def test_each_code_comes_through_both_drivers_as_the_executable_reports_it(code, qclab_executable, tmp_path,
                                                                           monkeypatch):
    sim = small_sim()
    job = tmp_path / "job.json"
    job.write_text(json.dumps(qclab_swift.job_from_simulation(sim, np.arange(4))))
    monkeypatch.setenv("QCLAB_TEST_FAIL_WITH", code)
    monkeypatch.delenv("QCLAB_ERROR_CODES", raising=False)
    # What a user of the command line sees: one line, without a code.
    completed = subprocess.run([qclab_executable, "run", str(job), "-o", str(tmp_path / "out.h5")],
                               capture_output=True, text=True)
    assert completed.returncode == 1
    (line,) = completed.stderr.splitlines()
    assert line.startswith("qclab: error: ")
    for run in (qclab_swift.serial_driver, lambda s: qclab_swift.parallel_driver_multiprocessing(s, num_tasks=2)):
        with pytest.raises(QCLabSwiftError) as raised:
            run(small_sim())
        assert raised.value.code == code
        assert str(raised.value) == line
    assert not (tmp_path / "out.h5").exists()


def test_a_real_error_carries_its_code():
    sim = small_sim()
    sim.settings.dt_update = -0.01
    with pytest.raises(QCLabSwiftError) as raised:
        qclab_swift.serial_driver(sim)
    assert raised.value.code == "invalidSetting"
    sim = small_sim()
    sim.settings.batch_size = 0
    with pytest.raises(QCLabSwiftError) as raised:
        qclab_swift.serial_driver(sim)
    assert raised.value.code == "invalidSetting"


def test_the_bridges_own_faults_have_no_code(monkeypatch, tmp_path):
    monkeypatch.setenv("QCLAB_SWIFT_BIN", str(tmp_path / "nowhere"))
    with pytest.raises(QCLabSwiftError) as raised:
        qclab_swift.serial_driver(small_sim())
    assert raised.value.code is None


def test_split_error_line():
    assert split_error_line("qclab: error[hdf5]: HDF5 file 'a.h5': damaged") == ("hdf5", "qclab: error: HDF5 file 'a.h5': damaged")
    assert split_error_line("qclab: error: no code") == (None, "qclab: error: no code")
    assert split_error_line("qclab: warning: w") == (None, "qclab: warning: w")
