#!/bin/bash
# SLURM job script for the MPI driver: one job of 4 nodes x 32 ranks running one qclab job.
# Submit from the repository root (after `swift build -c release`):
#
#     sbatch Examples/slurm-mpi.sh Examples/spin-boson.json
#
# Every rank runs the same command; batches go to ranks as they free up, each rank folds
# its own, the ranks combine their sums along a tree, and rank 0 writes the output
# (through a temporary file, renamed when complete). The result is the same, to the bit,
# as `qclab run JOB --driver serial` on one core.
#
# Settings (environment variables): QCLAB, the qclab executable (default:
# .build/release/qclab if built, else qclab on PATH); QCLAB_MODULES, environment modules
# loaded first if the `module` command exists (default "openmpi hdf5 openblas"; empty: none).
#
#SBATCH --job-name=qclab
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=32
#SBATCH --cpus-per-task=1
#SBATCH --time=02:00:00
#SBATCH --output=qclab-%j.log
# Site-specific: uncomment and adjust.
##SBATCH --partition=standard
##SBATCH --account=my-group

set -euo pipefail

JOB=${1:-Examples/spin-boson.json}
OUT=${2:-results/$(basename "$JOB" .json)-${SLURM_JOB_ID:-local}.h5}
mkdir -p "$(dirname "$OUT")"

# The MPI library qclab was built against, if the site has environment modules (names
# differ between sites: set QCLAB_MODULES; empty loads none). Module scripts may read
# unset variables, so `set -u` is off around them.
QCLAB_MODULES=${QCLAB_MODULES-openmpi hdf5 openblas}
if [ -n "$QCLAB_MODULES" ] && command -v module >/dev/null 2>&1; then
    set +u
    # shellcheck disable=SC2086 # one word per module
    module load $QCLAB_MODULES
    set -u
fi
if [ -z "${QCLAB:-}" ]; then
    if [ -x .build/release/qclab ]; then QCLAB=.build/release/qclab; else QCLAB=qclab; fi
fi

# One BLAS thread per rank: ranks already fill the cores.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

# srun starts one qclab per rank; --num-tasks is optional and, if given, must equal
# the number of ranks ($SLURM_NTASKS).
srun "$QCLAB" run "$JOB" --driver mpi --output "$OUT"

"$QCLAB" info "$OUT"

# Many independent jobs instead (a job array, each task with its own --seeds A:B), merged
# after: see Examples/slurm-array.sh.
