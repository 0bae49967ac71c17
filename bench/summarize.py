#!/usr/bin/env python3
"""bench/RESULTS.md from hyperfine JSON exports and the extra measurements: medians, and the
ratios swrunc/crun and swrunc/runc."""
import json, os, sys, glob, datetime, platform, subprocess

work, out = sys.argv[1], sys.argv[2]
def med(name, runtime):
    path = f"{work}/{name}.json"
    if not os.path.exists(path):
        return None
    for r in json.load(open(path))["results"]:
        if r["command"] == runtime:
            return r["median"] * 1000
    return None

def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "–"

def ver(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
    except Exception:
        return "?"

extra = json.load(open(f"{work}/extra.json"))
lines = [
    "# swrunc benchmarks", "",
    f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, kernel {platform.release()}, "
    f"by `make bench`. Every runtime runs through `bench/wrap.sh` (a private mount namespace without "
    f"/sys/fs/cgroup/unified, which crun 1.8 needs here), on the same busybox bundle, in the same run.",
    "", f"Versions: {ver([extra['swrunc'], '--version'])}; {ver(['runc', '--version'])}; {ver(['crun', '--version'])}.",
    "", "Medians in milliseconds (hyperfine).", "",
    "| benchmark | swrunc | runc | crun | swrunc/crun | swrunc/runc |", "|---|---|---|---|---|---|",
]
for name, title in [("run-true", "run /bin/true (default namespaces)"), ("run-nonet", "run /bin/true, no network namespace"),
                    ("run-userns", "run /bin/true, user namespace + id maps"), ("create", "create"),
                    ("start", "start"), ("delete", "delete"), ("exec", "exec /bin/true"),
                    ("run-seccomp", "run /bin/true, podman's default seccomp profile")]:
    s, r, c = med(name, "swrunc"), med(name, "runc"), med(name, "crun")
    fmt = lambda v: f"{v:.1f}" if v else "–"
    lines.append(f"| {title} | {fmt(s)} | {fmt(r)} | {fmt(c)} | {ratio(s, c)} | {ratio(s, r)} |")
lines += ["", "Peak RSS of the runtime process during `create` (`/usr/bin/time -f %M`, median of 5) and binary size:", "",
          "| | swrunc | runc | crun |", "|---|---|---|---|",
          "| peak RSS (MiB) | " + " | ".join(f"{extra['rss'][k] / 1024:.2f}" for k in ("swrunc", "runc", "crun")) + " |",
          "| binary (MiB) | " + " | ".join(f"{extra['size'][k] / 1048576:.1f}" for k in ("swrunc", "runc", "crun")) + " |",
          "", "Scaling: N containers each created, started and deleted, by 1 or 8 concurrent clients on one `--root`"
          " (total seconds; per container in ms):", "",
          "| N × clients | swrunc | runc | crun |", "|---|---|---|---|"]
for key in sorted(extra["scale"]["swrunc"], key=lambda k: (int(k.split("x")[1]), int(k.split("x")[0]))):
    n = int(key.split("x")[0])
    cells = []
    for rt in ("swrunc", "runc", "crun"):
        t = extra["scale"][rt].get(key)
        cells.append(f"{t:.2f} s ({t / n * 1000:.0f} ms)" if t is not None else "–")
    lines.append(f"| {key.replace('x', ' × ')} | " + " | ".join(cells) + " |")
lines += ["", "What individual changes cost (measured before and after each): bench/HISTORY.md."]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
