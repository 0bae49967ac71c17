# Sourced by the bench scripts: what the peers leave behind is removed after a run — firewall
# chains (dockerd's DOCKER, netavark's NETAVARK) and cgroup parents. Every function here
# succeeds, so a cleanup trap under `set -e` runs to its end.

# remove_chains PREFIX: every rule naming a chain that starts with PREFIX, then those chains,
# in the nat and filter tables.
remove_chains() {
    for t in nat filter; do
        iptables-save -t "$t" | awk -v p="$1" '/^-A/ && index($0, p) {sub(/^-A/, "-D"); print}' | while read -r rule; do
            eval "iptables -t $t $rule" 2>/dev/null || true
        done
        for c in $(iptables-save -t "$t" | awk -F'[: ]' -v p=":$1" 'index($0, p) == 1 {print $2}'); do
            iptables -t "$t" -X "$c" 2>/dev/null || true
        done
    done
}

# chains_exist PREFIX: whether a chain starting with PREFIX is there now (grep reads all of
# iptables-save's output: with -q it could stop early, and pipefail would report the match as none).
chains_exist() { [ -n "$(iptables-save | grep "^:$1")" ]; }

# remove_cgroup_parent NAME: the cgroup /NAME in every hierarchy, bottom up. Where a controller
# is listed but not mounted here (hugetlb, net_cls, …: plain directories on /sys/fs/cgroup's
# tmpfs) conmon writes files, so those go whole.
remove_cgroup_parent() {
    local d
    for d in /sys/fs/cgroup/*/"$1"; do
        [ -d "$d" ] || continue
        if [ "$(stat -f -c %T "$d")" = tmpfs ]; then
            rm -rf "$d"
        else
            find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
        fi
    done
}
