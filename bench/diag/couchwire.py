#!/usr/bin/env python3
"""What each door makes the two Node processes do in scenario 7 (issue 22 item 2).

  BENCH_PEERS=gatehouse,nginx python3 bench/diag/couchwire.py [PULLS]

Starts pouchdb-server and both CouchDB doors as scenario 7 does, warms them up, then runs PULLS pulls
(default 2) through each door with `strace -f -c` on pouchdb-server and on the client, and prints the
syscalls each made per pull. Both doors carry the same 603 requests, so a door that makes Node read
more often (smaller TLS records to the client, a request's head and body in two segments to the
backend) shows here as more read/recv calls, and as CPU per document in scenario 7.
"""
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "compare"))
os.environ.setdefault("BENCH_SCENARIOS", "replicate")
os.environ.setdefault("BENCH_OUT", "/dev/null")
import harness as h  # noqa: E402

PULLS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
SYSCALLS = "read,write,writev,readv,recvfrom,sendto,recvmsg,sendmsg,accept4,epoll_wait,epoll_pwait,connect,close"
plain_run = h.run
client_trace = {"file": None}


def traced_run(cmd, **kw):
    """The client under strace when a file is set (h.node_json calls h.run)."""
    if client_trace["file"] and cmd[:1] == ["node"]:
        cmd = ["strace", "-f", "-c", "-e", f"trace={SYSCALLS}", "-o", client_trace["file"], *cmd]
    return plain_run(cmd, **kw)


def counts(path):
    """syscall -> calls, from strace -c's table."""
    out = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[-1].isidentifier() and parts[3].isdigit():
            out[parts[-1]] = int(parts[3])
    return out


def measure(ctx):
    couch = h.start_couch(ctx)
    if couch is None:
        raise SystemExit("pouchdb-server did not start")
    up = {}
    try:
        for name in ("gatehouse", "nginx"):
            peer = h.COUCH_PEER_CLASSES[name](name)
            if not peer.start("required", ctx):
                raise SystemExit(f"{name} did not start")
            up[name] = peer
        for name, peer in up.items():
            for _ in range(h.COUCH_WARMUP_PULLS):
                h.couch_pull(ctx, f"https://127.0.0.1:{peer.port}/couch/{h.COUCH_WARMUP_DB}", h.COUCH_WARMUP_DB, True)
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(PULLS):
                for name, peer in up.items():
                    server_file, client_file = f"{tmp}/server-{name}-{i}", f"{tmp}/client-{name}-{i}"
                    tracer = subprocess.Popen(["strace", "-f", "-c", "-e", f"trace={SYSCALLS}", "-o", server_file,
                                               "-p", str(couch.pid)], stderr=subprocess.DEVNULL)
                    client_trace["file"] = client_file
                    try:
                        res, err = h.couch_pull(ctx, f"https://127.0.0.1:{peer.port}/couch/{h.COUCH_DB}", h.COUCH_DB, True,
                                                server_pid=peer.proc.pid, couch_pid=couch.pid)
                    finally:
                        client_trace["file"] = None
                        tracer.send_signal(signal.SIGINT)
                        tracer.wait(30)
                    if res is None:
                        print(f"{name}: pull failed: {err}")
                        continue
                    server, client = counts(server_file), counts(client_file)
                    print(f"{name} pull {i + 1}: {res['docs_per_s']:.0f} docs/s (traced), {res['requests']} requests")
                    print("  pouchdb-server: " + ", ".join(f"{k} {v}" for k, v in sorted(server.items())))
                    print("  client:         " + ", ".join(f"{k} {v}" for k, v in sorted(client.items())), flush=True)
    finally:
        for peer in up.values():
            peer.stop()
        couch.stop()


h.run = traced_run
h.run_instead("replicate", measure)
