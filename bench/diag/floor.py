#!/usr/bin/env python3
"""Gatehouse against the floor of its own stack and against nginx, on the proxied GET.

  python3 bench/diag/floor.py [CONNS] [ROUNDS] [SECONDS]

The floor (bench/diag/Floor) is the least a proxy on SslStream and Socket can do per keep-alive
GET: no parsing beyond the head's end and Content-Length, no policy, no pipes, fixed buffers, one
async loop per connection. All three servers run at once, pinned to the server CPU as the harness
pins them, and wrk drives each in turn (the order rotates each round), so the host's drift hits
all three alike. Prints each round's CPU µs per request and req/s, then medians and paired ratios.
FLOOR_PEERS=floor (a comma list of gatehouse, nginx, floor, floorpipes) runs only those, e.g. under perf (bench/diag/profile.sh's way).
Needs bench/compare/out/gatehouse (make bench, or dotnet publish src/Gatehouse -c Release -o it)
and builds the floor into $OUT/floor.
"""
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "compare"))
import harness as h  # noqa: E402
from ab import start_backend  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = Path(os.environ.get("OUT", "/tmp/gatehouse-diag"))


class FloorPeer(h.Peer):
    extra = []

    def start(self, mode, ctx):
        self.proc = h.Proc(self.name, ["dotnet", str(OUT / "floor" / "floor.dll"), str(h.PKI / "server.crt"),
                                       str(h.PKI / "server.key"), str(ctx["backend_port"])] + self.extra,
                           cpu=h.SERVER_CPU, capture=True)
        ready = h.read_ready_line(self.proc)
        self.port = ready and ready["port"]
        return ready is not None


class PipesFloorPeer(FloorPeer):
    """The floor reading and writing through pipes made with Gatehouse's options."""
    extra = ["pipes"]


def main():
    conns = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    subprocess.run(["dotnet", "publish", str(HERE / "Floor"), "-c", "Release", "-o", str(OUT / "floor"),
                    "-nologo", "-v", "quiet"], check=True)
    backend, ctx = start_backend("floor")

    # The floor takes Gatehouse's setting for socket completions (src/Gatehouse/Hosting/SocketCompletions.cs).
    os.environ.setdefault("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1")
    kinds = {"gatehouse": h.GatehousePeer, "nginx": h.NginxPeer, "floor": FloorPeer, "floorpipes": PipesFloorPeer}
    names = os.environ.get("FLOOR_PEERS", "gatehouse,nginx,floor").split(",")
    peers = [kinds[n](n) for n in names]
    for name, peer in zip(names, peers):
        if not peer.start("optional", ctx):
            raise SystemExit(f"{name} did not start: {peer.proc.tail() if peer.proc else ''}")
    for peer in peers:  # warm all (tiered JIT) before anything counts
        h.wrk(peer.port, conns, 3)

    cpu = {n: [] for n in names}
    rps = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            peer = peers[names.index(name)]
            res = h.wrk(peer.port, conns, seconds, server_pid=peer.proc.pid)
            if res is None or res["errors"]:
                raise SystemExit(f"{name}: wrk failed or saw errors: {res}")
            cpu[name].append(res["cpu_us"])
            rps[name].append(res["rps"])
        print(f"round {r + 1}: " + "   ".join(f"{n} {cpu[n][-1]:.1f} µs/req {rps[n][-1]:,.0f} req/s" for n in names), flush=True)

    def paired(a, b, series):
        if a not in series or b not in series:
            return "-"
        ratios = sorted(x / y for x, y in zip(series[a], series[b]))
        return f"{statistics.median(ratios):.3f} ({ratios[0]:.3f}–{ratios[-1]:.3f})"

    print(f"{conns} conns, {rounds} rounds × {seconds} s; CPU µs/req medians: "
          + ", ".join(f"{n} {statistics.median(cpu[n]):.1f}" for n in names))
    print(f"CPU per request, paired medians: gatehouse/nginx {paired('gatehouse', 'nginx', cpu)}, "
          f"floor/nginx {paired('floor', 'nginx', cpu)}, gatehouse/floor {paired('gatehouse', 'floor', cpu)}")
    if "floorpipes" in names:
        print(f"CPU per request, paired medians: floorpipes/floor {paired('floorpipes', 'floor', cpu)}, "
              f"gatehouse/floorpipes {paired('gatehouse', 'floorpipes', cpu)}")
    print(f"req/s, paired medians: gatehouse/nginx {paired('gatehouse', 'nginx', rps)}, "
          f"floor/nginx {paired('floor', 'nginx', rps)}, gatehouse/floor {paired('gatehouse', 'floor', rps)}")
    for peer in peers:
        peer.stop()
    backend.stop()


if __name__ == "__main__":
    try:
        main()
    finally:
        h.stop_all()
