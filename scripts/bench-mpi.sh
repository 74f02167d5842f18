#!/bin/sh
# What a checkpoint costs under MPI, and one host against two: times `qclab run --driver mpi`
# of Examples/tully-problem-one.json with 20 000 trajectories in batches of 100, with and
# without `--checkpoint`, at 2, 4 and 8 ranks, on this host and across two "hosts" (two
# network namespaces joined by a veth pair, talking TCP; needs root with CAP_NET_ADMIN,
# skipped otherwise), and the forked driver with and without a checkpoint for reference.
# Best of REPEATS runs (default 3) of each; prints a Markdown table (Benchmarks/README.md).
#
#   swift build -c release --product qclab
#   scripts/bench-mpi.sh [REPEATS]
#
# The two "hosts" share this machine's cores, so two hosts cannot be faster than one here;
# what the table shows is that crossing TCP costs nothing noticeable. The harness (not a
# user) needs `--mca plm_rsh_agent` (a script standing in for ssh that enters the
# namespace, under a host name of its own since Open MPI names its shared-memory files
# after the host) and `--bind-to none` (each daemon would bind its first rank to the same
# core of this one machine).
set -eu
cd "$(dirname "$0")/.."
repeats=${1:-3}
qclab=$PWD/.build/release/qclab
[ -x "$qclab" ] || { echo "bench-mpi: build first: swift build -c release --product qclab" >&2; exit 1; }
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
    cat > "$work/agent.sh" <<EOF
#!/bin/sh
while [ "\${1#-}" != "\$1" ]; do shift; done
host=\$1; shift
case "\$host" in $hostA) ns=$a ;; $hostB) ns=$b ;; *) echo "unknown host \$host" >&2; exit 1 ;; esac
exec $ip netns exec "\$ns" unshare --uts /bin/sh -c "hostname \$ns; \$*"
EOF
    chmod +x "$work/agent.sh"
else
    echo "bench-mpi: cannot make network namespaces (needs root with CAP_NET_ADMIN): one host only" >&2
fi

# best COMMAND...: the least wall time of $repeats runs, in seconds (the checkpoint removed between runs).
best() {
    least=
    i=0
    while [ $i -lt "$repeats" ]; do
        rm -f "$work/ck" "$work/out.h5"
        start=$(date +%s.%N)
        (cd "$work" && "$@" > "$work/run.log" 2>&1) || { echo "bench-mpi: failed: $*" >&2; cat "$work/run.log" >&2; exit 1; }
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc -l)
        if [ -z "$least" ] || [ "$(echo "$t < $least" | bc -l)" = 1 ]; then least=$t; fi
        i=$((i + 1))
    done
    printf '%.2f' "$least"
}

row() {  # row LABEL COMMAND...: plain and checkpointed times, and the overhead
    label=$1; shift
    plain=$(best "$@" job.json --output out.h5)
    checked=$(best "$@" job.json --output out.h5 --checkpoint ck)
    overhead=$(echo "100 * ($checked - $plain) / $plain" | bc -l)
    printf '| %s | %s | %s | %+.1f%% |\n' "$label" "$plain" "$checked" "$overhead"
}

echo "| run | without checkpoint (s) | with --checkpoint (s) | overhead |"
echo "|---|---:|---:|---:|"
row "serial" "$qclab" run
row "forked, 2 workers" "$qclab" run --driver multiprocessing --num-tasks 2
for ranks in 2 4 8; do
    row "MPI, $ranks ranks, one host" mpirun --oversubscribe -n $ranks "$qclab" run --driver mpi
done
if [ $namespaces = 1 ]; then
    for ranks in 2 4 8; do
        half=$((ranks / 2))
        row "MPI, $ranks ranks, two hosts ($half each, TCP)" $ip netns exec $a mpirun --host $hostA:$half,$hostB:$half \
            -n $ranks --mca plm_rsh_agent "$work/agent.sh" --bind-to none "$qclab" run --driver mpi
    done
    row "MPI, 2 ranks, one host, --bind-to none" mpirun -n 2 --bind-to none "$qclab" run --driver mpi
fi
