#!/usr/bin/env python3
"""
Makes ``qclab_other_job_mf_kbt5.h5``: a file written by QC Lab's own ``Data.save`` of
a job other than the FSSH one it is merged with in IntegrityTests (which must note,
keep the known job, and refuse under --strict).

Made with qclab==1.3.0 (asserted below) and h5py, through qclab's public API only:
SpinBoson with kBT=5, E=-0.5 (other constants QC Lab's defaults), MeanField, wf_db
[0, 1], tmax=1, dt_update=0.01, dt_collect=0.1, num_trajs=4, batch_size=2, seeds 0..3
from the serial driver, saved under seeds 1000..1003 so that it shares no seed with
the file it is merged with. QC Lab records no job in its files.

Regenerate with:

    python3 -m venv /tmp/ref
    /tmp/ref/bin/pip install qclab==1.3.0 h5py
    cd Tests/QCLabTests/Fixtures && /tmp/ref/bin/python make_other_job_fixture.py
"""

import os

import numpy as np
import qclab
from qclab.algorithms import MeanField
from qclab.dynamics import serial_driver
from qclab.models import SpinBoson

assert qclab.__version__ == "1.3.0", f"expected qclab 1.3.0, got {qclab.__version__}"

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "qclab_other_job_mf_kbt5.h5")

sim = qclab.Simulation({"tmax": 1.0, "dt_update": 0.01, "dt_collect": 0.1,
                        "num_trajs": 4, "batch_size": 2, "progress_bar": False})
sim.model = SpinBoson({"kBT": 5.0, "E": -0.5})
sim.algorithm = MeanField()
sim.initial_state["wf_db"] = np.array([0.0, 1.0], dtype=complex)

data = serial_driver(sim)
data.data_dict["seed"] = np.asarray(data.data_dict["seed"]) + 1000
data.save(OUT)
print("wrote", OUT, "with qclab", qclab.__version__, "keys", sorted(data.data_dict))
