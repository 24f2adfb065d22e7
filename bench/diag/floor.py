#!/usr/bin/env python3
"""Gatehouse against the floor of its own stack and against nginx, on the proxied GET.

  python3 bench/diag/floor.py [CONNS] [ROUNDS] [SECONDS]

The floor (bench/diag/Floor) is the least a proxy on SslStream and Socket can do per keep-alive
GET: no parsing beyond the head's end and Content-Length, no policy, no pipes, fixed buffers, one
async loop per connection. All three servers run at once, pinned to the server CPU as the harness
pins them, and wrk drives each in turn (the order rotates each round), so the host's drift hits
all three alike. Prints each round's CPU µs per request and req/s, then medians and paired ratios.
FLOOR_PEERS=floor (a comma list of gatehouse, gatehouse-local, nginx, floor, floorlocal,
floorpipes, floorlayers) runs only those; the -local runs answer without the upstream (Gatehouse's whoami, the
floor's canned answer to /local), so the forward's cost can be told from the rest, e.g. under perf (bench/diag/profile.sh's way).
floorlayers is the floor waiting for each upstream answer under FLOOR_LAYERS (default 5) more async
methods with pooled boxes: what the suspended frames of a layered forward cost.
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


class LayeredFloorPeer(FloorPeer):
    """The floor waiting for each answer under FLOOR_LAYERS (default 5) more async methods."""
    extra = ["layers=" + os.environ.get("FLOOR_LAYERS", "5")]


# name: (server, path)
RUNS = {
    "gatehouse": ("gatehouse", "/api/doc.json"),
    "gatehouse-local": ("gatehouse", "/_gatehouse/whoami"),
    "nginx": ("nginx", "/api/doc.json"),
    "floor": ("floor", "/api/doc.json"),
    "floorlocal": ("floor", "/local"),
    "floorpipes": ("floorpipes", "/api/doc.json"),
    "floorlayers": ("floorlayers", "/api/doc.json"),
}


def main():
    conns = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    subprocess.run(["dotnet", "publish", str(HERE / "Floor"), "-c", "Release", "-o", str(OUT / "floor"),
                    "-nologo", "-v", "quiet"], check=True)
    backend, ctx = start_backend("floor")

    # The floor takes Gatehouse's setting for socket completions (src/Gatehouse/Hosting/SocketCompletions.cs).
    os.environ.setdefault("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1")
    kinds = {"gatehouse": h.GatehousePeer, "nginx": h.NginxPeer, "floor": FloorPeer, "floorpipes": PipesFloorPeer,
             "floorlayers": LayeredFloorPeer}
    names = os.environ.get("FLOOR_PEERS", "gatehouse,nginx,floor").split(",")
    # A run is a server and a path: the *local runs answer without the upstream (Gatehouse's whoami,
    # the floor's canned answer), so what the forward costs can be told from what the rest costs.
    runs = {n: (RUNS[n][0], RUNS[n][1]) for n in names}
    peers = {}
    for server in dict.fromkeys(server for server, _ in runs.values()):
        peer = peers[server] = kinds[server](server)
        if not peer.start("optional", ctx):
            raise SystemExit(f"{server} did not start: {peer.proc.tail() if peer.proc else ''}")
    for server, path in runs.values():  # warm all (tiered JIT) before anything counts
        h.wrk(peers[server].port, conns, 3, path=path)

    cpu = {n: [] for n in names}
    rps = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            server, path = runs[name]
            peer = peers[server]
            res = h.wrk(peer.port, conns, seconds, path=path, server_pid=peer.proc.pid)
            if res is None or res["errors"]:
                raise SystemExit(f"{name}: wrk failed or saw errors: {res}")
            cpu[name].append(res["cpu_us"])
            rps[name].append(res["rps"])
        print(f"round {r + 1}: " + "   ".join(f"{n} {cpu[n][-1]:.1f} µs/req {rps[n][-1]:,.0f} req/s" for n in names), flush=True)

    def paired(a, b, series):
        ratios = sorted(x / y for x, y in zip(series[a], series[b]))
        return f"{statistics.median(ratios):.3f} ({ratios[0]:.3f}–{ratios[-1]:.3f})"

    print(f"{conns} conns, {rounds} rounds × {seconds} s; CPU µs/req medians: "
          + ", ".join(f"{n} {statistics.median(cpu[n]):.1f}" for n in names))
    pairs = [(a, b) for a, b in (("gatehouse", "nginx"), ("floor", "nginx"), ("gatehouse", "floor"), ("floorpipes", "floor"), ("floorlayers", "floor"),
                                 ("gatehouse-local", "floorlocal")) if a in names and b in names]
    print("CPU per request, paired medians: " + ", ".join(f"{a}/{b} {paired(a, b, cpu)}" for a, b in pairs))
    print("req/s, paired medians: " + ", ".join(f"{a}/{b} {paired(a, b, rps)}" for a, b in pairs))
    if {"gatehouse", "gatehouse-local", "floor", "floorlocal"} <= set(names):
        diff = [(g - gl) - (f - fl) for g, gl, f, fl in zip(cpu["gatehouse"], cpu["gatehouse-local"], cpu["floor"], cpu["floorlocal"])]
        print(f"the forward's own cost above the floor's, µs/req: median {statistics.median(diff):.1f} ({min(diff):.1f}–{max(diff):.1f})")
    for peer in peers.values():
        peer.stop()
    backend.stop()


if __name__ == "__main__":
    try:
        main()
    finally:
        h.stop_all()
