#!/bin/sh
# What a checkpoint costs under MPI, and one host against two: times `qclab run --driver mpi`
# of Examples/tully-problem-one.json with 20 000 trajectories in batches of 100, with and
# without `--checkpoint`, at 2, 4 and 8 ranks, on this host and across two "hosts" (two
# network namespaces joined by a veth pair, talking TCP; needs root with CAP_NET_ADMIN,
# skipped otherwise), and the forked driver with and without a checkpoint for reference.
# Best of REPEATS runs (default 3) of each, with and without in turn; prints a Markdown
# table (Benchmarks/README.md) and the load average before and after.
#
#   swift build -c release --static-swift-stdlib --product qclab
#   scripts/bench-mpi.sh [REPEATS]
#   ONLY='two hosts' scripts/bench-mpi.sh     # only the rows whose label matches
#
# The two "hosts" share this machine's cores, so two hosts cannot be faster than one here;
# what the table shows is that crossing TCP costs nothing noticeable. The harness (not a
# user) puts an `ssh` first on the PATH (a script that enters the namespace, under a host
# name of its own since Open MPI names its shared-memory files after the host) and `--bind-to none` (each daemon would bind its first rank to the same
# core of this one machine).
set -eu
cd "$(dirname "$0")/.."
repeats=${1:-3}
qclab=$PWD/.build/release/qclab
[ -x /usr/bin/time ] || { echo "bench-mpi: needs GNU time (apt-get install time)" >&2; exit 1; }
[ -x "$qclab" ] || { echo "bench-mpi: build first: swift build -c release --static-swift-stdlib --product qclab" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
ip=/usr/sbin/ip
tag=$(( $$ % 200 + 20 ))
a=qclabb${tag}a b=qclabb${tag}b
hostA=10.77.$tag.1 hostB=10.77.$tag.2
cleanup() {
    if [ "${namespaces:-0}" = 1 ]; then $ip netns del $a 2>/dev/null || true; $ip netns del $b 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
sed -e 's/"num_trajs": *[0-9]*/"num_trajs": 20000/' -e 's/"batch_size": *[0-9]*/"batch_size": 100/' \
    Examples/tully-problem-one.json > "$work/job.json"
grep -q '"num_trajs": 20000' "$work/job.json" && grep -q '"batch_size": 100' "$work/job.json"

namespaces=0
if [ -x $ip ] && $ip netns add $a 2>/dev/null; then
    namespaces=1
    $ip netns add $b
    $ip link add ${a}v type veth peer name ${b}v
    $ip link set ${a}v netns $a; $ip link set ${b}v netns $b
    $ip netns exec $a $ip addr add $hostA/24 dev ${a}v
    $ip netns exec $b $ip addr add $hostB/24 dev ${b}v
    for n in $a $b; do $ip netns exec $n $ip link set lo up; done
    $ip netns exec $a $ip link set ${a}v up; $ip netns exec $b $ip link set ${b}v up
    mkdir -p "$work/bin"
    cat > "$work/bin/ssh" <<EOF
#!/bin/sh
while [ "\${1#-}" != "\$1" ]; do shift; done
host=\$1; shift
case "\$host" in $hostA) ns=$a ;; $hostB) ns=$b ;; *) echo "unknown host \$host" >&2; exit 1 ;; esac
exec $ip netns exec "\$ns" unshare --uts /bin/sh -c "hostname \$ns; \$*"
EOF
    chmod +x "$work/bin/ssh"
else
    echo "bench-mpi: cannot make network namespaces (needs root with CAP_NET_ADMIN): one host only" >&2
fi

# row LABEL DRIVER-OPTIONS [LAUNCHER...]: the least wall time of $repeats runs without and
# with a checkpoint (taken in turn, so that a change in the machine's load touches both),
# the overhead, and the same for the CPU time of every process (GNU time around each
# rank; the forked driver's workers count in their parent's): on a shared, busy machine
# wall times move with the load, CPU times much less.
row() {
    label=$1 options=$2; shift 2
    if [ -n "${ONLY:-}" ] && ! echo "$label" | grep -q "$ONLY"; then return; fi
    plain= checked= plainCPU= checkedCPU=
    i=0
    while [ $i -lt "$repeats" ]; do
        for mode in plain checked; do
            extra=; [ $mode = checked ] && extra="--checkpoint ck"
            rm -f "$work/ck" "$work/out.h5"
            start=$(date +%s.%N)
            # shellcheck disable=SC2086
            (cd "$work" && "$@" /usr/bin/time -f "rank-cpu %U %S" "$qclab" run job.json --output out.h5 $options $extra \
                > "$work/run.log" 2>&1) || { echo "bench-mpi: failed: $* $options $extra" >&2; cat "$work/run.log" >&2; exit 1; }
            end=$(date +%s.%N)
            t=$(echo "$end - $start" | bc -l)
            c=$(awk '/^rank-cpu / { s += $2 + $3 } END { print s }' "$work/run.log")
            if [ $mode = plain ]; then
                if [ -z "$plain" ] || [ "$(echo "$t < $plain" | bc -l)" = 1 ]; then plain=$t; fi
                if [ -z "$plainCPU" ] || [ "$(echo "$c < $plainCPU" | bc -l)" = 1 ]; then plainCPU=$c; fi
            else
                if [ -z "$checked" ] || [ "$(echo "$t < $checked" | bc -l)" = 1 ]; then checked=$t; fi
                if [ -z "$checkedCPU" ] || [ "$(echo "$c < $checkedCPU" | bc -l)" = 1 ]; then checkedCPU=$c; fi
            fi
        done
        i=$((i + 1))
    done
    printf '| %s | %.2f | %.2f | %+.1f%% | %.2f | %.2f | %+.1f%% |\n' "$label" "$plain" "$checked" \
        "$(echo "100 * ($checked - $plain) / $plain" | bc -l)" "$plainCPU" "$checkedCPU" \
        "$(echo "100 * ($checkedCPU - $plainCPU) / $plainCPU" | bc -l)"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| run | wall (s) | wall, --checkpoint (s) | overhead | CPU (s) | CPU, --checkpoint (s) | overhead |"
echo "|---|---:|---:|---:|---:|---:|---:|"
row "forked, 2 workers" "--driver multiprocessing --num-tasks 2"
for ranks in 2 4 8; do
    row "MPI, $ranks ranks, one host" "--driver mpi" mpirun --oversubscribe -n $ranks
done
if [ $namespaces = 1 ]; then
    for ranks in 2 4 8; do
        half=$((ranks / 2))
        row "MPI, $ranks ranks, two hosts ($half each, TCP)" "--driver mpi" $ip netns exec $a env PATH="$work/bin:$PATH" mpirun \
            --host $hostA:$half,$hostB:$half -n $ranks --bind-to none
    done
    row "MPI, 2 ranks, one host, --bind-to none" "--driver mpi" mpirun -n 2 --bind-to none
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
