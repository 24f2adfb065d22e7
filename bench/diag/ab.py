#!/usr/bin/env python3
"""A/B two Gatehouse builds on the proxied GET, alternating short wrk runs in the same minutes.

  python3 bench/diag/ab.py DIR_A DIR_B [CONNS] [ROUNDS] [SECONDS]

DIR_A and DIR_B are `dotnet publish` outputs (each holds gatehouse.dll). Both servers run at once,
pinned to the server CPU as the harness pins them; wrk drives one, then the other, ROUNDS times
(in turn first), SECONDS each, at CONNS connections. The host's slow spells last 20 s to minutes
(bench/results/session15-2026-12-06.md), so a run of one build after the other cannot tell a 5%
change from the drift; the ratio within each round can. Prints each round's CPU µs per request and
req/s for both, then the median and range of the B/A ratios.
AB_B_LIMITS='{"maxUpstreamConnectionsPerNode": 300}' gives B other limits (one build is enough then).
AB_B_ENV='DOTNET_GCgen0size=0x600000' starts B with those NAME=VALUE pairs (space-separated) added to its
environment: a runtime knob against the same build.
AB_B_LOG_LEVEL=Information starts B at that log level (A stays at the harness's Warning): what the access
log, one JSON line per request on stderr (into a file here), costs.
"""
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "compare"))
import harness as h  # noqa: E402


def start_backend(tag):
    """The harness's PKI, data and backend nginx (on the load CPU), as a diagnostic run needs them: (process, peer context)."""
    h.RUN.mkdir(parents=True, exist_ok=True)
    h.raise_nofile(h.NOFILE)
    h.make_pki()
    h.make_data()
    backend_port = h.free_port()
    conf = h.RUN / f"{tag}-backend-nginx.conf"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (h.RUN / "backend-nginx-tmp" / sub).mkdir(parents=True, exist_ok=True)
    conf.write_text(h.fill("nginx-backend.conf", RUN=h.RUN, PORT=backend_port, DATA=h.DATA))
    backend = h.Proc(f"{tag}-backend-nginx", ["nginx", "-p", str(h.RUN), "-c", str(conf)], cpu=h.LOAD_CPU)
    if not h.wait_port(backend_port, backend):
        raise SystemExit("the backend did not start: " + backend.tail())
    return backend, {"backend_port": backend_port, "feed_port": h.free_port(), "nofile": h.NOFILE}


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    dirs = [Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()]
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 6
    seconds = int(sys.argv[5]) if len(sys.argv) > 5 else 6
    backend, ctx = start_backend("ab")

    peers = []
    base_run = h.RUN
    b_limits = os.environ.pop("AB_B_LIMITS", None)
    b_env = os.environ.pop("AB_B_ENV", "").split()
    b_log_level = os.environ.pop("AB_B_LOG_LEVEL", None)
    for tag, d in zip("AB", dirs):
        if tag == "B" and b_limits:
            os.environ["BENCH_GATEHOUSE_LIMITS"] = b_limits
        if tag == "B" and b_log_level:
            os.environ["BENCH_GATEHOUSE_LOG_LEVEL"] = b_log_level
        prefix = ["env", *b_env] if tag == "B" and b_env else []
        h.gatehouse_command = lambda d=d, prefix=prefix: [*prefix, "dotnet", str(d / "gatehouse.dll")]
        h.RUN = base_run / f"ab-{tag}"  # its config and log apart from the other's
        h.RUN.mkdir(parents=True, exist_ok=True)
        peer = h.GatehousePeer("gatehouse")
        if not peer.start("optional", ctx):
            raise SystemExit(f"{tag} ({d}) did not start: {peer.proc.tail() if peer.proc else ''}")
        peers.append(peer)

    for peer in peers:  # warm both (tiered JIT) before anything counts
        h.wrk(peer.port, conns, 3)
    cpu = {0: [], 1: []}
    rps = {0: [], 1: []}
    for r in range(rounds):
        for i in (0, 1) if r % 2 == 0 else (1, 0):
            res = h.wrk(peers[i].port, conns, seconds, server_pid=peers[i].proc.pid)
            cpu[i].append(res["cpu_us"])
            rps[i].append(res["rps"])
        print(f"round {r + 1}: A {cpu[0][-1]:.1f} µs/req {rps[0][-1]:,.0f} req/s   "
              f"B {cpu[1][-1]:.1f} µs/req {rps[1][-1]:,.0f} req/s   B/A cpu {cpu[1][-1] / cpu[0][-1]:.3f}", flush=True)
    ratios = sorted(b / a for a, b in zip(cpu[0], cpu[1]))
    rps_ratios = sorted(b / a for a, b in zip(rps[0], rps[1]))
    print(f"{conns} conns, {rounds} rounds × {seconds} s: CPU µs/req A median {statistics.median(cpu[0]):.1f}, "
          f"B median {statistics.median(cpu[1]):.1f}; B/A paired median {statistics.median(ratios):.3f} "
          f"({ratios[0]:.3f}–{ratios[-1]:.3f}); req/s B/A {statistics.median(rps_ratios):.3f}")
    for peer in peers:
        peer.stop()
    backend.stop()


if __name__ == "__main__":
    try:
        main()
    finally:
        h.stop_all()
