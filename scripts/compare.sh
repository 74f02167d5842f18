#!/usr/bin/env bash
# QCLab for Swift vs QC Lab 1.3.0, side by side, on every workload of ../shared/workloads.json
# and Benchmarks/workloads-lattice.json (the Holstein lattice at N = 100 and 200).
#
#   scripts/compare.sh [--workloads a,b] [--skip-qclab] [--repeat N] [--num-tasks N]
#                      [--workloads-file F ...] [--no-exact-share]
#
# Per workload: the speed-up over QC Lab and its target, the file sizes (ours, ours
# --mergeable, QC Lab's) and the exact reduction's share of our run (perf, when installed),
# then how the speed-up grows with the lattice (N = 50, 100, 200).
# Creates the reference venv when needed (qclab==1.3.0 and h5py from PyPI; default
# Benchmarks/.build/qclab-ref-venv, which git ignores; override with QCLAB_REF_VENV),
# builds `qclab` in release mode, then runs scripts/compare.py with the venv's Python.
# The Markdown table is printed and written to Benchmarks/results/latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
venv="${QCLAB_REF_VENV:-$repo/Benchmarks/.build/qclab-ref-venv}"
python="${PYTHON:-python3}"

case " $* " in
    *" -h "*|*" --help "*) exec "$python" scripts/compare.py --help ;;
esac

scripts/install-deps.sh

if ! "$venv/bin/python" -c 'import h5py, qclab; assert qclab.__version__ == "1.3.0"' >/dev/null 2>&1; then
    echo "Creating the reference venv $venv (qclab==1.3.0, h5py)..." >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
    "$venv/bin/python" -m pip install --quiet "qclab==1.3.0" h5py >&2
fi

echo "Building qclab (release, Swift runtime linked statically, as scripts/run-default.sh)..." >&2
swift build -c release --static-swift-stdlib --product qclab >&2

exec "$venv/bin/python" scripts/compare.py "$@"
