#!/usr/bin/env python3
"""
Makes ``interchange_qclab_written.h5``: a small file written by QC Lab's own
``Data.save`` (h5py), for DataHDF5Tests to check that our loader reads files
written by qclab unchanged.

It was made with qclab==1.3.0 (asserted below) and h5py from a real, tiny run
driven through qclab's public API only: SpinBoson (A=4), fewest-switches surface
hopping, tmax=1, dt_update=0.01, dt_collect=0.1, num_trajs=4, batch_size=2, seeds
0..3 from the serial driver. Besides QC Lab's standard outputs (t, dm_db,
quantum_energy, classical_energy) the algorithm also collects the adiabatic
density matrix ``dm_adb`` with qclab's own ``collect_dm_db`` task, so the file
holds an extra complex dataset, as user scripts that add outputs produce.

DataHDF5Tests pins a few values of this file bit for bit; if you regenerate it,
update them (the script prints them).

Regenerate with:

    python3 -m venv .build/qclab-ref && .build/qclab-ref/bin/python -m pip install qclab==1.3.0 h5py
    cd Tests/QCLabTests/Fixtures && ../../../.build/qclab-ref/bin/python make_interchange_fixture.py
"""

import os
from functools import partial

import h5py
import numpy as np
import qclab
import qclab.tasks
from qclab.algorithms import FewestSwitchesSurfaceHopping
from qclab.dynamics import serial_driver
from qclab.models import SpinBoson

assert qclab.__version__ == "1.3.0", f"expected qclab 1.3.0, got {qclab.__version__}"

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "interchange_qclab_written.h5")

sim = qclab.Simulation({"tmax": 1.0, "dt_update": 0.01, "dt_collect": 0.1,
                        "num_trajs": 4, "batch_size": 2, "progress_bar": False})
sim.model = SpinBoson({"A": 4})
sim.algorithm = FewestSwitchesSurfaceHopping()
sim.algorithm.collect_recipe.append(
    partial(qclab.tasks.collect_dm_db, dm_db_name="dm_adb", dm_db_output_name="dm_adb"))
sim.initial_state["wf_db"] = np.array([1.0, 0.0], dtype=complex)

data = serial_driver(sim)
data.save(OUT)

with h5py.File(OUT, "r") as f:
    print("wrote", OUT, "with qclab", qclab.__version__, "h5py", h5py.__version__,
          "HDF5", h5py.version.hdf5_version)
    for key in f:
        print(f"  {key}: {f[key].dtype} {f[key].shape}")
    print("  seed =", [int(s) for s in f["seed"][()]], "norm_factor =", int(f["norm_factor"][()]))
    print("  values pinned by DataHDF5Tests:")
    print("    t[10] =", float(f["t"][10]).hex())
    dm = f["dm_db"][()]
    print("    dm_db[5,0,1] =", dm[5, 0, 1].real.hex(), dm[5, 0, 1].imag.hex())
    print("    quantum_energy[7] =", float(f["quantum_energy"][7]).hex())
    print("    classical_energy[3] =", float(f["classical_energy"][3]).hex())
    adb = f["dm_adb"][()]
    print("    dm_adb[5,0,1] =", adb[5, 0, 1].real.hex(), adb[5, 0, 1].imag.hex())
    print("    log starts", repr(f.attrs["log"][:60]), "length", len(f.attrs["log"]))
