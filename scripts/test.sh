#!/usr/bin/env bash
# The test command: installs what is missing (system packages with scripts/install-deps.sh,
# QC Lab 1.3.0, h5py, pytest and mpi4py from PyPI in a virtual environment of its own; mpi4py
# compiles against the Open MPI that install-deps.sh installs), builds (the
# end-to-end tests run the built `qclab` executable, also under mpirun), runs every Swift
# test, then the Python bridge's tests (python/) against QC Lab's own drivers, then the
# fuzz targets for damaged checkpoints and output files for a bounded time, and last the
# formatting of the sources (scripts/lint.sh, swift-format with .swift-format).
#
# The Swift tests get what they need from here, never from elsewhere on the machine:
# QCLAB_TEST_PYTHON is the environment's python (the tests that compare with QC Lab or read
# files with h5py run it), and QCLAB_TEST_COMMAND=1 makes a test that misses something
# this command provides fail rather than skip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

# The public surface stays small and fully listed in the DocC overview.
scripts/public-api.sh >/dev/null

venv=.build/pyvenv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check qclab==1.3.0 h5py pytest mpi4py
export QCLAB_TEST_PYTHON="$PWD/$venv/bin/python" QCLAB_TEST_COMMAND=1

# Open MPI refuses root and more ranks than cores unless told; the MPI tests need both.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
swift build
# The examples compile against the public API alone.
scripts/check-examples.sh
# The suites are XCTest; without Swift Testing the run closes on XCTest's summary line.
swift test --disable-swift-testing

# The Python bridge: qclab_swift's results against QC Lab's own drivers, also under mpirun
# (mpi4py; the Open MPI root variables above). Reinstalled every
# time, so that the tests see this checkout's python/ and not an older copy.
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall ./python
status=0
QCLAB_SWIFT_BIN="$PWD/.build/debug/qclab" "$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests || status=$?
if [ "$status" -eq 5 ]; then
    echo "test.sh: pytest collected no tests in python/tests" >&2
    exit 1
fi
[ "$status" -eq 0 ] || exit "$status"

# Damaged checkpoints and output files, fuzzed from their committed seeds (the damaged
# files of CheckpointIntegrityTests and IntegrityTests) for a bounded time, a fixed seed.
scripts/fuzz.sh --ci 60 FuzzCheckpoint FuzzHDF5Reader

# The formatting: swift-format's lint of Sources, Tests and Examples, strict (any finding
# fails). `scripts/lint.sh --fix` rewrites the sources to match.
scripts/lint.sh
