#!/usr/bin/env bash
# Runs the libFuzzer targets in Fuzz/ for a bounded time each.
#
#   scripts/fuzz.sh [seconds per target, default 60] [target ...]
#   scripts/fuzz.sh 30 FuzzCheckpoint     # the bounded run the test command makes
#
# Targets: FuzzJobParser (job files), FuzzHDF5Reader (HDF5 outputs), FuzzCheckpoint
# (checkpoints, as they are and re-sealed with a valid checksum). Each starts from its
# committed seed corpus (Fuzz/Corpus/job, Fuzz/Corpus/hdf5, Fuzz/Corpus/checkpoint: the
# damaged checkpoints of CheckpointIntegrityTests) plus the regression inputs in
# Fuzz/Findings, grows a scratch corpus under Fuzz/.build/corpus, and writes anything that
# crashes, traps, leaks past -rss_limit_mb or hangs past -timeout to Fuzz/.build/findings.
# FuzzHDF5Reader reads in-process, so it also finds crashes and endless loops inside the
# HDF5 library (1.10) that no check of ours can prevent; `qclab` refuses those files by
# reading every HDF5 input in a child process first (Sources/qclab/InputCheck.swift).
# Such findings belong in Fuzz/Findings/HDF5Library (replayed by the tests through qclab,
# but not fed to the fuzzer, which would crash on them at once); findings fixed in our
# code belong in Fuzz/Findings/<target>, which seeds the fuzzer.
# Exit status: 0 if no target found anything. A finding goes into Fuzz/Findings/<target>
# (committed) once fixed: FuzzFindingTests reads it back through qclab. CI's test command runs
# `--ci` (below) on FuzzCheckpoint and FuzzHDF5Reader; the findings so far are regression tests in Tests/QCLabTests/FuzzFindingTests.swift.
#
#   scripts/fuzz.sh --ci [seconds per target, default 120] [target ...]
#
# CI's bounded run: a fixed libFuzzer seed (-seed=1), the committed seeds only (the
# damaged outputs Fuzz/Corpus/hdf5/integrity-*.h5 among them, see make_integrity_seeds.py;
# no scratch corpus carried over), fork mode carrying on after a finding. The run fails
# (exit status 1) on any FuzzJobParser finding, and on any FuzzHDF5Reader finding that
# `qclab info` does not refuse cleanly (status 0 or 1, one line): the in-process fuzzer
# also meets crashes inside HDF5 1.10, which qclab refuses by reading inputs in a child
# process first (they are listed, for a look, but do not fail the run).
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
ci=0
if [ "${1:-}" = --ci ]; then
    ci=1
    shift
fi
seconds=${1:-$([ $ci = 1 ] && echo 120 || echo 60)}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzJobParser FuzzHDF5Reader FuzzCheckpoint)

# libFuzzer's main replaces Swift's (-parse-as-library); every Swift module is
# instrumented for coverage, the C shims with -fsanitize=fuzzer-no-link.
swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library \
    -Xcc -fsanitize=fuzzer-no-link $(printf -- '--product %s ' "${targets[@]}")
bin=$(swift build -c release --show-bin-path)

status=0
for target in "${targets[@]}"; do
    case $target in
        FuzzJobParser) seeds=Corpus/job ;;
        FuzzHDF5Reader) seeds=Corpus/hdf5 ;;
        FuzzCheckpoint) seeds=Corpus/checkpoint ;;
        *) echo "unknown target $target" >&2; exit 2 ;;
    esac
    corpus=.build/corpus/$target findings=.build/findings/$target
    rm -rf "$findings"
    [ $ci = 1 ] && rm -rf "$corpus"
    mkdir -p "$corpus" "$findings"
    echo "== $target for ${seconds}s (seeds: $seeds, Findings/$target)"
    regressions=()
    [ -d "Findings/$target" ] && regressions=("Findings/$target")
    # Fork mode, carrying on after a finding, unless KEEP_GOING=0: HDF5 1.10 has crashes
    # and endless loops of its own on damaged files, which would otherwise end the run
    # within seconds; collect them all.
    mode=()
    [ "${KEEP_GOING:-1}" = 1 ] && mode=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
    [ $ci = 1 ] && mode=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 -seed=1)
    "$bin/$target" "${mode[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
        -artifact_prefix="$findings/" -print_final_stats=1 "$corpus" "$seeds" "${regressions[@]}" || true
    # The scratch files of inputs that crashed or timed out (the others remove their own).
    rm -f "${TMPDIR:-/tmp}"/qclab-fuzz-*
    if [ $ci = 1 ] && [ "$target" = FuzzHDF5Reader ] && [ -n "$(ls -A "$findings")" ]; then
        # What users meet: each finding through qclab (built as the tests build it).
        (cd .. && swift build --product qclab >/dev/null)
        qclab="$(cd .. && swift build --show-bin-path)/qclab"
        for finding in "$findings"/*; do
            result=0
            QCLAB_INPUT_CHECK_SECONDS=10 "$qclab" info "$finding" >/dev/null 2>.build/ci-stderr || result=$?
            lines=$(wc -l <.build/ci-stderr)
            if [ $result = 0 ] || { [ $result = 1 ] && [ "$lines" = 1 ]; }; then
                echo "== handled by qclab (refused or read cleanly): $finding: $(head -c 200 .build/ci-stderr)"
            else
                status=1
                echo "== NOT handled by qclab (status $result, $lines lines): Fuzz/$finding" >&2
            fi
        done
    elif [ -n "$(ls -A "$findings")" ]; then
        status=1
        echo "== $target found something: see Fuzz/$findings" >&2
    fi
done
exit $status
