#!/usr/bin/env bash
# Installs what QCLab needs from apt-get when it is missing: the C libraries it links
# (LAPACKE/OpenBLAS, Open MPI, HDF5, found through pkg-config), rsvg-convert (librsvg,
# which turns `qclab plot`'s SVG into PNG) and Python's venv module (the Python bridge's
# tests). Swift packages come through SwiftPM, Python packages through pip.
set -euo pipefail
packages=(libopenblas-dev liblapacke-dev libopenmpi-dev openmpi-bin libhdf5-dev pkg-config librsvg2-bin python3-venv)
if command -v pkg-config >/dev/null && pkg-config --exists lapacke openblas ompi-c hdf5 && command -v mpirun >/dev/null \
    && command -v rsvg-convert >/dev/null && python3 -c 'import ensurepip, venv' 2>/dev/null; then
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing ${packages[*]} with apt-get..." >&2
$sudo apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${packages[@]}" >&2
