#!/bin/bash
# SLURM job array: one job file, each array task runs its own range of seeds, and the
# parts merge into the same bits as one run of all seeds. Submit from the repository
# root (after `swift build -c release`):
#
#     sbatch Examples/slurm-array.sh Examples/spin-boson.json
#
# and, when every task is done (on the login node: merging only reads and adds):
#
#     TASKS=100 Examples/slurm-array.sh --merge
#
# or chain it: `sbatch --dependency=afterok:JOBID --wrap 'TASKS=100 Examples/slurm-array.sh --merge'`.
# The merge writes $RESULTS/all.h5 and refuses (one line, nothing written) when a part is
# missing: with TASKS it names the missing tasks, and `qclab merge --require-contiguous`
# refuses any seeds missing between the smallest and the largest.
#
# Task i runs seeds i*SEEDS_PER_TASK ... (i+1)*SEEDS_PER_TASK - 1 (`--seeds A:B` is half-open,
# like a Python range), by its SLURM_ARRAY_TASK_ID alone, so a task resubmitted on its own
# (`sbatch --array=7 ...`) runs the same seeds. Results do not depend on batch_size, so the
# merge is exact however the seeds split. A task killed by its time limit resumes from its
# checkpoint when resubmitted: only its missing batches run. A task whose part is already
# written does nothing, so resubmitting the whole array reruns only what is missing.
#
# Settings (environment variables; sbatch passes yours on):
#   SEEDS_PER_TASK  seeds per array task (default 1000)
#   RESULTS         folder of the parts, their checkpoints and all.h5 (default results)
#   QCLAB           the qclab executable (default: .build/release/qclab if built, else qclab on PATH)
#   QCLAB_MODULES   environment modules to load first, if the `module` command exists
#                   (default "hdf5 openblas"; site names differ; empty loads none)
#   TASKS           for --merge: the number of array tasks (0 ... TASKS-1), so that missing parts are named
#
#SBATCH --job-name=qclab-array
#SBATCH --array=0-99
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=8
#SBATCH --time=01:00:00
#SBATCH --output=qclab-%A_%a.log
# Site-specific: uncomment and adjust.
##SBATCH --partition=standard
##SBATCH --account=my-group

set -euo pipefail

SEEDS_PER_TASK=${SEEDS_PER_TASK:-1000}
RESULTS=${RESULTS:-results}
if [ -z "${QCLAB:-}" ]; then
    if [ -x .build/release/qclab ]; then QCLAB=.build/release/qclab; else QCLAB=qclab; fi
fi
QCLAB_MODULES=${QCLAB_MODULES-hdf5 openblas}

fail() { echo "slurm-array.sh: error: $*" >&2; exit 1; }

# Sites without environment modules (or with qclab's libraries installed system-wide)
# skip this. Module scripts may read unset variables, so `set -u` is off around them.
if [ -n "$QCLAB_MODULES" ] && command -v module >/dev/null 2>&1; then
    set +u
    # shellcheck disable=SC2086 # one word per module
    module load $QCLAB_MODULES
    set -u
fi

if [ "${1:-}" = "--merge" ]; then
    if [ -n "${TASKS:-}" ]; then
        missing=()
        for ((task = 0; task < TASKS; task++)); do
            [ -e "$(printf '%s/part-%05d.h5' "$RESULTS" "$task")" ] || missing+=("$task")
        done
        if [ ${#missing[@]} -gt 0 ]; then
            list=$(IFS=,; echo "${missing[*]}")
            fail "${#missing[@]} of $TASKS parts missing in $RESULTS (tasks $list); resubmit them with sbatch --array=$list"
        fi
    fi
    shopt -s nullglob
    parts=("$RESULTS"/part-*.h5)
    [ ${#parts[@]} -gt 0 ] || fail "no parts to merge in $RESULTS (part-*.h5)"
    exec "$QCLAB" merge "${parts[@]}" --require-contiguous --output "$RESULTS/all.h5"
fi

JOB=${1:-Examples/spin-boson.json}
TASK=${SLURM_ARRAY_TASK_ID:-}
[ -n "$TASK" ] || fail "SLURM_ARRAY_TASK_ID is not set: submit with sbatch (the script's --array line) or set it to the task number"
[[ "$TASK" =~ ^[0-9]+$ ]] || fail "SLURM_ARRAY_TASK_ID '$TASK' is not a task number"
[[ "$SEEDS_PER_TASK" =~ ^[1-9][0-9]*$ ]] || fail "SEEDS_PER_TASK '$SEEDS_PER_TASK' is not a positive whole number"
FIRST=$((TASK * SEEDS_PER_TASK))
LAST=$((FIRST + SEEDS_PER_TASK))
PART=$(printf '%s/part-%05d' "$RESULTS" "$TASK")
mkdir -p "$RESULTS"

if [ -e "$PART.h5" ]; then
    echo "$PART.h5 is already written (seeds $FIRST:$LAST); nothing to do"
    exit 0
fi

# Forked workers on the task's cores (the driver uses the cores SLURM gives the task);
# each worker uses one BLAS thread. --mergeable (which --seeds implies) keeps the exact
# sums in the part, so that the merge gives the bits of one run.
"$QCLAB" run "$JOB" --seeds "$FIRST:$LAST" --mergeable --driver multiprocessing \
    --checkpoint "$PART.ck" --output "$PART.h5"
