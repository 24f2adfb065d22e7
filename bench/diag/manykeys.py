#!/usr/bin/env python3
"""RSS per idle connection when every connection is a different key (issue 22 item 3).

  BENCH_PEERS=gatehouse,nginx python3 bench/diag/manykeys.py [CONNS] [KEYS]

Scenario 4 and 8 hold their idle connections with one client key, so Gatehouse's principals, one per
identity (src/Wire/ClientTrust.cs), cost nothing per connection there. A device whose peers are keys
(a hub, a peer-to-peer app) sees one key per connection. This signs KEYS client certificates (default
CONNS, default 2,000) with the harness's user CA, then for each peer holds CONNS idle mutual-TLS
connections from the one key and from the KEYS keys in turn, each time in a freshly started and warmed
server (REPS times, default 2), and prints RSS per connection.
"""
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "compare"))
os.environ.setdefault("BENCH_SCENARIOS", "idle")
os.environ.setdefault("BENCH_OUT", "/dev/null")
import harness as h  # noqa: E402

CONNS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
KEYS = int(sys.argv[2]) if len(sys.argv) > 2 else CONNS
REPS = int(os.environ.get("REPS", "2"))
EXTENSIONS = ("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
              "extendedKeyUsage=clientAuth\n")


def sign(folder, i):
    key, csr, crt = folder / f"{i}.key", folder / f"{i}.csr", folder / f"{i}.crt"
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", f"/CN=peer-{i}", "-keyout", str(key), "-out", str(csr)], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(h.PKI / "ca.crt"), "-CAkey", str(h.PKI / "ca.key"),
                    "-set_serial", str(1000 + i), "-days", "2", "-extfile", str(folder / "ext.cnf"), "-out", str(crt)],
                   check=True, capture_output=True)
    csr.unlink()


def measure(ctx):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "ext.cnf").write_text(EXTENSIONS)
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: sign(folder, i), range(KEYS)))
        (folder / "ext.cnf").unlink()
        print(f"{KEYS} client certificates signed in {time.monotonic() - started:.0f} s", flush=True)
        # a fresh server each time: memory freed by one round stays in the process and would fill the next
        for rep in range(REPS):
            for label, keys in h.rotated([("one key", True), (f"{KEYS} keys", folder)], rep):
                for name in [p for p in ("gatehouse", "nginx") if p in h.PEERS]:
                    up = h.start_peers([name], "required", ctx)
                    try:
                        peer = up[name]
                        h.warm_idle(peer, cert=True)
                        time.sleep(h.IDLE_SETTLE)
                        with h.idle_held(peer, CONNS, cert=keys) as held:
                            per = held.per_conn()
                            print(f"{name}, {held.opened} idle connections from {label}: "
                                  f"{'?' if per is None else f'{per:.1f}'} KiB each"
                                  + (f" ({held.error})" if held.error else ""), flush=True)
                    finally:
                        for peer in up.values():
                            peer.stop()

h.run_instead("idle", measure)
