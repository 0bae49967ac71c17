# Sourced by the bench scripts: what a peer leaves in the firewall when it stops (dockerd its
# DOCKER chains, podman's netavark its NETAVARK ones) is removed after the run.

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

# chains_exist PREFIX: whether a chain starting with PREFIX is there now.
chains_exist() { iptables-save | grep -q "^:$1"; }
