#!/usr/bin/env python3
"""How long the host takes to settle after thousands of idle connections close (scenario 8's "after" run).

  BENCH_PEERS=gatehouse,nginx python3 bench/diag/teardown.py [SECONDS]
  FREE_MB=400 BENCH_PEERS=gatehouse python3 bench/diag/teardown.py [SECONDS]

For each peer, freshly started and warmed: a 2 s busy wrk run (32 connections), the same beside IDLE_N
(default 19,000) idle mutual-TLS connections, then, once idle_clients.py has reset them, a 1 s wrk
probe every 2 s for SECONDS (default 50), each printed with its p99, req/s and the time the hypervisor
stole from the guest's CPUs meanwhile. A stall that every
server meets at the same time after the close is the host's, and scenario 8 waits it out
(TEARDOWN_SETTLE in harness.py).
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "compare"))
os.environ.setdefault("BENCH_SCENARIOS", "idlebusy")
os.environ.setdefault("BENCH_OUT", "/dev/null")
import harness as h  # noqa: E402

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 50
N = int(os.environ.get("IDLE_N", "19000"))
FREE_MB = int(os.environ.get("FREE_MB", "0"))
TOUCH = "import sys\nb = bytearray(int(sys.argv[1]) << 20)\nfor i in range(0, len(b), 4096): b[i] = 1\n"


def measure(ctx):
    for name in [p for p in ("gatehouse", "nginx") if p in h.PEERS]:
        up = h.start_peers([name], "optional", ctx)
        try:
            peer = h.answering(up, ctx, 8)[name]
            h.wrk(peer.port, 32, 5)
            h.warm_idle(peer, cert=True)
            r = h.wrk(peer.port, 32, 2)
            print(f"{name} before: p99 {r['p99']:.2f} ms, {r['rps']:.0f} req/s", flush=True)
            if FREE_MB:
                h.run([sys.executable, "-c", TOUCH, str(FREE_MB)], cpu=h.LOAD_CPU, check=True)
                print(f"{name}: {FREE_MB} MiB touched and freed by another process", flush=True)
            else:
                with h.idle_held(peer, N, cert=True) as held:
                    r = h.wrk(peer.port, 32, 2)
                    print(f"{name} beside {held.opened} idle: p99 {r['p99']:.2f} ms, {r['rps']:.0f} req/s", flush=True)
            closed = time.monotonic()
            while time.monotonic() - closed < SECONDS:
                stolen = h.steal_ms()
                r = h.wrk(peer.port, 32, 1)
                print(f"{name} +{time.monotonic() - closed:.0f} s: p99 {r['p99']:.2f} ms, {r['rps']:.0f} req/s, "
                      f"{h.steal_ms() - stolen:.0f} ms stolen", flush=True)
                time.sleep(1)
        finally:
            for p in up.values():
                p.stop()


h.run_instead("idlebusy", measure)
