#!/usr/bin/env python3
"""Shares of a `perf script -F comm,pid,ip,sym,dso` profile (profile.sh writes one).

  python3 perfshare.py FILE [REGEX...]   (TOP=N symbols, default 60)

Prints the leaf (self) share by library ("JIT" for the .NET perf map's frames) and by symbol, then
for each REGEX the share of samples with a matching frame anywhere in the stack (inclusive).
"""
import collections, re, sys
path = sys.argv[1]
pats = sys.argv[2:]
samples = []
cur = None
for line in open(path, errors="replace"):
    line = line.rstrip("\n")
    if not line.strip():
        if cur: samples.append(cur); cur = None
        continue
    if not line.startswith((" ", "\t")):
        if cur: samples.append(cur)
        cur = {"head": line, "frames": []}
        continue
    m = re.match(r"\s*([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$", line)
    if m and cur is not None:
        cur["frames"].append((m.group(2), m.group(3)))
if cur: samples.append(cur)
samples = [s for s in samples if "dotnet" in s["head"] or ".NET" in s["head"] or "gatehouse" in s["head"]] or samples
n = len(samples)
print("samples", n)
bydso = collections.Counter(); bysym = collections.Counter()
for s in samples:
    if not s["frames"]: continue
    sym, dso = s["frames"][0]
    d = dso.split("/")[-1]
    if d.startswith("perf-") or d.endswith(".map"): d = "JIT"
    bydso[d] += 1; bysym[(sym[:110], d)] += 1
print("\n== self by dso")
for k, v in bydso.most_common(15): print(f"{100*v/n:6.2f}% {k}")
print("\n== self by symbol")
for (k, d), v in bysym.most_common(int(__import__('os').environ.get('TOP', '60'))): print(f"{100*v/n:6.2f}% [{d[:14]}] {k}")
for p in pats:
    r = re.compile(p); c = sum(1 for s in samples if any(r.search(f[0]) for f in s["frames"]))
    print(f"incl {100*c/n:6.2f}% {p}")
