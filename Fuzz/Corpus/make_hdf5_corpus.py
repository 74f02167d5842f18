"""Writes the seed corpus of FuzzHDF5Reader (Fuzz/Corpus/hdf5/*.h5) with h5py.

Run with any Python that has h5py and numpy (the files are committed; rerun only to
change them):  python3 Fuzz/Corpus/make_hdf5_corpus.py

The files are small on purpose: the fuzzer mutates bytes, and small files keep it fast.
They cover our layout (means, <name>_sem, num_samples, log), QC Lab 1.3.0's own layout
(no error bars), complex {r, i} compounds, a fixed-length log, and the lies the reader
must refuse before reading (a dataset declaring 10^11 elements, contiguous and chunked).
"""
import os
import h5py
import numpy as np

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hdf5")
os.makedirs(here, exist_ok=True)
complex_type = np.dtype([("r", "<f8"), ("i", "<f8")])


def ours(f, times=3, states=2, samples=True):
    f["seed"] = np.arange(4, dtype="<i8")
    f["norm_factor"] = np.int64(4)
    f["t"] = np.linspace(0, 0.2, times)
    dm = np.zeros((times, states, states), dtype=complex)
    dm[:, 0, 0] = 1
    f["dm_db"] = dm
    f["quantum_energy"] = np.full(times, 0.5)
    f["classical_energy"] = np.full(times, 1.5)
    if samples:
        f["dm_db_sem"] = np.full((times, states, states), 0.01 + 0.01j)
        f["quantum_energy_sem"] = np.full(times, 0.1)
        f["classical_energy_sem"] = np.full(times, 0.1)
        f["num_samples"] = np.int64(4)
    f.attrs["log"] = "QCLab for Swift: MeanField on SpinBoson, serial driver, 1 task(s).\n"


with h5py.File(os.path.join(here, "ours.h5"), "w") as f:
    ours(f)
with h5py.File(os.path.join(here, "qclab.h5"), "w") as f:
    ours(f, samples=False)
with h5py.File(os.path.join(here, "fixed-log.h5"), "w") as f:
    ours(f, times=2, states=3)
    f.attrs["log"] = np.bytes_(b"fixed length log")
with h5py.File(os.path.join(here, "declares-huge.h5"), "w") as f:
    f["seed"] = np.arange(2, dtype="<i8")
    f["norm_factor"] = np.int64(2)
    f.create_dataset("t", shape=(10**11,), dtype="<f8")
with h5py.File(os.path.join(here, "declares-huge-chunked.h5"), "w") as f:
    f["seed"] = np.arange(2, dtype="<i8")
    f["norm_factor"] = np.int64(2)
    f.create_dataset("t", shape=(10**11,), dtype="<f8", chunks=(1000,), compression="gzip")
with h5py.File(os.path.join(here, "last-seed.h5"), "w") as f:
    f["seed"] = np.array([2**32 - 1], dtype="<i8")
    f["norm_factor"] = np.int64(1)
    f["t"] = np.array([0.0])
