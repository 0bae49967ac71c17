#!/usr/bin/env python3
"""A/B comparison of swrunc builds, interleaved: each round runs every binary once per operation,
so a machine whose speed drifts during the run (as this VM's does) biases none of them.

Usage: bench/ab.py [--rounds N] NAME=SWRUNC NAME=SWRUNC ...
Prints the median milliseconds of `run /bin/true`, `create` and `exec /bin/true` per binary, each
through bench/wrap.sh like `make bench`. Numbers are for people: never used for assertions.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WRAP = os.path.join(HERE, "wrap.sh")


def timed(argv):
    start = time.perf_counter()
    subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def bundle(work, spec_from, args, name):
    """One per binary and program: two containers never share a cgroup."""
    path = os.path.join(work, f"bundle-{name}-" + args[0].strip("/").replace("/", "-"))
    os.makedirs(path)
    subprocess.run([spec_from, "spec", "--bundle", path], check=True)
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    config["process"].update(terminal=False, args=args)
    config["root"]["path"] = os.path.join(work, "rootfs")
    config["linux"]["cgroupsPath"] = f"/swrunc-ab-{os.getpid()}/{os.path.basename(path)}"
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("binaries", nargs="+", help="NAME=PATH")
    a = ap.parse_args()
    bins = dict(b.split("=", 1) for b in a.binaries)
    work = tempfile.mkdtemp(prefix="swrunc-ab-")
    rootfs = os.path.join(work, "rootfs")
    for d in ["bin", "proc", "sys", "dev", "tmp"]:
        os.makedirs(os.path.join(rootfs, d))
    shutil.copy("/bin/busybox", os.path.join(rootfs, "bin"))
    for applet in ["true", "sleep", "sh"]:
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    first = next(iter(bins.values()))
    true_bundle = {name: bundle(work, first, ["/bin/true"], name) for name in bins}
    sleep_bundle = {name: bundle(work, first, ["/bin/sleep", "1000"], name) for name in bins}
    times = {name: {"run": [], "create": [], "exec": []} for name in bins}
    try:
        for name, path in bins.items():
            subprocess.run([path, "--root", f"{work}/state-{name}", "run", "-d", "-b", sleep_bundle[name], "s"], check=True,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(a.rounds):
            for name, path in bins.items():
                root = ["--root", f"{work}/state-{name}"]
                times[name]["run"].append(timed([WRAP, path] + root + ["run", "-b", true_bundle[name], "r"]))
                times[name]["create"].append(timed([WRAP, path] + root + ["create", "-b", true_bundle[name], "c"]))
                subprocess.run([path] + root + ["delete", "-f", "c"], stderr=subprocess.DEVNULL)
                times[name]["exec"].append(timed([WRAP, path] + root + ["exec", "s", "/bin/true"]))
    finally:
        for name, path in bins.items():
            for cid in ["s", "r", "c"]:
                subprocess.run([path, "--root", f"{work}/state-{name}", "delete", "-f", cid], stderr=subprocess.DEVNULL)
        for h in os.listdir("/sys/fs/cgroup"):
            base = f"/sys/fs/cgroup/{h}/swrunc-ab-{os.getpid()}"
            if os.path.isdir(base):
                for d in os.listdir(base):
                    if os.path.isdir(os.path.join(base, d)):
                        os.rmdir(os.path.join(base, d))
                os.rmdir(base)
        shutil.rmtree(work, ignore_errors=True)
    print(f"medians over {a.rounds} interleaved rounds (ms)")
    print("| build | run /bin/true | create | exec /bin/true |")
    print("|---|---|---|---|")
    for name in bins:
        cells = [f"{statistics.median(times[name][op]):.1f}" for op in ("run", "create", "exec")]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
