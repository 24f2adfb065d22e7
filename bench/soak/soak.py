#!/usr/bin/env python3
"""`make soak`: mixed traffic against the real executable for SOAK_SECONDS (default 600).

Starts Gatehouse (demo identity, a files route and a proxy route to a Python http.server
backend), then runs, until the time is up: keep-alive proxied GETs, file uploads and
downloads (hash-verified), and a SIGHUP reload every few seconds. At the end it prints the
request count, errors (must be 0), the server's RSS at start and end and its open file
descriptors at start and end, and exits 1 when errors occurred or RSS grew beyond the bound.
"""
import hashlib
import shutil
import http.client
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
RSS_GROWTH_BOUND_KIB = int(os.environ.get("SOAK_RSS_BOUND_KIB", str(64 * 1024)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def main():
    work = tempfile.mkdtemp(prefix="gatehouse-soak-")
    binary = os.path.join(work, "bin")
    subprocess.run(["dotnet", "build", os.path.join(ROOT, "src/Gatehouse"), "-c", "Release", "-nologo", "-v", "quiet", "-o", binary], check=True, stdout=subprocess.DEVNULL)
    gatehouse = ["dotnet", os.path.join(binary, "gatehouse.dll")]
    ident = os.path.join(work, "id")
    subprocess.run(gatehouse + ["init", ident, "--no-passphrase", "--name", "localhost"], check=True, stdout=subprocess.DEVNULL)

    www = os.path.join(work, "www")
    os.makedirs(www)
    with open(os.path.join(www, "doc.json"), "w") as f:
        json.dump({"doc": "x" * 256}, f)
    backend_port = free_port()
    backend = subprocess.Popen([sys.executable, "-m", "http.server", str(backend_port), "--bind", "127.0.0.1", "--directory", www],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    config = {
        "listen": [{"address": "127.0.0.1", "port": 0}],
        "tls": {"certificate": "server.crt", "key": "server.key"},
        "trust": {"cas": [{"name": "user", "certificate": "ca.crt"}]},
        "routes": [{"kind": "files", "prefix": "/files/", "stores": ["store"]},
                   {"kind": "proxy", "prefix": "/api/", "backend": f"http://127.0.0.1:{backend_port}"}],
        "rules": [{"principals": ["ca:user"], "files": ["read", "write"], "proxy": ["/api/"]}],
    }
    config_path = os.path.join(ident, "soak.json")
    with open(config_path, "w") as f:
        json.dump(config, f)
    server = subprocess.Popen(gatehouse + ["serve", "--config", config_path, "--log-level", "Warning"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = json.loads(server.stdout.readline())
    port = ready["listen"][0]["port"]

    context = ssl.create_default_context(cafile=os.path.join(ident, "ca.crt"))
    context.load_cert_chain(os.path.join(ident, "client.crt"), os.path.join(ident, "client.key"))
    stop = time.monotonic() + SECONDS
    counts = {"requests": 0, "errors": 0, "reloads": 0}
    errors = []
    lock = threading.Lock()

    def record(ok, what):
        with lock:
            counts["requests"] += 1
            if not ok:
                counts["errors"] += 1
                if len(errors) < 20:
                    errors.append(what)

    def proxied_gets():
        conn = None
        while time.monotonic() < stop:
            try:
                conn = conn or http.client.HTTPSConnection("localhost", port, context=context, timeout=30)
                conn.request("GET", "/api/doc.json")
                response = conn.getresponse()
                body = response.read()
                record(response.status == 200 and b"doc" in body, f"GET /api/doc.json -> {response.status}")
            except Exception as e:  # noqa: BLE001 - counted
                record(False, f"GET /api/doc.json: {e!r}")
                conn = None

    def files():
        rng = random.Random(7)
        while time.monotonic() < stop:
            try:
                data = rng.randbytes(rng.randint(1, 2 * 1024 * 1024))
                digest = hashlib.sha256(data).hexdigest()
                conn = http.client.HTTPSConnection("localhost", port, context=context, timeout=60)
                conn.request("PUT", f"/files/{digest}", body=data)
                response = conn.getresponse()
                response.read()
                record(response.status in (200, 201), f"PUT -> {response.status}")
                conn.request("GET", f"/files/{digest}")
                response = conn.getresponse()
                body = response.read()
                record(response.status == 200 and hashlib.sha256(body).hexdigest() == digest, f"GET file -> {response.status}")
                conn.close()
            except Exception as e:  # noqa: BLE001 - counted
                record(False, f"files: {e!r}")

    # Let the runtime warm up before the baseline, so JIT and pools are not counted as growth.
    warm = time.monotonic() + min(10, SECONDS / 6)
    workers = [threading.Thread(target=proxied_gets) for _ in range(4)] + [threading.Thread(target=files)]
    for w in workers:
        w.start()
    while time.monotonic() < warm:
        time.sleep(0.5)
    rss_start, fds_start = rss_kib(server.pid), fds(server.pid)

    while time.monotonic() < stop:
        time.sleep(3)
        os.kill(server.pid, signal.SIGHUP)
        counts["reloads"] += 1
    for w in workers:
        w.join()
    rss_end, fds_end = rss_kib(server.pid), fds(server.pid)

    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=30)
    backend.terminate()
    backend.wait()

    print(f"soak: {SECONDS} s, {counts['requests']} requests, {counts['errors']} errors, {counts['reloads']} reloads")
    print(f"soak: server RSS {rss_start} KiB -> {rss_end} KiB ({rss_end - rss_start:+d}), open fds {fds_start} -> {fds_end}, exit code {code}")
    for e in errors:
        print("soak: error:", e)
    shutil.rmtree(work, ignore_errors=True)
    ok = counts["errors"] == 0 and rss_end - rss_start < RSS_GROWTH_BOUND_KIB and code == 0
    print("soak:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
