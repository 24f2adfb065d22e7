#!/usr/bin/env python3
"""Time from spawning `gatehouse serve` to its ready line on stdout, over several runs (issue 11).

usage: startup-time.py BINARY [RUNS]
Makes a throw-away identity with `BINARY init --no-passphrase` (unencrypted keys: the figure is
the server's start, not 600,000 PBKDF2 rounds), then for each run starts `BINARY serve`, reads
stdout until the ready line, sends SIGTERM and waits for the exit. Prints each time and the
median/min/max in milliseconds, and the CPU time (user+system) of each whole run, start to exit,
which a loaded machine disturbs less than the wall clock.
"""
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    with tempfile.TemporaryDirectory(prefix="gatehouse-startup-") as tmp:
        site = os.path.join(tmp, "site")
        subprocess.run([binary, "init", site, "--no-passphrase"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        config = os.path.join(site, "gatehouse.json")
        times = []
        cpu = []
        for _ in range(runs):
            started = time.perf_counter()
            server = subprocess.Popen([binary, "serve", "--config", config], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            try:
                line = server.stdout.readline()
                elapsed = (time.perf_counter() - started) * 1000
                if not json.loads(line).get("ready"):
                    raise SystemExit(f"not a ready line: {line!r}")
                times.append(elapsed)
            finally:
                server.send_signal(signal.SIGTERM)
                _, status, usage = os.wait4(server.pid, 0)
                server.returncode = os.waitstatus_to_exitcode(status)
                if server.returncode != 0:
                    # Reported, not fatal: a SIGTERM right after the ready line is itself a finding.
                    print(f"serve exited with {server.returncode} after SIGTERM", file=sys.stderr)
                cpu.append((usage.ru_utime + usage.ru_stime) * 1000)
        print(" ".join(f"{t:.1f}" for t in times))
        print(f"{os.path.basename(binary)}: {runs} runs, median {statistics.median(times):.1f} ms, "
              f"min {min(times):.1f} ms, max {max(times):.1f} ms (spawn to ready line); "
              f"CPU per run (start to exit) median {statistics.median(cpu):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
