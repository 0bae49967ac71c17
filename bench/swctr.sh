#!/bin/bash
# make bench-swctr: swctr next to podman (conmon + runc, conmon + crun) and dockerd on one busybox image, in one
# run. Writes bench/RESULTS-swctr.md. Numbers are for people, never assertions.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SW=${SWRUNC:-$here/../.build/release/swrunc}
SWCTR=${SWCTR:-$here/../swctr/.build/release/swctr}
RUNS=${RUNS:-20}
work=$(mktemp -d /tmp/swctr-bench.XXXXXX)
chmod 755 "$work"
cg=swctr-bench-$$
P=(podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay --cgroup-manager cgroupfs)
S=("$SWCTR" --root "$work/swctr" --runtime "$SW")

. "$here/leftovers.sh"
netavark_existed=$(chains_exist NETAVARK && echo yes || true)
cleanup() {
    if [ -n "${dockerd_pid:-}" ]; then
        D=(docker -H "unix://$work/docker.sock")
        dids=$("${D[@]}" ps -aq 2>/dev/null || true)
        [ -n "$dids" ] && "${D[@]}" rm -f $dids >/dev/null 2>&1 || true
        kill "$dockerd_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
    fi
    ids=$("${S[@]}" ps -aq 2>/dev/null || true)
    [ -n "$ids" ] && "${S[@]}" rm -f $ids >/dev/null 2>&1 || true
    "${S[@]}" network rm "swbench$$" bridge >/dev/null 2>&1 || true
    CONTAINERS_CONF="$work/containers.conf" "${P[@]}" rm -af >/dev/null 2>&1 || true
    grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    # podman's bridge network leaves netavark's chains: removed when this run made them.
    if [ -z "$netavark_existed" ]; then remove_chains NETAVARK; fi
    for parent in "$cg" "swctr-bench-podman-$$" "swctr-bench-docker-$$"; do remove_cgroup_parent "$parent"; done
    rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
cgroupns = "host"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/events.log"
static_dir = "$work/libpod"
tmp_dir = "$work/tmp"
volume_path = "$work/volumes"
CONF
export CONTAINERS_CONF="$work/containers.conf"

python3 -c "import sys; sys.path.insert(0, '$here/../integration'); from harness import build_image_archive; build_image_archive('$work/busybox.tar')"
"${S[@]}" load -i "$work/busybox.tar" >/dev/null
"${P[@]}" load -i "$work/busybox.tar" >/dev/null
IMG=docker.io/library/busybox:latest
# dockerd (Debian's, with its runc) as a throwaway daemon: no bridge, no firewall rules.
dockerd --data-root "$work/docker" --exec-root "$work/docker-exec" --pidfile "$work/docker.pid" \
    -H "unix://$work/docker.sock" --bridge none --iptables=false --ip-masq=false --ip6tables=false \
    --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/swctr-bench-docker-$$" --storage-driver overlay2 \
    --default-ulimit nofile=4096:4096 --default-ulimit nproc=4096:4096 > "$work/dockerd.log" 2>&1 &
dockerd_pid=$!
D=(docker -H "unix://$work/docker.sock")
for _ in $(seq 1 150); do "${D[@]}" version >/dev/null 2>&1 && break; sleep 0.2; done
"${D[@]}" load -i "$work/busybox.tar" >/dev/null
printf '#!/bin/sh\nexec %s/wrap.sh crun "$@"\n' "$here" > "$work/crun-wrapped" && chmod +x "$work/crun-wrapped"
PCG=(--cgroup-parent /swctr-bench-podman-$$)

# The crun in Debian refuses this hybrid layout unless cgroup2 is unmounted in its namespace:
# bench/wrap.sh does that, as for the runtime benchmark.
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$work/run.json" \
    -n "swctr run --rm (default bridge network)" "${S[*]} run --rm --cgroup-parent /$cg $IMG true" \
    -n "swctr run --rm --network none" "${S[*]} run --rm --network none --cgroup-parent /$cg $IMG true" \
    -n "podman run --rm (runc)" "${P[*]} --runtime runc run --rm ${PCG[*]} $IMG true" \
    -n "podman run --rm (crun)" "${P[*]} --runtime $work/crun-wrapped run --rm ${PCG[*]} $IMG true" \
    -n "podman run --rm --network none (runc)" "${P[*]} --runtime runc run --rm --network none ${PCG[*]} $IMG true" \
    -n "docker run --rm (dockerd, runc)" "${D[*]} run --rm --network none $IMG true" >&2 || true

# With a bridge network: swctr through the CNI plugins, podman through netavark (its default).
"${S[@]}" network create "swbench$$" >/dev/null
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$work/network.json" \
    -n "swctr run --rm --network (CNI bridge)" "${S[*]} run --rm --network swbench$$ --cgroup-parent /$cg $IMG true" \
    -n "swctr run --rm --network none" "${S[*]} run --rm --network none --cgroup-parent /$cg $IMG true" \
    -n "podman run --rm (runc, netavark bridge)" "${P[*]} --runtime runc run --rm ${PCG[*]} $IMG true" \
    -n "podman run --rm --network none (runc)" "${P[*]} --runtime runc run --rm --network none ${PCG[*]} $IMG true" >&2 || true
"${S[@]}" network rm "swbench$$" >/dev/null

hyperfine --warmup 2 --runs "$RUNS" --export-json "$work/detached.json" \
    -n "swctr run -d + rm -f (--network none)" "id=\$(${S[*]} run -d --network none --cgroup-parent /$cg $IMG sleep 100) && ${S[*]} rm -f \$id >/dev/null" \
    -n "podman run -d + rm -f (runc, --network none)" "id=\$(${P[*]} --runtime runc run -d --network none ${PCG[*]} $IMG sleep 100) && ${P[*]} rm -f -t 0 \$id >/dev/null" \
    -n "docker run -d + rm -f (dockerd, runc)" "id=\$(${D[*]} run -d --network none $IMG sleep 100) && ${D[*]} rm -f \$id >/dev/null" >&2 || true

for i in $(seq 1 100); do "${S[@]}" create --cgroup-parent /$cg $IMG true >/dev/null; done
for i in $(seq 1 100); do "${P[@]}" create "${PCG[@]}" $IMG true >/dev/null; done
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$work/ps.json" \
    -n "swctr ps -a (100 containers)" "${S[*]} ps -a" \
    -n "podman ps -a (100 containers)" "${P[*]} ps -a" >&2 || true
ids=$("${S[@]}" ps -aq); "${S[@]}" rm -f $ids >/dev/null
"${P[@]}" rm -af >/dev/null

"$here/portmap.sh" "$work" "$IMG" "$cg" >&2 || true

# Memory per running container, with ten of each running (a binary's pages are shared among its
# instances, so one alone overstates it): the mean proportional set size and private dirty pages
# of swctr's monitor next to conmon's.
mons=(); conmons=()
for i in $(seq 1 10); do
    sid=$("${S[@]}" run -d --cgroup-parent /$cg $IMG sleep 100)
    mons+=("$(python3 -c "import json; print(json.load(open('$work/swctr/containers/$sid/state.json'))['monitorPid'])")")
    pid=$("${P[@]}" --runtime runc run -d "${PCG[@]}" $IMG sleep 100)
    conmons+=("$("${P[@]}" inspect -f '{{.State.ConmonPid}}' "$pid")")
done
sleep 1
mean() {  # field pid...
    local field=$1; shift
    for p in "$@"; do awk -v f="$field:" '$1 == f {print $2}' /proc/$p/smaps_rollup; done | awk '{s += $1} END {printf "%d", s / NR}'
}
mpss=$(mean Pss "${mons[@]}"); mdirty=$(mean Private_Dirty "${mons[@]}")
cpss=$(mean Pss "${conmons[@]}"); cdirty=$(mean Private_Dirty "${conmons[@]}")

python3 - "$work" "$mpss" "$mdirty" "$cpss" "$cdirty" > "$here/RESULTS-swctr.md" <<'PY'
import json, sys
work, mpss, mdirty, cpss, cdirty = sys.argv[1], *map(int, sys.argv[2:])
print("# swctr next to podman (one run)\n")
print("Made by `bench/swctr.sh` on this machine: hyperfine means, the ratio against the first peer.\n")
for f, title in (("run.json", "run --rm IMAGE true"), ("network.json", "run --rm IMAGE true on a bridge network"),
                 ("detached.json", "run -d, then rm -f"), ("ps.json", "ps -a, 100 containers")):
    try:
        res = json.load(open(f"{work}/{f}"))["results"]
    except (OSError, ValueError):
        continue
    print(f"## {title}\n\n| command | mean | ± | ratio to podman (runc) |\n|---|---|---|---|")
    base = next((r["mean"] for r in res if "podman" in r["command"] and "runc" in r["command"]), None) \
        or next((r["mean"] for r in res if "podman" in r["command"]), None)
    for r in res:
        ratio = f"{r['mean'] / base:.2f}x" if base else ""
        print(f"| {r['command']} | {r['mean'] * 1000:.1f} ms | {r['stddev'] * 1000:.1f} | {ratio} |")
    if f == "network.json" and len(res) == 4:
        sw, pm = res[0]["mean"] - res[1]["mean"], res[2]["mean"] - res[3]["mean"]
        print(f"\nThe network's share (bridge minus none): swctr {sw * 1000:.1f} ms, podman {pm * 1000:.1f} ms"
              + (f" ({sw / pm:.2f}x)" if pm > 0 else ""))
    print()
try:
    print(open(f"{work}/portmap.md").read())
except OSError:
    pass
print("## Memory per running container (mean of ten running)\n\n| monitor | Pss | Private_Dirty |\n|---|---|---|")
print(f"| swctr-monitor | {mpss} KiB | {mdirty} KiB |\n| conmon (podman) | {cpss} KiB | {cdirty} KiB |")
PY
cat "$here/RESULTS-swctr.md"
