#!/bin/bash
# SLURM job array: one job file, each array task runs its own range of seeds, and the
# parts merge into the same bits as one run of all seeds. Submit from the repository
# root (after `swift build -c release`):
#
#     sbatch Examples/slurm-array.sh Examples/spin-boson.json
#
# and, when every task is done:
#
#     .build/release/qclab merge results/part-*.h5 --output results/all.h5
#
# Each task runs SEEDS_PER_TASK seeds: task i runs seeds i*SEEDS_PER_TASK ... (i+1)*SEEDS_PER_TASK - 1
# (`--seeds A:B` is half-open, like a Python range). Keep SEEDS_PER_TASK a multiple of the
# job's batch_size (so every part splits at batch boundaries; results do not depend on
# batch_size, so the merge is exact either way). A task killed by its time limit resumes from
# its checkpoint when resubmitted (`sbatch --array=7 ...`): only its missing batches run.
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

JOB=${1:-Examples/spin-boson.json}
SEEDS_PER_TASK=${SEEDS_PER_TASK:-1000}
TASK=${SLURM_ARRAY_TASK_ID:-0}
FIRST=$((TASK * SEEDS_PER_TASK))
LAST=$((FIRST + SEEDS_PER_TASK))
mkdir -p results checkpoints

module purge
module load hdf5 openblas

# Forked workers on the task's cores (the driver uses the cores SLURM gives the task);
# each worker uses one BLAS thread.
.build/release/qclab run "$JOB" --seeds "$FIRST:$LAST" --driver multiprocessing \
    --checkpoint "checkpoints/part-$TASK.ck" --output "$(printf 'results/part-%05d.h5' "$TASK")"
