#!/usr/bin/env bash
# exact-share.sh [BIN] [JOB.json ...]: the exact reduction's share of each run, by perf.
#
# Runs `BIN run JOB --output ...` (serial, one BLAS thread) under `perf record` and adds
# up the samples of the functions that make the exact sums: the record and deposit paths
# of CSources/CQCLabExactSums/exact_sum.c and OutputAccumulator's Swift wrappers around
# them, moments and merges included. Sampling counts this process's own CPU time, so the
# share holds on a busy machine too. For the time with the reduction switched off (plain
# floating-point sums), see Benchmarks/README.md: `swift package benchmark --filter 'Run .*'`
# times each workload both ways.
# BIN defaults to .build/release/qclab; the jobs to every workload of compare.py's
# workloads file (QCLAB_WORKLOADS, default ../shared/workloads.json).
set -euo pipefail
bin="${1:-.build/release/qclab}"
shift || true
jobs=("$@")
command -v perf >/dev/null || { echo "exact-share.sh: perf is not installed" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [ ${#jobs[@]} -eq 0 ]; then
    workloads="${QCLAB_WORKLOADS:-$(dirname "$0")/../../shared/workloads.json}"
    mkdir "$scratch/jobs"
    python3 - "$workloads" "$scratch/jobs" <<'PY'
import json, sys
for name, value in json.load(open(sys.argv[1])).items():
    job = value["job"] if isinstance(value, dict) and "job" in value else value
    json.dump(job, open(f"{sys.argv[2]}/{name}.json", "w"))
PY
    jobs=("$scratch"/jobs/*.json)
fi
pattern='record_chunk|record_across|record_elements|qclab_exact|record_with|deposit|add_state|state_value|OutputAccumulator'
printf '| job | samples | exact reduction | share |\n|---|---:|---:|---:|\n'
for job in "${jobs[@]}"; do
    name=$(basename "$job" .json)
    OPENBLAS_NUM_THREADS=1 perf record -q -F 4000 -o "$scratch/$name.data" \
        "$bin" run "$job" --output "$scratch/$name.h5" >/dev/null 2>"$scratch/$name.err" \
        || { echo "exact-share.sh: $name failed: $(tail -1 "$scratch/$name.err")" >&2; exit 1; }
    perf report -i "$scratch/$name.data" --no-children --sort symbol -F overhead,sample,symbol \
        --percent-limit 0 --stdio 2>/dev/null | awk -v name="$name" -v pattern="$pattern" '
        /^#/ || NF < 3 { next }
        { total += $2; if ($0 ~ pattern) exact += $2 }
        END { printf "| %s | %d | %d | %.1f%% |\n", name, total, exact, total ? 100 * exact / total : 0 }'
done
