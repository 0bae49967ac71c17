#!/bin/bash
# make bench: swrunc, runc and crun side by side on one busybox bundle, in one run.
# Writes bench/RESULTS.md. Never used for assertions: numbers are for people.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SW=${SWRUNC:-$here/../.build/release/swrunc}
RUNS=${RUNS:-30}
work=$(mktemp -d /tmp/swrunc-bench.XXXXXX)
chmod 755 "$work"  # the user-namespace variant runs as a mapped uid that must traverse it
W="$here/wrap.sh"
declare -A BIN=([swrunc]="$SW" [runc]="$(command -v runc)" [crun]="$(command -v crun)")
RUNTIMES=(swrunc runc crun)

cleanup() {
    for rt in "${RUNTIMES[@]}"; do
        for id in $(ls "$work/state-$rt" 2>/dev/null); do "$W" "${BIN[$rt]}" --root "$work/state-$rt" delete -f "$id" >/dev/null 2>&1 || true; done
    done
    for d in /sys/fs/cgroup/*/swrunc-bench; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

# One bundle per variant, all sharing a busybox rootfs; ociVersion 1.0.2-dev because crun 1.8
# refuses newer versions.
mkbundle() {  # name jq-filter
    mkdir -p "$work/$1"
    "$SW" spec --bundle "$work/$1"
    jq ".ociVersion = \"1.0.2-dev\" | .process.terminal = false | .process.args = [\"/bin/true\"]
        | .root.path = \"$work/rootfs\" | $2" "$work/$1/config.json" > "$work/$1/c" && mv "$work/$1/c" "$work/$1/config.json"
}
mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev" "$work/rootfs/tmp"
cp /bin/busybox "$work/rootfs/bin/"
for a in sh true sleep; do ln -s busybox "$work/rootfs/bin/$a"; done
mkbundle default '.'
mkbundle nonet '.linux.namespaces |= map(select(.type != "network"))'
mkbundle sleeper '.process.args = ["/bin/sleep", "1000"]'
cp -a "$work/rootfs" "$work/rootfs-userns" && chown -R 100000:100000 "$work/rootfs-userns"
mkbundle userns ".root.path = \"$work/rootfs-userns\" | .linux.namespaces += [{\"type\":\"user\"}]
    | .linux.uidMappings = [{\"containerID\":0,\"hostID\":100000,\"size\":65536}]
    | .linux.gidMappings = [{\"containerID\":0,\"hostID\":100000,\"size\":65536}]"
python3 "$here/oci-seccomp.py" /usr/share/containers/seccomp.json > "$work/seccomp.json"
mkbundle seccomp ".linux.seccomp = $(cat "$work/seccomp.json")"

hf() {  # name, then hyperfine arguments per runtime via a callback
    local name=$1; shift
    local args=()
    for rt in "${RUNTIMES[@]}"; do args+=(-n "$rt" "$("$@" "$rt")"); done
    hyperfine -N -w 3 -r "$RUNS" --export-json "$work/$name.json" "${args[@]}" > /dev/null || { echo "benchmark $name failed:"; for rt in "${RUNTIMES[@]}"; do sh -c "$("$@" "$rt")" || true; done; exit 1; }
}
r() { echo "$W ${BIN[$1]} --root $work/state-$1"; }
run_cmd() { echo "$(r "$1") run -b $work/$BUNDLE b-$1"; }
echo "== run"
BUNDLE=default hf run-true run_cmd
BUNDLE=nonet hf run-nonet run_cmd
BUNDLE=userns hf run-userns run_cmd
BUNDLE=seccomp hf run-seccomp run_cmd

echo "== create / start / delete"
for rt in "${RUNTIMES[@]}"; do
    R=$(r "$rt"); B="$work/default"
    hyperfine -N -w 2 -r "$RUNS" --export-json "$work/create-$rt.json" -n "$rt" \
        --prepare "$R delete -f c-$rt" "$R create -b $B c-$rt" > /dev/null
    hyperfine -N -w 2 -r "$RUNS" --export-json "$work/start-$rt.json" -n "$rt" \
        --prepare "sh -c '$R delete -f c-$rt; $R create -b $B c-$rt'" "$R start c-$rt" > /dev/null
    hyperfine -N -w 2 -r "$RUNS" --export-json "$work/delete-$rt.json" -n "$rt" \
        --prepare "sh -c '$R delete -f c-$rt 2>/dev/null; $R create -b $B c-$rt'" "$R delete -f c-$rt" > /dev/null
done
for op in create start delete; do
    python3 -c "import json,sys; r=[json.load(open(f'$work/$op-{rt}.json'))['results'][0] for rt in ['swrunc','runc','crun']]; json.dump({'results': r}, open('$work/$op.json','w'))"
done

echo "== exec"
for rt in "${RUNTIMES[@]}"; do $(r "$rt") run -d -b "$work/sleeper" s-$rt; done
exec_cmd() { echo "$(r "$1") exec s-$1 /bin/true"; }
hf exec exec_cmd
for rt in "${RUNTIMES[@]}"; do $(r "$rt") delete -f s-$rt; done

echo "== peak RSS, size, scaling"
declare -A RSS SIZE
for rt in "${RUNTIMES[@]}"; do
    R=$(r "$rt")
    vals=()
    for i in 1 2 3 4 5; do
        $R delete -f m-$rt >/dev/null 2>&1 || true
        # Output to a file: a created container's init keeps the caller's stdio open.
        /usr/bin/time -f %M -o "$work/rss" $R create -b "$work/default" m-$rt </dev/null >/dev/null 2>&1
        vals+=("$(tail -1 "$work/rss")")
    done
    $R delete -f m-$rt
    RSS[$rt]=$(printf '%s\n' "${vals[@]}" | sort -n | sed -n 3p)
    SIZE[$rt]=$(stat -L -c %s "${BIN[$rt]}")
done
scale_json=""
for rt in "${RUNTIMES[@]}"; do
    R=$(r "$rt"); entries=""
    for clients in 1 8; do
        for n in 10 50 100; do
            start=$(date +%s.%N)
            seq "$n" | xargs -P "$clients" -I{} sh -c "$R create -b $work/default k{}-$rt </dev/null >/dev/null 2>&1 && $R start k{}-$rt && $R delete -f k{}-$rt" >/dev/null 2>&1 || true
            end=$(date +%s.%N)
            entries+="\"${n}x${clients}\": $(awk "BEGIN { printf \"%.3f\", $end - $start }"),"
        done
    done
    scale_json+="\"$rt\": {${entries%,}},"
done
cat > "$work/extra.json" <<JSON
{"swrunc": "$SW", "rss": {"swrunc": ${RSS[swrunc]}, "runc": ${RSS[runc]}, "crun": ${RSS[crun]}},
 "size": {"swrunc": ${SIZE[swrunc]}, "runc": ${SIZE[runc]}, "crun": ${SIZE[crun]}},
 "scale": {${scale_json%,}}}
JSON
python3 "$here/summarize.py" "$work" "$here/RESULTS.md"
