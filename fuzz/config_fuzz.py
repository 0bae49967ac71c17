#!/usr/bin/env python3
"""Mutation fuzzing of config.json against a real runtime, as root.

Usage: config_fuzz.py SWRUNC [--tries N] [--seed S]

Each try takes a valid busybox config, applies a few mutations (types, ranges, paths, NUL bytes,
duplicate keys, invalid UTF-8, removed and unknown keys), and runs `create`, then `start` and
`delete` when create succeeds. A try fails on:
  - a crash (the runtime killed by a signal, a Swift runtime trap, a hang),
  - an error that is more than one line, does not start with "swrunc: ", or names neither the
    mutated field (its JSON path, a parent of it, or its key), nor the line and column of a JSON
    syntax problem, nor the value that was put there,
  - anything left behind after `delete --force`: state, a cgroup in any hierarchy, a mount, a
    process.
Mutations never point root.path or a hook at the host, and cgroupsPath stays under the fuzzer's
own cgroup parent, so no try can touch anything but what the fuzzer made. Prints TAP.
"""
import argparse
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import uuid

BUSYBOX = "/bin/busybox"
APPLETS = ["sh", "true", "sleep", "cat", "ls", "id", "echo"]
HIERARCHIES = [os.path.join("/sys/fs/cgroup", d) for d in sorted(os.listdir("/sys/fs/cgroup"))
               if os.path.exists(os.path.join("/sys/fs/cgroup", d, "cgroup.procs"))]

# Values a number may be replaced with: edges of every integer width, negatives, fractions.
NUMBERS = [-1, 0, 1, 2147483647, 2147483648, 4294967295, 4294967296, 2 ** 63, 2 ** 64, -2 ** 63 - 1,
           1.5, 1e3, -0.0, 10 ** 30]
# Values a string may be replaced with: empty, relative, climbing, long, control characters.
STRINGS = ["", "relative", "../../../../etc", "/a/../../..", "/tmp/\u0000evil", "x\ny", "\u0001",
           "/" + "a" * 5000, "\u00e9\u4e2d", "SCMP_ACT_BOGUS", "CAP_BOGUS"]
OTHER = [None, True, False, [], {}, "string", 7, [1, "a", None], {"k": "v"}]
# Fields where a string mutation could reach the host; only type mutations there.
GUARDED = {"root.path", "linux.cgroupsPath"}


class Raw:
    """Bytes spliced into the serialized document as they are (duplicate keys, bad UTF-8)."""

    def __init__(self, text):
        self.text = text


def leaves(node, path=""):
    """(path, parent, key) for every value in the document."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        sub = f"{path}[{key}]" if isinstance(node, list) else (f"{path}.{key}" if path else key)
        yield sub, node, key
        yield from leaves(value, sub)


def serialize(node):
    if isinstance(node, Raw):
        return node.text
    if isinstance(node, dict):
        return "{" + ",".join(json.dumps(k) + ":" + serialize(v) for k, v in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ",".join(serialize(v) for v in node) + "]"
    return json.dumps(node, ensure_ascii=False)


def mutate(doc, rng, cgparent):
    """Applies one mutation; returns (JSON path, the value put there, or None)."""
    candidates = [(p, parent, key) for p, parent, key in leaves(doc) if not p.startswith("hooks")]
    path, parent, key = rng.choice(candidates)
    value = parent[key]
    kind = rng.randrange(8)
    if path in GUARDED:
        if path == "linux.cgroupsPath":
            new = rng.choice([f"/{cgparent}/../..", f"/{cgparent}/a\nb", "/", f"/{cgparent}/x/../..",
                              f"/{cgparent}/{'y' * 300}", 7, None])
        else:
            new = rng.choice([7, None, [], "", "rootfs/../rootfs"])
        parent[key] = new
        return path, new
    if kind == 0:
        new = rng.choice(OTHER)
    elif kind == 1 and isinstance(value, (int, float)) and not isinstance(value, bool):
        new = rng.choice(NUMBERS)
    elif kind == 2 and isinstance(value, str):
        new = rng.choice(STRINGS)
    elif kind == 3 and isinstance(value, str):
        new = value + "\u0000junk"
    elif kind == 4 and isinstance(parent, dict):
        # The same key twice, the second with another value.
        other = serialize(rng.choice(OTHER))
        parent[key] = Raw(serialize(value) + "," + json.dumps(key) + ":" + other)
        return path, None
    elif kind == 5 and isinstance(value, str):
        parent[key] = Raw('"' + value.replace('"', "") + '\udcff"')  # lone surrogate → invalid UTF-8 bytes
        return path, None
    elif kind == 6:
        if isinstance(parent, dict):
            del parent[key]
        else:
            parent.pop(key)
        return path, None
    else:
        if isinstance(value, dict):
            value["unknownField" + str(rng.randrange(100))] = rng.choice(OTHER)
            return path, None
        new = rng.choice(OTHER + NUMBERS[:4] + STRINGS[:4])
    parent[key] = new
    return path, new


def names_the_problem(err, path, value, fields):
    """The error names the mutated field (or a parent), its key, a JSON location, the value, or
    another field of the config the mutation made inconsistent (`hostname:` once `linux` is gone)."""
    if "invalid JSON at line" in err or "invalid UTF-8 at line" in err:
        return True
    if any(f + ":" in err or f + "[" in err or f + "." in err for f in fields):
        return True
    parts = path.replace("[", ".[").split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i]).replace(".[", "[")
        if prefix and prefix in err:
            return True
    key = parts[-1].strip("[]")
    if not key.isdigit() and key in err:
        return True
    if isinstance(value, str) and value and value[:20].replace("\n", "\\n") in err:
        return True
    return False


def run(argv, timeout=30):
    """Output goes to files: a created container's init holds the caller's stdio, as runc's does."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            code = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            code = None
        out.seek(0)
        err.seek(0)
        text = err.read().decode(errors="replace")
        return code, out.read().decode(errors="replace"), text if code is not None else f"timed out after {timeout}s: {text}"


