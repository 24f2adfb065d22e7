#!/usr/bin/env python3
"""Checks a `make bench SMOKE=1` table: every scenario row that ran has a Gatehouse figure.

The smoke run's numbers mean nothing (seconds-long runs on a shared machine); what it guards is
that every scenario still starts Gatehouse, drives it and reads a figure back.
"""
import sys
from pathlib import Path


def main(path: str) -> int:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    header = next((l for l in lines if l.startswith("| scenario |")), None)
    if header is None:
        print(f"{path}: no results table")
        return 1
    columns = [c.strip() for c in header.strip("|").split("|")]
    gatehouse = columns.index("Gatehouse")
    rows = [l for l in lines if l.startswith("| ") and l[2:3].isdigit()]
    bad = [r for r in rows if not any(ch.isdigit() for ch in r.strip("|").split("|")[gatehouse])]
    scenarios = {r.split("|")[1].strip().split(".")[0] for r in rows}
    if bad or len(scenarios) < 4:
        print(f"{path}: {len(rows)} rows over scenarios {sorted(scenarios)}; rows without a Gatehouse figure:")
        for r in bad:
            print("  " + r)
        return 1
    print(f"bench smoke: {len(rows)} rows over scenarios {sorted(scenarios)}, each with a Gatehouse figure")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
