#!/bin/bash
# Regenerates Linker/hot-sections.txt: the functions swrunc's lifecycle commands run, in the
# order the release link lays them out first (gold's --section-ordering-file). A command faults
# the static binary in 64 KiB windows; with the hot functions side by side it maps fewer of them
# (peak RSS, page-fault time at every exec). Run after larger changes; a stale list still links,
# it only groups less. Not run by CI: it profiles with perf.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo="$here/.."
ROUNDS=${ROUNDS:-150}
work=$(mktemp -d /tmp/swrunc-hot.XXXXXX)
S="$work/build/release/swrunc"
cleanup() {
    for id in $(ls "$work/state" 2>/dev/null); do "$S" --root "$work/state" delete -f "$id" >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# An unstripped build with one section per function, laid out by `$1` (an ordering file, or
# /dev/null), with the link map that names each section.
link() {
    rm -f "$S"  # SwiftPM relinks for a missing output, not for changed linker flags
    (cd "$repo" && swift build -c release -Xswiftc -static-executable -Xswiftc -Xfrontend -Xswiftc -function-sections \
        -Xlinker --section-ordering-file="$1" -Xlinker -Map="$work/map.txt" --scratch-path "$work/build" --product swrunc >/dev/null)
    nm -n --defined-only "$S" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' > "$work/syms"
}
link /dev/null

mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/"
for name in true sleep; do
    mkdir -p "$work/$name"
    "$S" spec --bundle "$work/$name"
    args=$([ "$name" = true ] && echo '["/bin/busybox","true"]' || echo '["/bin/busybox","sleep","1000"]')
    jq ".process.terminal = false | .process.args = $args | .root.path = \"$work/rootfs\"" "$work/$name/config.json" > "$work/c"
    mv "$work/c" "$work/$name/config.json"
done
R="$S --root $work/state"
cat > "$work/workload.sh" <<EOS
set -e
for i in \$(seq $ROUNDS); do
    $R create -b $work/true c\$i </dev/null >/dev/null 2>&1
    $R state c\$i >/dev/null
    $R start c\$i
    $R delete -f c\$i
    $R run -b $work/true r\$i </dev/null >/dev/null 2>&1
done
$R run -d -b $work/sleep s </dev/null >/dev/null 2>&1
for i in \$(seq $ROUNDS); do
    $R exec s /bin/busybox true
    $R pause s
    $R resume s
    $R kill s SIGCONT
done
$R delete -f s
EOS
# Pass 1: the functions the commands spend time in, by CPU samples.
perf record -q -F 50000 -o "$work/perf.data" -- bash "$work/workload.sh"
perf script -i "$work/perf.data" -F comm,ip 2>/dev/null | awk '$1 == "swrunc" && length($2) < 16 { print $2 }' > "$work/ips"
python3 "$here/hot-order.py" "$work" > "$work/order"
# Passes 2 to 5: functions run too briefly to be sampled still fault their own window in; laid
# out with the list so far, the page faults that land outside it name them.
for pass in 2 3 4 5; do
    link "$work/order"
    perf record -q -e page-faults -c 1 -d -o "$work/perf.data" -- bash "$work/workload.sh"
    perf script -i "$work/perf.data" -F comm,addr 2>/dev/null | awk '$1 == "swrunc" && length($2) < 16 { print $2 }' > "$work/ips"
    python3 "$here/hot-order.py" "$work" "$work/order" > "$work/order.next"
    mv "$work/order.next" "$work/order"
done
cp "$work/order" "$repo/Linker/hot-sections.txt"
echo "$(wc -l < "$repo/Linker/hot-sections.txt") hot functions written to Linker/hot-sections.txt"
