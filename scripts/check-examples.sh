#!/usr/bin/env bash
# Type-checks the example packages' sources against the built library as a module outside
# this package, so that they may use only the public surface (`package` symbols are
# invisible there). Run after `swift build`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)
flags=(-I "$bin/Modules")
# Every C module the library's modules were built against: ours, swift-numerics' shims, and
# the system libraries.
for map in "$bin"/*.build/module.modulemap CSources/*/module.modulemap; do
    [ -e "$map" ] && flags+=(-Xcc "-fmodule-map-file=$(realpath "$map")")
done
for dir in CSources/*/include .build/checkouts/*/Sources/*/include; do
    [ -d "$dir" ] && flags+=(-Xcc "-I$PWD/$dir")
done
for flag in $(pkg-config --cflags-only-I lapacke openblas hdf5); do flags+=(-Xcc "$flag"); done
status=0
for example in Examples/*/Sources/*; do
    if ! swiftc -typecheck -module-name ExampleCheck "${flags[@]}" "$example"/*.swift; then
        echo "check-examples.sh: $example uses more than the public API" >&2
        status=1
    fi
done
exit $status
