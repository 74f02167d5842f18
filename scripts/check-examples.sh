#!/usr/bin/env bash
# Type-checks the example packages' sources against the built library as a module outside
# this package, so that they may use only the public surface (`package` symbols are
# invisible there). Run after `swift build`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)
flags=(-I "$bin/Modules")
for map in "$bin"/CQCLabKernels.build/module.modulemap "$bin"/CQCLabDrivers.build/module.modulemap \
           "$bin"/CHDF5Shims.build/module.modulemap CSources/COpenBLAS/module.modulemap \
           CSources/CHDF5/module.modulemap CSources/CLAPACKE/module.modulemap; do
    flags+=(-Xcc "-fmodule-map-file=$(realpath "$map")")
done
for dir in CSources/*/include; do flags+=(-Xcc "-I$PWD/$dir"); done
for flag in $(pkg-config --cflags-only-I lapacke openblas hdf5); do flags+=(-Xcc "$flag"); done
status=0
for example in Examples/*/Sources/*; do
    if ! swiftc -typecheck -module-name ExampleCheck "${flags[@]}" "$example"/*.swift; then
        echo "check-examples.sh: $example uses more than the public API" >&2
        status=1
    fi
done
exit $status
