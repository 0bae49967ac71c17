"""Maps the addresses in WORK/ips (samples or page faults in swrunc) to the functions of
WORK/syms and prints them as section names for gold's --section-ordering-file: the list in
PREVIOUS first (kept in its order), then new functions, most frequent first. Only functions in a
section of their own (WORK/map.txt) can be placed; the stdlib's Swift code and libc come in one
section per object and are left out."""
import bisect
import collections
import re
import sys

work = sys.argv[1]
previous = [l.strip() for l in open(sys.argv[2])] if len(sys.argv) > 2 else []
syms = []
for line in open(f"{work}/syms"):
    parts = line.split(None, 1)
    if len(parts) == 2:
        syms.append((int(parts[0], 16), parts[1].strip()))
starts = [a for a, _ in syms]
text_end = syms[-1][0] if syms else 0
own = set(m.group(1) for m in re.finditer(r"^ \.text\.(\S+)", open(f"{work}/map.txt").read(), re.M))
count = collections.Counter()
for line in open(f"{work}/ips"):
    address = int(line, 16)
    i = bisect.bisect_right(starts, address) - 1
    if 0 <= i and address <= text_end:
        count[syms[i][1]] += 1
seen = set(previous)
print("\n".join(previous + [f".text.{n}" for n, _ in count.most_common() if n in own and f".text.{n}" not in seen]))
