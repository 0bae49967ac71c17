#!/bin/bash
# make bench-compose: swctr compose next to Docker Compose (Debian's docker-compose 1.29 driving a
# throwaway dockerd) and podman-compose 1.0.3 on one two-service application (a backend built
# from a Dockerfile, a database with a named volume and a health check the backend waits for,
# one published port): the time from `up -d` to the first answer through the port, and the time
# of `down`, images already built. Twice: with `init: true` (the httpd servers stop on SIGTERM)
# and without (busybox httpd as PID 1 ignores SIGTERM, so each stop waits its 10 s timeout).
# Writes bench/RESULTS-compose.md. Only 127.0.0.1 and the test's own bridges are contacted.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SW=$(realpath "${SWRUNC:-$here/../.build/release/swrunc}")
SWCTR=$(realpath "${SWCTR:-$here/../swctr/.build/release/swctr}")
RUNS=${RUNS:-3}
work=$(mktemp -d /tmp/swctr-bench-compose.XXXXXX)
chmod 755 "$work"
cg=swctr-bench-compose-$$
dockerd_pid=
# podman with cgroupfs puts its containers under /libpod_parent: removed after if made here.
libpod_existed=$(ls -d /sys/fs/cgroup/*/libpod_parent 2>/dev/null | head -1 || true)
. "$here/leftovers.sh"
netavark_existed=$(chains_exist NETAVARK && echo yes || true)
# swctr's default cgroup parent (/swctr) is made by the first container; removed again if this run made it.
swctr_parent_existed=$(ls -d /sys/fs/cgroup/*/swctr 2>/dev/null | head -1 || true)
cleanup() {
    for v in init pid1; do
        (cd "$work/$v" 2>/dev/null && "$SWCTR" --root "$work/swctr" --runtime "$SW" compose down -v -t 1 >/dev/null 2>&1) || true
        (cd "$work/$v" 2>/dev/null && DOCKER_HOST="unix://$work/docker.sock" docker-compose down -v -t 1 >/dev/null 2>&1) || true
        (cd "$work/$v" 2>/dev/null && podman-compose --podman-args "--root $work/podman --runroot $work/podman-run --cgroup-manager cgroupfs" down -v -t 1 >/dev/null 2>&1) || true
    done
    if [ -n "$dockerd_pid" ]; then
        kill "$dockerd_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
        remove_chains DOCKER
    fi
    # podman-compose's networks leave netavark's chains: removed when this run made them.
    if [ -z "$netavark_existed" ]; then remove_chains NETAVARK; fi
    grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    remove_cgroup_parent "$cg"
    if [ -z "$swctr_parent_existed" ]; then
        remove_cgroup_parent swctr
    fi
    if [ -z "$libpod_existed" ]; then
        remove_cgroup_parent libpod_parent
    fi
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
runtime = "runc"
static_dir = "$work/libpod"
tmp_dir = "$work/tmp"
volume_path = "$work/volumes"
CONF
export CONTAINERS_CONF="$work/containers.conf"
python3 -c "import sys; sys.path.insert(0, '$here/../integration'); from harness import build_image_archive; build_image_archive('$work/busybox.tar')"
"$SWCTR" --root "$work/swctr" load -i "$work/busybox.tar" >/dev/null
dockerd --data-root "$work/docker" --exec-root "$work/docker-exec" --pidfile "$work/docker.pid" -H "unix://$work/docker.sock" \
    --bridge none --iptables=true --ip-masq=false --ip6tables=false --exec-opt native.cgroupdriver=cgroupfs \
    --cgroup-parent "/$cg" --storage-driver overlay2 --default-ulimit nofile=4096:4096 --default-ulimit nproc=4096:4096 \
    > "$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 1 150); do docker -H "unix://$work/docker.sock" version >/dev/null 2>&1 && break; sleep 0.2; done
docker -H "unix://$work/docker.sock" load -i "$work/busybox.tar" >/dev/null
podman --root "$work/podman" --runroot "$work/podman-run" --cgroup-manager cgroupfs load -i "$work/busybox.tar" >/dev/null 2>&1 || true

for variant in init pid1; do
    mkdir -p "$work/$variant/backend/cgi-bin"
    init=$([ "$variant" = init ] && echo "    init: true" || true)
    cat > "$work/$variant/compose.yaml" <<EOF
services:
  db:
    image: busybox
    command: ["sh", "-c", "[ -f /data/value ] || echo 42 > /data/value; exec httpd -f -p 5432 -h /data"]
$init
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1:5432/value"]
      interval: 1s
      retries: 30
  backend:
    build: ./backend
$init
    depends_on:
      db:
        condition: service_healthy
    ports: ["127.0.0.1:\${PORT}:80"]
volumes:
  data:
EOF
    printf 'FROM busybox\nCOPY cgi-bin /www/cgi-bin\nCMD ["httpd", "-f", "-p", "80", "-h", "/www"]\n' > "$work/$variant/backend/Dockerfile"
    printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "db says: $(wget -qO- http://db:5432/value)"\n' > "$work/$variant/backend/cgi-bin/value"
    chmod 755 "$work/$variant/backend/cgi-bin/value"
done

python3 - "$work" "$SWCTR" "$SW" "$RUNS" "$cg" > "$here/RESULTS-compose.md" <<'PY'
import os, socket, subprocess, sys, time, urllib.request
work, swctr, swrunc, runs, cg = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
tools = {
    "swctr compose": [swctr, "--root", f"{work}/swctr", "--runtime", swrunc, "compose"],
    "docker-compose 1.29 (dockerd)": ["docker-compose"],
    "podman-compose 1.0.3": ["podman-compose", "--podman-args", f"--root {work}/podman --runroot {work}/podman-run --cgroup-manager cgroupfs"],
}
env = dict(os.environ, DOCKER_HOST=f"unix://{work}/docker.sock")

def port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def call(argv, cwd, e, timeout=300):
    return subprocess.run(argv, cwd=cwd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)

def answer(p, deadline):
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{p}/cgi-bin/value", timeout=1) as r:
                if r.read() == b"db says: 42\n":
                    return True
        except Exception:
            time.sleep(0.05)
    return False

rows = []
for variant in ("init", "pid1"):
    cwd = f"{work}/{variant}"
    for name, argv in tools.items():
        p = port()
        e = dict(env, PORT=str(p))
        r = call(argv + ["build"], cwd, e)
        ups, downs, note = [], [], ""
        for _ in range(runs):
            t0 = time.monotonic()
            r = call(argv + ["up", "-d"], cwd, e)
            ok = r.returncode == 0 and answer(p, time.monotonic() + 60)
            t1 = time.monotonic()
            if not ok:
                note = (r.stderr.decode(errors="replace").strip().splitlines() or ["no answer through the port"])[-1][:120]
                call(argv + ["down", "-v"], cwd, e)
                break
            ups.append(t1 - t0)
            t2 = time.monotonic()
            call(argv + ["down", "-v"], cwd, e, timeout=120)
            downs.append(time.monotonic() - t2)
        rows.append((variant, name, ups, downs, note))

print("# swctr compose next to Docker Compose and podman-compose (one run)\n")
print("Made by `bench/compose.sh`: a backend built from a Dockerfile (busybox httpd + CGI) asking a database service")
print("(busybox httpd on a named volume, health-checked every second) by name; the backend waits for it to be healthy;")
print(f"one port published. Images built beforehand; mean of {runs} runs. `init`: the services run under an init")
print("(they stop on SIGTERM); `pid1`: busybox httpd is PID 1 and ignores SIGTERM (each stop waits 10 s).\n")
print("| variant | tool | up -d to first answer | down | up ratio | down ratio |\n|---|---|---|---|---|---|")
base = {v: (sum(u) / len(u), sum(d) / len(d)) for v, n, u, d, _ in rows if n.startswith("docker-compose") and u}
for v, n, u, d, note in rows:
    if not u:
        print(f"| {v} | {n} | failed: {note} | | | |")
        continue
    up, down = sum(u) / len(u), sum(d) / len(d)
    bu, bd = base.get(v, (0, 0))
    print(f"| {v} | {n} | {up:.2f} s | {down:.2f} s | {up / bu:.2f}x | {down / bd:.2f}x |" if bu else f"| {v} | {n} | {up:.2f} s | {down:.2f} s | | |")
PY
cat "$here/RESULTS-compose.md"
