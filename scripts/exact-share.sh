#!/usr/bin/env bash
# exact-share.sh [BIN] [JOB.json ...]: the exact reduction's share of each run, by perf.
#
# Runs `BIN run JOB --output ...` (serial, one BLAS thread) under `perf record` and adds
# up the samples of the functions that make the exact sums: the record and deposit paths
# of CSources/CQCLabExactSums/exact_sum.c and OutputAccumulator's Swift wrappers around
# them, moments and merges included. Sampling counts this process's own CPU time, so the
# share holds on a busy machine too. BIN defaults to .build/release/qclab; the jobs to
# every workload of compare.py's workloads files (QCLAB_WORKLOADS, default
# ../shared/workloads.json and Benchmarks/workloads-lattice.json). scripts/compare.sh
# measures the same share as a column of its table (scripts/compare.py: exact_share). For
# the time with the reduction switched off (plain floating-point sums), see
# Benchmarks/README.md: `swift package benchmark --filter 'Run .*'` times each workload both ways.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-.build/release/qclab}"
shift || true
command -v perf >/dev/null || { echo "exact-share.sh: perf is not installed" >&2; exit 1; }
exec "${PYTHON:-python3}" "$here/compare.py" --exact-share --binary "$bin" "$@"