def leftovers(root, cid, cgparent, bundle):
    left = []
    if os.path.exists(os.path.join(root, cid)):
        left.append("state directory")
    for h in HIERARCHIES:
        base = os.path.join(h, cgparent)
        if os.path.isdir(base):
            left += [f"cgroup {base}/{d}" for d in os.listdir(base) if os.path.isdir(os.path.join(base, d))]
    with open("/proc/self/mountinfo") as f:
        if bundle in f.read():
            left.append("mount under the bundle")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if cid.encode() in f.read():
                    left.append(f"process {pid}")
        except OSError:
            pass
    return left


def remove_cgroups(cgparent):
    for h in HIERARCHIES:
        base = os.path.join(h, cgparent)
        if not os.path.isdir(base):
            continue
        for d in os.listdir(base):
            if os.path.isdir(os.path.join(base, d)):
                try:
                    os.rmdir(os.path.join(base, d))
                except OSError:
                    pass
        try:
            os.rmdir(base)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("swrunc")
    ap.add_argument("--tries", type=int, default=400)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("config_fuzz: must run as root")
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    swrunc = os.path.abspath(a.swrunc)
    tag = uuid.uuid4().hex[:8]
    work = tempfile.mkdtemp(prefix="swrunc-fuzz-")
    bundle, root, cgparent = os.path.join(work, "bundle"), os.path.join(work, "state"), f"swrunc-fuzz-{tag}"
    rootfs = os.path.join(bundle, "rootfs")
    for d in ["bin", "proc", "sys", "dev", "etc", "tmp"]:
        os.makedirs(os.path.join(rootfs, d))
    shutil.copy(BUSYBOX, os.path.join(rootfs, "bin/busybox"))
    for applet in APPLETS:
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    subprocess.run([swrunc, "spec", "--bundle", bundle], check=True)
    with open(os.path.join(bundle, "config.json")) as f:
        base = json.load(f)
    base["process"]["terminal"] = False
    base["process"]["args"] = ["true"]
    base["root"]["readonly"] = False
    fields = sorted({p for p, _, _ in leaves(base)}, key=len, reverse=True)
    print(f"# seed {seed}: rerun with --seed {seed}", flush=True)
    failures = 0
    created = 0
    try:
        for n in range(1, a.tries + 1):
            cid = f"fz-{tag}-{n}"
            doc = copy.deepcopy(base)
            doc["linux"]["cgroupsPath"] = f"/{cgparent}/{cid}"
            muts = [mutate(doc, rng, cgparent) for _ in range(rng.randint(1, 2))]
            path, value = muts[-1]
            text = serialize(doc)
            with open(os.path.join(bundle, "config.json"), "wb") as f:
                f.write(text.encode("utf-8", errors="surrogateescape"))
            problems = []
            code, out, err = run([swrunc, "--root", root, "create", "--bundle", bundle, cid])
            if code is None or code < 0 or code > 128 or "Fatal error" in err:
                problems.append(f"crash or hang (status {code}): {err[:200]}")
            elif code == 0:
                created += 1
                sc, _, serr = run([swrunc, "--root", root, "start", cid])
                if sc is None or sc < 0 or sc > 128:
                    problems.append(f"start crashed (status {sc}): {serr[:200]}")
            else:
                # Warnings (an unknown capability ignored) are lines of their own, as in runc.
                lines = [line for line in err.splitlines() if not line.startswith("swrunc warning: ")]
                if len(lines) != 1 or not lines[0].startswith("swrunc: "):
                    problems.append(f"not a one-line error: {err[:300]!r}")
                elif len(lines[0]) > 1000:
                    problems.append(f"a {len(lines[0])}-character error")
                elif not any(names_the_problem(err, p, v, fields) for p, v in muts):
                    problems.append(f"the error names no field: {lines[0][:300]}")
            dc, _, derr = run([swrunc, "--root", root, "delete", "--force", cid])
            if dc != 0:
                problems.append(f"delete --force failed: {derr[:200]}")
            left = leftovers(root, cid, cgparent, bundle)
            if left:
                problems.append(f"left behind: {', '.join(left[:5])}")
                subprocess.run([swrunc, "--root", root, "delete", "--force", cid], capture_output=True)
                remove_cgroups(cgparent)
            mutated = "; ".join(f"{p} = {v!r}"[:120] for p, v in muts)
            if problems:
                failures += 1
                print(f"not ok {n} - {mutated}", flush=True)
                for p in problems:
                    print(f"#   {p}", flush=True)
                print(f"#   config: {text[:400]}", flush=True)
            else:
                print(f"ok {n} - {mutated}", flush=True)
    finally:
        for cid in os.listdir(root) if os.path.isdir(root) else []:
            subprocess.run([swrunc, "--root", root, "delete", "--force", cid], capture_output=True)
        remove_cgroups(cgparent)
        subprocess.run(["umount", "-R", rootfs], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print(f"1..{a.tries}")
    print(f"{a.tries - failures} passed, {failures} failed ({created} configs were valid and ran); seed {seed}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
