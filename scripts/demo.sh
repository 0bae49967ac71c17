#!/bin/bash
# Builds a busybox bundle from Debian's busybox-static and runs it with swrunc, printing what the
# container sees of itself.
set -euo pipefail
bin=${1:-.build/release/swrunc}
work=$(mktemp -d /tmp/swrunc-demo.XXXXXX)
root="$work/state"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev" "$work/rootfs/etc"
cp /bin/busybox "$work/rootfs/bin/"
for a in sh ls hostname cat echo ps; do ln -s busybox "$work/rootfs/bin/$a"; done
"$bin" spec --bundle "$work"
jq '.process.terminal = false
    | .hostname = "swrunc-demo"
    | .process.args = ["sh", "-c", "echo \"pid inside: $$\"; echo \"hostname: $(hostname)\"; echo \"root: $(ls / | tr \"\\n\" \" \")\"; ps"]' \
    "$work/config.json" > "$work/config.tmp" && mv "$work/config.tmp" "$work/config.json"
echo "+ swrunc run --bundle $work demo-$$"
"$bin" --root "$root" run --bundle "$work" "demo-$$"
