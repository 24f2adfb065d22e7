#!/usr/bin/env python3
"""Per-window collector figures from a dotnet-counters CSV (System.Runtime, Gatehouse.Http).

  python3 bench/diag/gcwindows.py FILE.csv

One line per refresh window: requests/s, gen0/gen1/gen2 collections, the collector's pause time in the
window, and the heap left after the last collection. Lines up a busy run's p99 with the pauses in it
(bench/results/session22-2026-12-07.md: the 58-84 ms copies of a batch of idle connections).
"""
import collections
import csv
import re
import sys


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    windows = collections.OrderedDict()
    for row in csv.DictReader(open(sys.argv[1])):
        windows.setdefault(row["Timestamp"], {})[row["Counter Name"]] = float(row["Mean/Increment"] or 0)

    def total(values, prefix):
        return sum(v for name, v in values.items() if name.startswith(prefix))

    def collections_of(values, generation):
        return sum(v for name, v in values.items()
                   if name.startswith("dotnet.gc.collections") and name.endswith(f"[gc.heap.generation={generation}]"))

    print("time      req/s  gen0 gen1 gen2  pause ms  heap MB")
    for stamp, values in windows.items():
        seconds = next((float(m.group(1)) for name in values
                        if (m := re.search(r"/ (\d+(?:\.\d+)?) sec\)", name))), 1.0)
        print(f"{stamp[-8:]} {total(values, 'gatehouse.requests') / seconds:7.0f} "
              f"{collections_of(values, 'gen0'):4.0f} {collections_of(values, 'gen1'):4.0f} {collections_of(values, 'gen2'):4.0f} "
              f"{total(values, 'dotnet.gc.pause.time') * 1000:9.1f} {total(values, 'dotnet.gc.last_collection.heap.size') / 1e6:8.0f}")


if __name__ == "__main__":
    main()
