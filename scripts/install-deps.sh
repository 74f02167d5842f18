#!/usr/bin/env bash
# Installs what QCLab and its tests need from apt-get when it is missing: the C libraries it
# links (LAPACKE/OpenBLAS, Open MPI, HDF5, found through pkg-config), rsvg-convert (librsvg,
# which turns `qclab plot`'s SVG into PNG), Python's venv module (scripts/test.sh makes the
# tests' Python environment with it), and the tools the tests run: GNU time (peak memory),
# iproute2's ip (network namespaces), util-linux's script (a terminal) and mount/umount
# (a small tmpfs). Swift packages come through SwiftPM, Python packages through pip.
set -euo pipefail
packages=(libopenblas-dev liblapacke-dev libopenmpi-dev openmpi-bin libhdf5-dev pkg-config librsvg2-bin python3-venv
          time iproute2 bsdutils mount)
# The tests run these tools by these paths.
tools=(/usr/bin/time /usr/sbin/ip /usr/bin/script /bin/mount /bin/umount)
present() {
    for tool in "${tools[@]}"; do [ -x "$tool" ] || return 1; done
    command -v pkg-config >/dev/null && pkg-config --exists lapacke openblas ompi-c hdf5 && command -v mpirun >/dev/null \
        && command -v rsvg-convert >/dev/null && python3 -c 'import ensurepip, venv' 2>/dev/null
}
present && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing ${packages[*]} with apt-get..." >&2
$sudo apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${packages[@]}" >&2
