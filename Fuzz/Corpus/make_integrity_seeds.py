"""Writes the damaged-output seeds of FuzzHDF5Reader (Fuzz/Corpus/hdf5/integrity-*.h5).

Run from the repository root after `swift build`, with a Python that has h5py and numpy
(the files are committed; rerun only to change them):

    python3 Fuzz/Corpus/make_integrity_seeds.py .build/debug/qclab

A tiny output written by qclab (with its checksums), then the damage the reader must
refuse, each as its own file: single-bit flips at seeded positions, 12345 added to one
limb of `dm_db_exact`, `dm_db_exact` deleted with h5py, a mean edited with its checksum
made to match, and QC Lab 1.3.0's own file of another job (the test fixture
qclab_other_job_mf_kbt5.h5, written by Tests/QCLabTests/Fixtures/make_other_job_fixture.py).
"""
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
here = os.path.join(root, "Fuzz", "Corpus", "hdf5")
qclab = os.path.abspath(sys.argv[1])
JOB = """{"settings": {"tmax": 0.2, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 4, "batch_size": 2},
 "model": {"name": "SpinBoson", "constants": {"A": 2}},
 "algorithm": {"name": "FewestSwitchesSurfaceHopping"}, "initial_state": {"wf_db": [1.0, 0.0]}}"""


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def seed(name, data):
    with open(os.path.join(here, "integrity-" + name + ".h5"), "wb") as f:
        f.write(data)


with tempfile.TemporaryDirectory() as scratch:
    with open(os.path.join(scratch, "job.json"), "w") as f:
        f.write(JOB)
    subprocess.run([qclab, "run", "job.json", "--output", "out.h5"], cwd=scratch, check=True, stdout=subprocess.DEVNULL)
    path = os.path.join(scratch, "out.h5")
    sound = open(path, "rb").read()
    seed("sound", sound)

    rng = random.Random(20251206)
    for _ in range(8):
        bit = rng.randrange(len(sound) * 8)
        flipped = bytearray(sound)
        flipped[bit // 8] ^= 1 << (bit % 8)
        seed(f"flip-{bit}", bytes(flipped))

    with h5py.File(path, "r") as f:
        limbs = f["dm_db_exact"][()]
    start = sound.find(limbs.astype("<i8").tobytes())
    assert start >= 0
    changed = bytearray(sound)
    limb = start + 16
    value = struct.unpack("<q", changed[limb:limb + 8])[0] + 12345
    changed[limb:limb + 8] = struct.pack("<q", value)
    seed("exact-limb-plus-12345", bytes(changed))

    dropped = os.path.join(scratch, "dropped.h5")
    shutil.copy(path, dropped)
    with h5py.File(dropped, "r+") as f:
        del f["dm_db_exact"]
    seed("exact-dropped", open(dropped, "rb").read())

    edited = os.path.join(scratch, "edited.h5")
    shutil.copy(path, edited)
    with h5py.File(edited, "r+") as f:
        values = f["quantum_energy"][()]
        values[1] += 1.0
        f["quantum_energy"][...] = values
        digest = crc32c(b"f" + struct.pack("<QQ", 1, len(values)) + values.astype("<f8").tobytes())
        lines = [f"{digest:08x} quantum_energy" if line.endswith(" quantum_energy") else line
                 for line in f.attrs["checksums"].split("\n")]
        f.attrs["checksums"] = "\n".join(lines)
    seed("mean-edited-checksum-matched", open(edited, "rb").read())

shutil.copy(os.path.join(root, "Tests", "QCLabTests", "Fixtures", "qclab_other_job_mf_kbt5.h5"),
            os.path.join(here, "integrity-qclab-other-job.h5"))
print("wrote", sorted(name for name in os.listdir(here) if name.startswith("integrity-")))
