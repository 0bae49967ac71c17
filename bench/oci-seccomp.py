#!/usr/bin/env python3
"""Turn containers/common's seccomp.json (podman's default profile) into an OCI linux.seccomp
object for amd64 with the default capability set: the 'seccomp-heavy' benchmark config."""
import json, sys

DEFAULT_CAPS = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"}
src = json.load(open(sys.argv[1]))
arches = []
for m in src.get("archMap", []):
    if m["architecture"] == "SCMP_ARCH_X86_64":
        arches = [m["architecture"]] + m.get("subArchitectures", [])
rules = []
for s in src["syscalls"]:
    inc, exc = s.get("includes", {}) or {}, s.get("excludes", {}) or {}
    if inc.get("arches") and "amd64" not in inc["arches"]:
        continue
    if inc.get("caps") and not set(inc["caps"]) <= DEFAULT_CAPS:
        continue
    if exc.get("caps") and set(exc["caps"]) & DEFAULT_CAPS:
        continue
    if exc.get("arches") and "amd64" in exc["arches"]:
        continue
    rule = {"names": s["names"], "action": s["action"]}
    if s.get("errnoRet") is not None:
        rule["errnoRet"] = s["errnoRet"]
    if s.get("args"):
        rule["args"] = [{k: a[k] for k in ("index", "value", "valueTwo", "op") if k in a} for a in s["args"]]
    rules.append(rule)
out = {"defaultAction": src["defaultAction"], "architectures": arches, "syscalls": rules}
if src.get("defaultErrnoRet") is not None:
    out["defaultErrnoRet"] = src["defaultErrnoRet"]
json.dump(out, sys.stdout)
