#!/usr/bin/env bash
# The test command: installs what is missing, builds (the end-to-end tests run the built
# `qclab` executable, also under mpirun), and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Open MPI refuses root and more ranks than cores unless told; the MPI tests need both.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
swift build
# The suites are XCTest; without Swift Testing the run closes on XCTest's summary line.
swift test --disable-swift-testing
