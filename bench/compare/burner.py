#!/usr/bin/env python3
"""CPU and memory-bandwidth burner for bench/compare (BENCH_BURNER=1, issue 22).

  burner.py MIB SECONDS

Copies one buffer of MIB/2 MiB onto another in a loop (memmove in C: every pass streams the
whole of both through the caches, so the other core's server finds its cache lines evicted and
the memory bus shared), until SECONDS pass, its parent goes away, or it is signalled. Prints
"burning" on stdout once both buffers are resident.
"""
import os
import sys
import time


def main():
    mib, seconds = int(sys.argv[1]), float(sys.argv[2])
    half = max(1, mib // 2) << 20
    src, dst = bytearray(b"\x5a" * half), bytearray(half)
    dst[:] = src                                   # fault every page in before saying so
    parent = os.getppid()
    print("burning", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and os.getppid() == parent:
        dst[:] = src
        src[:] = dst


if __name__ == "__main__":
    main()
