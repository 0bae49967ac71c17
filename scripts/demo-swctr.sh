#!/bin/bash
# swctr's main job, offline: a base image built FROM scratch out of Debian's busybox-static, an
# application image built on it, and a two-service compose project (a network, a volume, a
# health-gated dependency, a published port) brought up, asked through the port, and taken down
# again — every container run by swrunc, in a store of its own that goes with the demo.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
swrunc=$(realpath "${1:-$here/.build/release/swrunc}")
swctr=$(realpath "${2:-$here/swctr/.build/release/swctr}")
work=$(mktemp -d /tmp/swctr-demo.XXXXXX)
chmod 755 "$work"
S=("$swctr" --root "$work/store" --runtime "$swrunc")
cleanup() {
    (cd "$work/app" 2>/dev/null && "${S[@]}" compose down -v >/dev/null 2>&1) || true
    grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    for d in /sys/fs/cgroup/*/swctr-demo-$$; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n\033[1m+ %s\033[0m\n' "$*"; }

# A base image from scratch: busybox-static and a link per applet.
mkdir -p "$work/base/rootfs/bin" "$work/base/rootfs/etc" "$work/base/rootfs/tmp" "$work/base/rootfs/www"
cp /bin/busybox "$work/base/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$work/base/rootfs/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$work/base/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$work/base/rootfs/etc/group"
chmod 1777 "$work/base/rootfs/tmp"
cat > "$work/base/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
CMD ["sh"]
EOF

# The application: a web service that asks a tiny database service over the project network.
mkdir -p "$work/app/web/cgi-bin"
cat > "$work/app/web/Dockerfile" <<'EOF'
FROM demo/busybox
COPY cgi-bin /www/cgi-bin
HEALTHCHECK --interval=1s CMD wget -qO- http://127.0.0.1/ >/dev/null || exit 1
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
EOF
cat > "$work/app/web/cgi-bin/visits" <<'EOF'
#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "hello from $(hostname); the db service says: $(wget -qO- http://db:5432/count)"
EOF
chmod 755 "$work/app/web/cgi-bin/visits"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/app/compose.yaml" <<EOF
services:
  db:
    image: demo/busybox
    command: ["sh", "-c", "echo 'visits: 1' > /data/count; exec httpd -f -p 5432 -h /data"]
    init: true
    cgroup_parent: /swctr-demo-$$
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1:5432/count"]
      interval: 1s
  web:
    build: ./web
    init: true
    cgroup_parent: /swctr-demo-$$
    depends_on:
      db: {condition: service_healthy}
    ports: ["127.0.0.1:$port:80"]
volumes:
  data:
EOF

step "swctr build -t demo/busybox (FROM scratch, busybox-static copied in)"
"${S[@]}" build --cgroup-parent "/swctr-demo-$$" -t demo/busybox "$work/base"
cd "$work/app"
step "swctr compose up -d   (network, volume, web built, db healthy first)"
"${S[@]}" compose up -d
"${S[@]}" compose ps
step "curl http://127.0.0.1:$port/cgi-bin/visits"
curl -fsS --retry 10 --retry-connrefused --retry-delay 1 "http://127.0.0.1:$port/cgi-bin/visits"
step "swctr compose down -v"
"${S[@]}" compose down -v
left=$("${S[@]}" ps -aq; "${S[@]}" network ls -q; "${S[@]}" volume ls -q)
[ -z "$left" ] && echo "nothing left: no container, network or volume" || { echo "left behind: $left"; exit 1; }
