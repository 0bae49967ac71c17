#!/bin/bash
# Throughput of a published port on loopback: iperf3 on the host against an iperf3 server in a
# container behind `-p 127.0.0.1:PORT:5201`, swctr (the CNI portmap plugin: kernel DNAT) next to
# dockerd (its default: docker-proxy for loopback). Called by bench/swctr.sh with its work
# directory, image and commands; writes WORK/portmap.md. Only 127.0.0.1 and the bridges made here
# are contacted. Numbers are for people, never assertions.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/leftovers.sh"
work=$1 img=$2 cg=$3
SWCTR=("${SWCTR:-$here/../swctr/.build/release/swctr}" --root "$work/swctr" --runtime "${SWRUNC:-$here/../.build/release/swrunc}")
SECONDS_EACH=${PORTMAP_SECONDS:-5}
# The server is the host's iperf3 run by the host's dynamic loader from a read-only /usr: the
# busybox image has no libc.
LIB=/usr/lib/x86_64-linux-gnu
SERVER=(-v /usr:/usr:ro "$img" "$LIB/ld-linux-x86-64.so.2" --library-path "$LIB" /usr/bin/iperf3 -s -1)
dockerd_pid=
cleanup() {
    ids=$("${SWCTR[@]}" ps -aq --filter label=swbench-portmap 2>/dev/null || true)
    [ -n "$ids" ] && "${SWCTR[@]}" rm -f $ids >/dev/null 2>&1 || true
    if [ -n "$dockerd_pid" ]; then
        "${D[@]}" rm -f swbench-iperf >/dev/null 2>&1 || true
        kill "$dockerd_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
        ip link delete swbdocker0 2>/dev/null || true
        # dockerd leaves its chains behind when it stops: remove exactly the ones it names.
        remove_chains DOCKER
    fi
    remove_cgroup_parent "$cg-docker"
    true
}
trap cleanup EXIT

measure() {  # port start-function: sets MEASURED to the Gbit/s received
    for _ in $(seq 1 50); do iperf3 -c 127.0.0.1 -p "$1" -t 1 >/dev/null 2>&1 && break; sleep 0.2; done
    # The warm-up above ended the -1 server: start one more for the measured run.
    "$2"
    for _ in $(seq 1 50); do
        out=$(iperf3 -c 127.0.0.1 -p "$1" -t "$SECONDS_EACH" -J 2>/dev/null) && break
        sleep 0.2
    done
    MEASURED=$(python3 -c 'import json, sys; print("%.1f" % (json.loads(sys.argv[1])["end"]["sum_received"]["bits_per_second"] / 1e9))' "$out")
}

sport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_swctr() {
    ids=$("${SWCTR[@]}" ps -aq --filter label=swbench-portmap)
    [ -n "$ids" ] && "${SWCTR[@]}" rm -f $ids >/dev/null
    "${SWCTR[@]}" run -d --label swbench-portmap --cgroup-parent "/$cg" -p "127.0.0.1:$sport:5201" "${SERVER[@]}" >/dev/null
}
start_swctr
measure "$sport" start_swctr
sw=$MEASURED

# dockerd with its bridge and iptables (on a subnet of the test's own), userland proxy as default.
dockerd --data-root "$work/docker-pm" --exec-root "$work/docker-pm-exec" --pidfile "$work/docker-pm.pid" \
    -H "unix://$work/docker-pm.sock" --bridge none --iptables=true --ip-masq=false --ip6tables=false \
    --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$cg-docker" --storage-driver overlay2 \
    --default-ulimit nofile=4096:4096 --default-ulimit nproc=4096:4096 > "$work/dockerd-pm.log" 2>&1 &
dockerd_pid=$!
D=(docker -H "unix://$work/docker-pm.sock")
for _ in $(seq 1 150); do "${D[@]}" version >/dev/null 2>&1 && break; sleep 0.2; done
"${D[@]}" load -i "$work/busybox.tar" >/dev/null
"${D[@]}" network create --subnet 10.231.99.0/24 -o com.docker.network.bridge.name=swbdocker0 swbench-pm >/dev/null
dport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_docker() {
    "${D[@]}" rm -f swbench-iperf >/dev/null 2>&1 || true
    "${D[@]}" run -d --name swbench-iperf --network swbench-pm -p "127.0.0.1:$dport:5201" "${SERVER[@]}" >/dev/null
}
# docker run --rm on its bridge next to --network none: the share of docker's network setup.
hyperfine -N --warmup 2 --runs "${RUNS:-10}" --export-json "$work/docker-network.json" \
    -n "docker run --rm (dockerd, runc, bridge)" "${D[*]} run --rm --network swbench-pm $img true" \
    -n "docker run --rm --network none (dockerd, runc)" "${D[*]} run --rm --network none $img true" >&2 || true
start_docker
measure "$dport" start_docker
dk=$MEASURED
"${D[@]}" rm -f swbench-iperf >/dev/null
"${D[@]}" network rm swbench-pm >/dev/null

{
    echo "## Published port on loopback: iperf3, ${SECONDS_EACH} s, one stream"
    echo
    echo "| container behind -p 127.0.0.1:PORT:5201 | Gbit/s | ratio to docker |"
    echo "|---|---|---|"
    echo "| swctr (CNI portmap: kernel DNAT) | $sw | $(python3 -c "print('%.2fx' % ($sw / $dk))" 2>/dev/null || echo) |"
    echo "| docker (dockerd, docker-proxy) | $dk | 1.00x |"
    echo
    python3 - "$work/docker-network.json" <<'PY'
import json, sys
try:
    res = json.load(open(sys.argv[1]))["results"]
except (OSError, ValueError):
    sys.exit(0)
print("## docker run --rm on a bridge network (the same dockerd)\n\n| command | mean | ± |\n|---|---|---|")
for r in res:
    print(f"| {r['command']} | {r['mean'] * 1000:.1f} ms | {r['stddev'] * 1000:.1f} |")
if len(res) == 2:
    print(f"\nThe network's share (bridge minus none): docker {(res[0]['mean'] - res[1]['mean']) * 1000:.1f} ms\n")
PY
} > "$work/portmap.md"
cat "$work/portmap.md"
