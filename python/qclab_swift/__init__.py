"""QC Lab's drivers, run by QCLab for Swift's ``qclab`` executable.

``serial_driver``, ``parallel_driver_multiprocessing`` and ``parallel_driver_mpi`` take
the arguments of QC Lab 1.3.0's drivers of the same names (and ``fallback``) and return a ``qclab.Data``. The ``Simulation`` is
translated into a job file (``qclab_swift.job_from_simulation``), the executable runs
it, and its HDF5 output is read back into a ``qclab.Data``.
"""

from qclab_swift.translate import UntranslatableSimulation, job_from_simulation
from qclab_swift.run import (
    QCLabSwiftError,
    find_executable,
    parallel_driver_mpi,
    parallel_driver_multiprocessing,
    serial_driver,
)
from qclab_swift import models

__all__ = [
    "serial_driver",
    "parallel_driver_multiprocessing",
    "parallel_driver_mpi",
    "models",
    "job_from_simulation",
    "find_executable",
    "UntranslatableSimulation",
    "QCLabSwiftError",
]
