#!/usr/bin/env bash
# Installs the C libraries QCLab links (LAPACKE/OpenBLAS, Open MPI, HDF5) through apt-get
# when pkg-config or mpirun cannot find them. Swift packages come through SwiftPM.
set -euo pipefail
packages=(libopenblas-dev liblapacke-dev libopenmpi-dev openmpi-bin libhdf5-dev pkg-config)
if command -v pkg-config >/dev/null && pkg-config --exists lapacke openblas ompi-c hdf5 && command -v mpirun >/dev/null; then
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing ${packages[*]} with apt-get..." >&2
$sudo apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${packages[@]}" >&2
