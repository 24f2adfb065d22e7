#!/usr/bin/env python3
"""Whose is scenario 8's p99 cost: the measured server's, or the host's (issue 22 item 3)?

  BENCH_PEERS=gatehouse,nginx python3 bench/diag/idle_elsewhere.py MEASURED HOLDER [RUNS] [SECONDS]

Starts both peers (the harness's config, PKI and backend), then runs wrk (32 conns, SECONDS each, RUNS
times) against MEASURED: alone; while HOLDER, the other server on the same pinned CPU, holds IDLE_N
(default 19,000) idle mutual-TLS keep-alive connections; alone again once they closed; and while MEASURED
holds them itself. Prints p99, req/s and server CPU µs per request for each run. When the busy p99 rises
as much with the idle connections on the other server, the cost is the host's, not the server's.
COUNTERS=FILE.csv attaches dotnet-counters (1 s windows) to MEASURED for the whole sequence; then
`python3 bench/diag/show.py FILE.csv --all` shows the collections each run met.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "compare"))
os.environ.setdefault("BENCH_SCENARIOS", "idlebusy")
os.environ.setdefault("BENCH_OUT", "/dev/null")  # its own lines are the result; keep latest.md
import harness as h  # noqa: E402

if len(sys.argv) < 3:
    raise SystemExit(__doc__)
MEASURED, HOLDER = sys.argv[1], sys.argv[2]
RUNS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
SECS = int(sys.argv[4]) if len(sys.argv) > 4 else 5
N = int(os.environ.get("IDLE_N", "19000"))


def measure(ctx):
    up = h.start_peers([MEASURED, HOLDER], "optional", ctx)
    counters = None
    try:
        ok = h.answering(up, ctx, 8)
        measured, holder = ok[MEASURED], ok[HOLDER]
        if os.environ.get("COUNTERS"):
            tool = Path.home() / ".dotnet/tools/dotnet-counters"  # dotnet tool install -g dotnet-counters
            pin = ["taskset", "-c", str(h.LOAD_CPU)] if h.LOAD_CPU is not None else []
            counters = subprocess.Popen(
                [*pin, str(tool), "collect", "-p", str(measured.proc.pid), "--refresh-interval", "1",
                 "--format", "csv", "-o", os.environ["COUNTERS"], "--counters", "System.Runtime,Gatehouse.Http"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        h.wrk(measured.port, 32, 10)  # JIT, pools, upstream keep-alive, as in scenario 1
        h.wrk(holder.port, 32, 5)
        h.warm_idle(measured, cert=True)
        h.warm_idle(holder, cert=True)

        def runs(tag):
            for i in range(RUNS):
                started = time.strftime("%H:%M:%S")  # to line up with the counters' windows
                r = h.wrk(measured.port, 32, SECS, server_pid=measured.proc.pid)
                print(f"{started} {MEASURED} {tag} {i + 1}: {r['rps']:.0f} req/s, p99 {r['p99']:.2f} ms, "
                      f"{r['cpu_us']:.1f} µs/req, {r['steal_ms']:.0f} ms stolen", flush=True)

        runs("alone")
        with h.idle_held(holder, N, cert=True) as held:
            print(f"{HOLDER} holds {held.opened} idle connections", flush=True)
            runs(f"beside the idle connections on {HOLDER}")
        h.wait_connections_gone(holder.port, 60)
        time.sleep(h.TEARDOWN_SETTLE)
        runs("alone again")
        with h.idle_held(measured, N, cert=True) as held:
            print(f"{MEASURED} holds {held.opened} idle connections", flush=True)
            runs("holding the idle connections itself")
    finally:
        if counters is not None:
            counters.terminate()
            counters.wait(10)
        for peer in up.values():
            peer.stop()


h.run_instead("idlebusy", measure)
