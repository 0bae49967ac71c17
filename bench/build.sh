#!/bin/bash
# make bench-build: swctr build next to buildah bud (Debian's, --layers --isolation chroot: its
# default OCI isolation picks crun, which refuses this machine's cgroup layout) on one 9-step
# Dockerfile — two COPYs of 2 MB files, two RUNs, the base image already in both stores — in one
# run: cold (--no-cache), a rebuild with nothing changed, and a rebuild after the last copied file
# changed. Writes bench/RESULTS-build.md. Numbers are for people, never assertions.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SW=${SWRUNC:-$here/../.build/release/swrunc}
SWCTR=${SWCTR:-$here/../swctr/.build/release/swctr}
RUNS=${RUNS:-15}
work=$(mktemp -d /tmp/swctr-bench-build.XXXXXX)
chmod 755 "$work"
cg=swctr-bench-build-$$
S=("$SWCTR" --root "$work/swctr" --runtime "$SW")
B=(buildah --root "$work/buildah" --runroot "$work/buildah-run" --storage-driver overlay)
cleanup() {
    "${B[@]}" rm --all >/dev/null 2>&1 || true
    "${B[@]}" rmi --all --force >/dev/null 2>&1 || true
    grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    for d in /sys/fs/cgroup/*/"$cg"; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

python3 -c "import sys; sys.path.insert(0, '$here/../integration'); from harness import build_image_archive; build_image_archive('$work/busybox.tar')"
"${S[@]}" load -i "$work/busybox.tar" >/dev/null
"${B[@]}" pull -q "docker-archive:$work/busybox.tar" >/dev/null
ctx="$work/ctx"
mkdir -p "$ctx"
head -c 2097152 /dev/urandom > "$ctx/a.bin"
head -c 2097152 /dev/urandom > "$ctx/b.bin"
cat > "$ctx/Dockerfile" <<'EOF'
FROM busybox
ENV APP=/app
WORKDIR /app
COPY a.bin /app/a.bin
RUN sha256sum /app/a.bin > /app/a.sum
COPY b.bin /app/b.bin
RUN sha256sum /app/b.bin > /app/b.sum
LABEL bench=build
CMD ["cat", "/app/a.sum"]
EOF
SB="${S[*]} build --cgroup-parent /$cg -q -t bench $ctx"
BB="${B[*]} bud --layers --isolation chroot -q -t bench $ctx"
CHANGE="head -c 64 /dev/urandom >> $ctx/b.bin"

hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$work/cold.json" \
    -n "swctr build --no-cache" "$SB --no-cache" -n "buildah bud --no-cache" "${BB/bud/bud --no-cache}" >&2
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$work/cached.json" \
    -n "swctr build (nothing changed)" "$SB" -n "buildah bud (nothing changed)" "$BB" >&2
hyperfine --warmup 2 --runs "$RUNS" --export-json "$work/changed.json" \
    --prepare "$CHANGE" -n "swctr build (last copied file changed)" "$SB" \
    --prepare "$CHANGE" -n "buildah bud (last copied file changed)" "$BB" >&2

python3 - "$work" > "$here/RESULTS-build.md" <<'PY'
import json, sys
work = sys.argv[1]
print("# swctr build next to buildah (one run)\n")
print("Made by `bench/build.sh` on this machine: a 9-step Dockerfile (two COPYs of 2 MB files, two RUNs),")
print("the base image already in both stores; buildah 1.28 `bud --layers --isolation chroot`; hyperfine means.\n")
print("| build | swctr | buildah | ratio |\n|---|---|---|---|")
for f, title in (("cold.json", "cold (--no-cache)"), ("cached.json", "nothing changed"), ("changed.json", "last copied file changed")):
    res = json.load(open(f"{work}/{f}"))["results"]
    s, b = res[0]["mean"], res[1]["mean"]
    print(f"| {title} | {s * 1000:.1f} ms ± {res[0]['stddev'] * 1000:.1f} | {b * 1000:.1f} ms ± {res[1]['stddev'] * 1000:.1f} | {s / b:.2f}x |")
print("\nGoals (issue 13): cold at most 0.7x buildah's time, cached at most 0.3x.")
PY
cat "$here/RESULTS-build.md"
