#!/usr/bin/env bash
# Checks the Swift sources' formatting against .swift-format (lines under 120 characters,
# four-space indentation, doc comments that open with a one-line summary): any finding
# fails. `scripts/lint.sh --fix` rewrites the sources in place first (what it cannot fix,
# such as a doc comment without a summary line, it then reports).
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Sources Tests Examples Package.swift)
if [ "${1:-}" = "--fix" ]; then
    swift format format --in-place --parallel --recursive "${paths[@]}"
fi
swift format lint --strict --parallel --recursive "${paths[@]}"
