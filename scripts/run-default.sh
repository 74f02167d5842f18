#!/usr/bin/env bash
# Installs what is missing, builds in release mode and runs the built-in default job
# (surface hopping on the spin-boson model, 200 trajectories), or the job file given.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# The Swift runtime and Foundation linked into the executable: a run starts in about half
# the time (no dynamic symbol lookups for them), the same code and results.
swift build -c release --static-swift-stdlib --product qclab >&2
if [ $# -eq 0 ]; then
    exec .build/release/qclab run --output qclab-default.h5
fi
exec .build/release/qclab run "$@"
