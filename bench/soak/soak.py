#!/usr/bin/env python3
"""`make soak`: mixed traffic against the real executable for SOAK_SECONDS (default 600).

Starts Gatehouse (`serve --count-buffers`, demo identity) in front of real processes:
pouchdb-server (in memory) behind a couchdb route, a Python http.server behind a proxy route,
and a Node `ws` echo server behind a proxy route with webSockets on. Until the time is up it runs:

- keep-alive proxied GETs (Python);
- file uploads (random sizes up to 2 MiB) and ranged downloads, every byte compared (Python);
- continuous _changes feeds held open for 5-40 s, then closed or reset (Python, raw TLS);
- PouchDB replication, push and pull, documents with attachments (Node, bench/soak/clients.js);
- WebSocket echo sessions, every echo compared, some cut at a random point (Node);
- client aborts at random points: mid-head, mid-upload, mid-download, mid-feed, mid-handshake,
  by RST or by FIN (Python);
- a SIGHUP reload every SOAK_RELOAD_SECONDS (10);
- a backend restart every SOAK_RESTART_SECONDS (300): pouchdb-server, the http.server and the
  ws echo server are killed and started again on the same ports (pouchdb-server set up afresh).

Failures inside a restart window (kill .. set-up done + SOAK_RESTART_GRACE seconds) are counted
as expected, by kind and status; any other failure is unexpected and listed with its request and
answer. Every 10 s it samples the server's RSS and open fds (/proc) and scrapes
/_gatehouse/metrics on the loopback listener (pooled buffers out, connections, upstream slots).
At the end it writes bench/results/soak.md (table) and soak.png (plot, drawn with zlib+struct)
and exits 1 when an unexpected error occurred, RSS or fds grew 5% or more after the warm-up
(SOAK_WARMUP_SECONDS, default 300, or a quarter of short runs), the pooled buffers did not all
come back, or the server did not exit 0 on SIGTERM.
"""
import base64
import collections
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
RESTART_SECONDS = int(os.environ.get("SOAK_RESTART_SECONDS", "300"))
RELOAD_SECONDS = float(os.environ.get("SOAK_RELOAD_SECONDS", "10"))
SAMPLE_SECONDS = float(os.environ.get("SOAK_SAMPLE_SECONDS", "10"))
WARMUP_SECONDS = int(os.environ.get("SOAK_WARMUP_SECONDS", str(min(300, SECONDS // 4))))
RESTART_GRACE = float(os.environ.get("SOAK_RESTART_GRACE", "10"))
GROWTH_BOUND = float(os.environ.get("SOAK_GROWTH_BOUND", "0.05"))
RESULTS = os.environ.get("SOAK_RESULTS", os.path.join(ROOT, "bench", "results"))
MODULES = os.path.join(ROOT, "tools", "node_modules")
DB = "soak"
ADMIN = ("admin", base64.urlsafe_b64encode(os.urandom(12)).decode())
DEVICE = ("device", base64.urlsafe_b64encode(os.urandom(12)).decode())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid):
    """/proc/PID/status as {field: first number}: VmRSS, RssAnon, RssFile (kiB), Threads."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if rest.split() and rest.split()[0].isdigit():
                values[name] = int(rest.split()[0])
    return values


def rss_kib(pid):
    return proc_status(pid).get("VmRSS", 0)


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_port(port, seconds=60):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


class Tally:
    """Requests served, expected failures (inside a restart window) and unexpected ones."""

    def __init__(self):
        self.lock = threading.Lock()
        self.served = collections.Counter()
        self.expected = collections.Counter()
        self.unexpected = collections.Counter()
        self.unexpected_list = []
        self.aborts = collections.Counter()
        self.windows = []  # [start, end or None] in time.time()
        self.restarts = 0
        self.false_alarms = 0
        self.false_alarm_list = []

    def in_window(self, t):
        with self.lock:
            for start, end in self.windows:
                if start - 0.5 <= t and (end is None or t <= end + RESTART_GRACE):
                    return True
        return False

    def ok(self, kind, n=1):
        with self.lock:
            self.served[kind] += n

    def fail(self, kind, status, detail, t=None):
        t = time.time() if t is None else t
        if self.in_window(t):
            with self.lock:
                self.expected[(kind, status)] += 1
            return
        with self.lock:
            self.unexpected[kind] += 1
            if len(self.unexpected_list) < 50:
                self.unexpected_list.append((round(t - START_WALL, 1), kind, status, detail))

    def false_alarm(self, detail):
        """A client library's error for an answer that, by the bytes on its socket, came whole."""
        with self.lock:
            self.false_alarms += 1
            if len(self.false_alarm_list) < 5:
                self.false_alarm_list.append(detail)

    def abort(self, kind):
        with self.lock:
            self.aborts[kind] += 1


START_WALL = time.time()
tally = Tally()
KNOWN_FILES = []  # ids uploaded so far, for the aborting downloads


class Backends:
    """pouchdb-server, the http.server and the ws echo server, restartable on the same ports."""

    def __init__(self, work):
        self.work = work
        self.couch_port, self.http_port, self.ws_port = free_port(), free_port(), free_port()
        self.www = os.path.join(work, "www")
        os.makedirs(self.www)
        with open(os.path.join(self.www, "doc.json"), "w") as f:
            json.dump({"doc": "x" * 256}, f)
        self.procs = {}
        self.generation = 0

    def start(self):
        self.generation += 1
        couch_dir = os.path.join(self.work, f"couch-{self.generation}")
        os.makedirs(couch_dir)
        self.procs["couch"] = subprocess.Popen(
            ["node", os.path.join(MODULES, "pouchdb-server", "bin", "pouchdb-server"), "--in-memory",
             "--host", "127.0.0.1", "--port", str(self.couch_port)],
            cwd=couch_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs["http"] = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.http_port), "--bind", "127.0.0.1", "--directory", self.www],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs["ws"] = subprocess.Popen(
            ["node", os.path.join(ROOT, "bench", "soak", "ws-echo.js"), MODULES, str(self.ws_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for port in (self.couch_port, self.http_port, self.ws_port):
            wait_port(port)
        self.set_up_couch()

    def couch(self, method, path, body=None, auth=ADMIN):
        request = urllib.request.Request(f"http://127.0.0.1:{self.couch_port}{path}", method=method,
                                         data=None if body is None else json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def set_up_couch(self):
        self.couch("PUT", "/_config/admins/admin", ADMIN[1], auth=None)
        self.couch("PUT", f"/_users/org.couchdb.user:{DEVICE[0]}",
                   {"name": DEVICE[0], "password": DEVICE[1], "roles": [], "type": "user"})
        self.couch("PUT", f"/{DB}")
        self.couch("PUT", f"/{DB}/_security",
                   {"admins": {"names": [], "roles": []}, "members": {"names": [DEVICE[0]], "roles": []}})

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs.values():
            proc.wait()

    def restart(self):
        with tally.lock:
            tally.windows.append([time.time(), None])
            tally.restarts += 1
        self.stop()
        self.start()
        with tally.lock:
            tally.windows[-1][1] = time.time()


class Client:
    def __init__(self, port, ident):
        self.port = port
        self.context = ssl.create_default_context(cafile=os.path.join(ident, "ca.crt"))
        self.context.load_cert_chain(os.path.join(ident, "client.crt"), os.path.join(ident, "client.key"))

    def https(self, timeout=60):
        return http.client.HTTPSConnection("localhost", self.port, context=self.context, timeout=timeout)

    def raw(self, timeout=60):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return self.context.wrap_socket(sock, server_hostname="localhost")


def reset(sock):
    """Close with RST: no close_notify, no FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def read_head(tls):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} bytes of head")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def status_of(head):
    try:
        return int(head.split(" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def proxied_gets(client, stop):
    conn = None
    while time.monotonic() < stop:
        try:
            conn = conn or client.https(30)
            conn.request("GET", "/api/doc.json")
            response = conn.getresponse()
            body = response.read()
            if response.status == 200 and b"doc" in body:
                tally.ok("proxy GET")
            else:
                tally.fail("proxy GET", response.status, f"GET /api/doc.json -> {response.status} {body[:200]!r}")
                if response.status >= 500:
                    time.sleep(0.2)
        except Exception as e:  # noqa: BLE001 - counted
            tally.fail("proxy GET", 0, f"GET /api/doc.json: {e!r}")
            conn = None
            time.sleep(0.2)


def files(client, stop, seed):
    rng = random.Random(seed)
    while time.monotonic() < stop:
        what = "PUT /files/"
        try:
            data = rng.randbytes(rng.randint(1, 2 * 1024 * 1024))
            digest = hashlib.sha256(data).hexdigest()
            conn = client.https(60)
            conn.request("PUT", f"/files/{digest}", body=data)
            response = conn.getresponse()
            body = response.read()
            if response.status not in (200, 201):
                tally.fail("file PUT", response.status, f"PUT /files/{digest} ({len(data)} bytes) -> {response.status} {body[:200]!r}")
                conn.close()
                continue
            tally.ok("file PUT")
            if len(KNOWN_FILES) < 200:
                KNOWN_FILES.append(digest)
            for _ in range(rng.randint(1, 4)):
                if rng.random() < 0.2:
                    first, last, rng_header = 0, len(data) - 1, None
                else:
                    first = rng.randrange(len(data))
                    last = rng.randrange(first, len(data))
                    rng_header = f"bytes={first}-{last}"
                    if rng.random() < 0.2:  # suffix range
                        n = rng.randint(1, len(data))
                        first, last, rng_header = len(data) - n, len(data) - 1, f"bytes=-{n}"
                what = f"GET /files/{digest} Range: {rng_header}"
                conn.request("GET", f"/files/{digest}", headers={"Range": rng_header} if rng_header else {})
                response = conn.getresponse()
                body = response.read()
                want = 206 if rng_header else 200
                if response.status == want and body == data[first:last + 1]:
                    tally.ok("file GET range" if rng_header else "file GET")
                else:
                    tally.fail("file GET", response.status,
                               f"{what} (size {len(data)}) -> {response.status}, {len(body)} bytes, "
                               f"{'bytes differ' if response.status == want else body[:200]!r}")
            conn.close()
        except Exception as e:  # noqa: BLE001 - counted
            tally.fail("file", 0, f"{what}: {e!r}")


def feeds(client, stop, seed):
    """Continuous _changes feeds held 5-40 s, then closed (FIN) or reset (RST)."""
    rng = random.Random(seed)
    while time.monotonic() < stop:
        hold = rng.uniform(5, 40)
        path = f"/couch/{DB}/_changes?feed=continuous&heartbeat=2000&since=now&include_docs={rng.choice(['true', 'false'])}"
        tls = None
        try:
            tls = client.raw(30)
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            head, rest = read_head(tls)
            status = status_of(head)
            if status != 200:
                tally.fail("feed", status, f"GET {path} -> {head.splitlines()[0]} {rest[:200]!r}")
                reset(tls)
                time.sleep(1)
                continue
            end = time.monotonic() + hold
            received = len(rest)
            ended = False
            while time.monotonic() < end:
                chunk = tls.recv(65536)
                if not chunk:
                    ended = True
                    break
                received += len(chunk)
                if chunk.endswith(b"0\r\n\r\n"):
                    ended = True
                    break
            if ended:
                # The feed ended before the client left: only a backend restart may do that.
                tally.fail("feed", 200, f"GET {path}: the feed ended after {received} bytes")
            else:
                tally.ok("feed")
            if rng.random() < 0.5:
                reset(tls)
                tally.abort("feed reset")
            else:
                tls.close()
        except Exception as e:  # noqa: BLE001 - counted
            tally.fail("feed", 0, f"GET {path}: {e!r}")
            if tls:
                reset(tls)
            time.sleep(1)


def aborter(client, stop, seed):
    """Clients that leave at a random point; nothing is asked of the answer, only that the server copes."""
    rng = random.Random(seed)
    while time.monotonic() < stop:
        kind = rng.choice(["handshake", "head", "upload", "download", "couch", "proxy", "ws"])
        try:
            if kind == "handshake":
                sock = socket.create_connection(("127.0.0.1", client.port), timeout=10)
                sock.sendall(b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03" + os.urandom(rng.randint(0, 150)))
                time.sleep(rng.uniform(0, 0.3))
                reset(sock)
            else:
                tls = client.raw(30)
                if kind == "head":
                    request = b"GET /api/doc.json HTTP/1.1\r\nHost: localhost\r\nX-Long: " + b"a" * rng.randint(0, 3000)
                    tls.sendall(request[:rng.randint(1, len(request))])
                elif kind == "upload":
                    data = os.urandom(rng.randint(64 * 1024, 4 * 1024 * 1024))
                    digest = hashlib.sha256(data).hexdigest()
                    tls.sendall(f"PUT /files/{digest} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(data)}\r\n\r\n".encode())
                    tls.sendall(data[:rng.randint(0, len(data) - 1)])
                elif kind == "download":
                    file_id = rng.choice(KNOWN_FILES) if KNOWN_FILES else "0" * 64
                    ranged = f"Range: bytes={rng.randint(0, 1000)}-\r\n" if rng.random() < 0.5 else ""
                    tls.sendall(f"GET /files/{file_id} HTTP/1.1\r\nHost: localhost\r\n{ranged}\r\n".encode())
                    tls.recv(rng.randint(1, 100))
                elif kind == "couch":
                    path = rng.choice([f"/couch/{DB}/_all_docs?include_docs=true", f"/couch/{DB}/_changes?feed=longpoll&since=now",
                                       f"/couch/{DB}/_changes?feed=continuous&since=0"])
                    tls.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
                    time.sleep(rng.uniform(0, 0.5))
                elif kind == "proxy":
                    body = os.urandom(rng.randint(1, 256 * 1024))
                    tls.sendall(f"POST /api/doc.json HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n\r\n".encode())
                    tls.sendall(body[:rng.randint(0, len(body))])
                else:
                    key = base64.b64encode(os.urandom(16)).decode()
                    tls.sendall((f"GET /ws/echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
                    if rng.random() < 0.5:
                        tls.recv(100)
                        # A masked binary frame that says 1000 bytes, cut short.
                        tls.sendall(b"\x82\xfe\x03\xe8" + os.urandom(4) + os.urandom(rng.randint(0, 999)))
                time.sleep(rng.uniform(0, 0.2))
                if rng.random() < 0.5:
                    reset(tls)
                    kind += " RST"
                else:
                    tls.close()
                    kind += " FIN"
            tally.abort(kind)
        except Exception:  # noqa: BLE001 - aborting clients may see anything; not a server fault
            tally.abort("failed to start")
        time.sleep(rng.uniform(0.05, 0.3))


def scrape(local_port):
    """The loopback listener's Prometheus text as {name{labels}: value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{local_port}/_gatehouse/metrics", timeout=10) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                values[name] = float(value)
            except ValueError:
                pass
    return values


def metric(values, prefix):
    return sum(v for k, v in values.items() if k == prefix or k.startswith(prefix + "{"))


def metric_where(values, prefix, label):
    return sum(v for k, v in values.items() if k.startswith(prefix + "{") and label in k)


# --- a PNG with nothing but zlib and struct -------------------------------------------------------

FONT = {  # 3x5 glyphs, rows top to bottom, 3 bits each
    "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7], "4": [5, 5, 7, 1, 1],
    "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
    ".": [0, 0, 0, 0, 2], " ": [0, 0, 0, 0, 0], "-": [0, 0, 7, 0, 0], "%": [5, 1, 2, 4, 5], "/": [1, 1, 2, 4, 4],
    "R": [6, 5, 6, 5, 5], "S": [7, 4, 7, 1, 7], "M": [5, 7, 7, 5, 5], "I": [7, 2, 2, 2, 7], "B": [6, 5, 6, 5, 6],
    "F": [7, 4, 6, 4, 4], "D": [6, 5, 5, 5, 6], "T": [7, 2, 2, 2, 2], "E": [7, 4, 6, 4, 7], "N": [5, 7, 7, 7, 5],
    "U": [5, 5, 5, 5, 7], "P": [7, 5, 7, 4, 4], "O": [7, 5, 5, 5, 7], "L": [4, 4, 4, 4, 7], "C": [7, 4, 4, 4, 7],
    "K": [5, 5, 6, 5, 5], "A": [2, 5, 7, 5, 5], "H": [5, 5, 7, 5, 5], "W": [5, 5, 7, 7, 5], "G": [7, 4, 5, 5, 7],
    "X": [5, 5, 2, 5, 5], "Y": [5, 5, 2, 2, 2], "V": [5, 5, 5, 5, 2], ":": [0, 2, 0, 2, 0], "(": [1, 2, 2, 2, 1],
    ")": [4, 2, 2, 2, 4], "=": [0, 7, 0, 7, 0], "+": [0, 2, 7, 2, 0],
}


class Canvas:
    def __init__(self, width, height):
        self.width, self.height = width, height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def dot(self, x, y, color):
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            self.pixels[i:i + 3] = bytes(color)

    def line(self, x0, y0, x1, y1, color, thick=1):
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for s in range(steps + 1):
            x = round(x0 + (x1 - x0) * s / steps)
            y = round(y0 + (y1 - y0) * s / steps)
            for dx in range(thick):
                for dy in range(thick):
                    self.dot(x + dx, y + dy, color)

    def text(self, x, y, string, color=(0, 0, 0), scale=2):
        for ch in string.upper():
            rows = FONT.get(ch, FONT[" "])
            for r, bits in enumerate(rows):
                for c in range(3):
                    if bits & (4 >> c):
                        for dx in range(scale):
                            for dy in range(scale):
                                self.dot(x + c * scale + dx, y + r * scale + dy, color)
            x += 4 * scale

    def png(self, path):
        raw = b"".join(b"\x00" + bytes(self.pixels[y * self.width * 3:(y + 1) * self.width * 3]) for y in range(self.height))

        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)

        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def plot(samples, restarts, warmup, path):
    """Three panels over time: RSS and its parts (MiB), open fds; grey lines at restarts, a green one at the warm-up's end."""
    width, height = 1000, 830
    canvas = Canvas(width, height)
    left, right = 80, width - 20
    mib = 1 / 1024
    panels = [("RSS MIB", [("RSS", "rss_kib", mib, (200, 30, 30))], 30, 260),
              ("PARTS OF RSS MIB", [("GC COMMITTED", "gc_committed_kib", mib, (30, 140, 60)),
                                    ("OTHER ANON", "native_anon_kib", mib, (150, 60, 170)),
                                    ("FILE", "rss_file_kib", mib, (200, 130, 20)),
                                    ("SHMEM", "rss_shmem_kib", mib, (90, 90, 90))], 300, 530),
              ("OPEN FDS", [("FDS", "fds", 1, (30, 90, 200))], 570, 800)]
    t_max = max(samples[-1]["t"], 1)
    canvas.text(left, 8, f"GATEHOUSE SOAK  TIME IN S (0-{round(t_max)})  SAMPLES EVERY {round(SAMPLE_SECONDS)} S", scale=2)
    for title, series, top, bottom in panels:
        all_values = [s.get(key, 0) * scale for _, key, scale, _ in series for s in samples]
        lo, hi = 0, max(all_values) * 1.15 or 1
        for i in range(5):
            y = bottom - (bottom - top) * i // 4
            canvas.line(left, y, right, y, (225, 225, 225))
            canvas.text(8, y - 5, f"{lo + (hi - lo) * i / 4:.0f}", scale=2)
        canvas.line(left, top, left, bottom, (0, 0, 0))
        canvas.line(left, bottom, right, bottom, (0, 0, 0))

        def x_of(t):
            return left + round((right - left) * t / t_max)

        for t in restarts:
            canvas.line(x_of(t), top, x_of(t), bottom, (150, 150, 150))
        if warmup < t_max:
            canvas.line(x_of(warmup), top, x_of(warmup), bottom, (60, 160, 60))
        label_x = left + 10
        for name, key, scale, color in series:
            values = [s.get(key, 0) * scale for s in samples]
            points = [(x_of(s["t"]), bottom - round((bottom - top) * (v - lo) / (hi - lo))) for s, v in zip(samples, values)]
            for (x0, y0), (x1, y1) in zip(points, points[1:]):
                canvas.line(x0, y0, x1, y1, color, thick=2)
            canvas.text(label_x, top + 6, name if len(series) > 1 else title, color=color, scale=2)
            label_x += 10 * (len(name) + 2)
        if len(series) > 1:
            canvas.text(right - 10 * len(title), top + 6, title, scale=2)
        for i in range(5):
            t = t_max * i / 4
            canvas.text(x_of(t) - 10, bottom + 6, f"{t:.0f}", scale=2)
    canvas.text(right - 300, 8, "GREY: RESTART  GREEN: WARM-UP END", color=(90, 90, 90), scale=2)
    canvas.png(path)


# --- the run --------------------------------------------------------------------------------------

def main():
    global START_WALL
    if not os.path.exists(os.path.join(MODULES, "pouchdb-server")):
        print("soak: the Node tools are missing; run 'make tools'", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="gatehouse-soak-")
    binary = os.path.join(ROOT, ".run", "soak-bin")  # kept, so the next build is incremental
    subprocess.run(["dotnet", "build", os.path.join(ROOT, "src/Gatehouse"), "-c", "Release", "-nologo", "-v", "quiet", "-o", binary],
                   check=True, stdout=subprocess.DEVNULL)
    gatehouse = ["dotnet", os.path.join(binary, "gatehouse.dll")]
    ident = os.path.join(work, "id")
    subprocess.run(gatehouse + ["init", ident, "--no-passphrase", "--name", "localhost"], check=True, stdout=subprocess.DEVNULL)

    backends = Backends(work)
    backends.start()
    config = {
        "listen": [{"address": "127.0.0.1", "port": 0},
                   {"address": "127.0.0.1", "port": 0, "tls": False, "local": True}],
        "tls": {"certificate": "server.crt", "key": "server.key"},
        "trust": {"cas": [{"name": "user", "certificate": "ca.crt"}]},
        "routes": [{"kind": "files", "prefix": "/files/", "stores": ["store"]},
                   {"kind": "couchdb", "prefix": "/couch/"},
                   {"kind": "proxy", "prefix": "/api/", "backend": f"http://127.0.0.1:{backends.http_port}"},
                   {"kind": "proxy", "prefix": "/ws/", "backend": f"http://127.0.0.1:{backends.ws_port}", "webSockets": True}],
        "rules": [{"principals": ["ca:user"], "role": "device",
                   "couchdb": {"databases": [DB], "allow": ["pull", "push", "read", "write"]},
                   "files": ["read", "write"], "proxy": ["/api/", "/ws/"]}],
    }
    config_path = os.path.join(ident, "soak.json")
    with open(config_path, "w") as f:
        json.dump(config, f)
    environment = {"couchdb": {"url": f"http://127.0.0.1:{backends.couch_port}/",
                               "credentials": {"device": {"username": DEVICE[0], "password": DEVICE[1]}}}}
    os.makedirs(os.path.join(ROOT, ".run"), exist_ok=True)
    server_log_path = os.path.join(ROOT, ".run", "soak-gatehouse.log")  # kept after the run
    server_log = open(server_log_path, "w")
    server = subprocess.Popen(gatehouse + ["serve", "--config", config_path, "--env-stdin", "--log-level", os.environ.get("SOAK_LOG_LEVEL", "Warning"), "--count-buffers"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=server_log, text=True)
    server.stdin.write(json.dumps(environment))
    server.stdin.close()
    ready = json.loads(server.stdout.readline())
    port, local_port = ready["listen"][0]["port"], ready["listen"][1]["port"]
    client = Client(port, ident)
    print(f"soak: gatehouse pid {server.pid} on {port} (local {local_port}); couch {backends.couch_port}, "
          f"http {backends.http_port}, ws {backends.ws_port}; {SECONDS} s, restart every {RESTART_SECONDS} s, "
          f"reload every {RELOAD_SECONDS} s; work {work}", flush=True)

    START_WALL = time.time()
    t0 = time.monotonic()
    stop = t0 + SECONDS
    node = subprocess.Popen(["node", os.path.join(ROOT, "bench", "soak", "clients.js"), MODULES, f"https://localhost:{port}", DB,
                             os.path.join(ident, "client.crt"), os.path.join(ident, "client.key"), os.path.join(ident, "ca.crt"), "2", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    node_stats = {}
    diagnoses = []
    node_err = []

    def read_node():
        for line in node.stdout:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if item.get("type") == "stats":
                node_stats.update(item)
            elif item.get("type") == "diagnose":
                print("soak: node diagnose " + json.dumps(item), flush=True)
                if len(diagnoses) < 10:
                    diagnoses.append(item)
            elif item.get("type") == "error" and item["kind"].startswith("node-fetch false"):
                tally.false_alarm(item["detail"])
            elif item.get("type") == "error":
                tally.fail("node " + item["kind"], item["status"], item["detail"], item["t"])

    def read_node_err():
        for line in node.stderr:
            if len(node_err) < 20:
                node_err.append(line.rstrip())

    readers = [threading.Thread(target=read_node, daemon=True), threading.Thread(target=read_node_err, daemon=True)]
    workers = ([threading.Thread(target=proxied_gets, args=(client, stop)) for _ in range(2)]
               + [threading.Thread(target=files, args=(client, stop, 7 + i)) for i in range(2)]
               + [threading.Thread(target=feeds, args=(client, stop, 100 + i)) for i in range(3)]
               + [threading.Thread(target=aborter, args=(client, stop, 200 + i)) for i in range(2)])
    for w in readers + workers:
        w.start()

    samples = []
    restart_times = []
    reloads = 0
    next_sample, next_reload, next_restart = t0, t0 + RELOAD_SECONDS, t0 + RESTART_SECONDS
    while True:
        now = time.monotonic()
        if now >= stop:
            break
        if now >= next_sample:
            try:
                values = scrape(local_port)
            except Exception as e:  # noqa: BLE001 - a failed scrape is a failure
                tally.fail("metrics scrape", 0, repr(e))
                values = {}
            status = proc_status(server.pid)
            gc_committed = metric(values, "dotnet_gc_last_collection_memory_committed_size") / 1024
            # RSS split: the managed heap (GC committed) against the rest of the anonymous memory
            # (OpenSSL, malloc, thread stacks, JIT code) and file-backed pages (the runtime's libraries).
            sample = {"t": round(now - t0, 1), "rss_kib": status.get("VmRSS", 0), "fds": fds(server.pid),
                      "rss_anon_kib": status.get("RssAnon", 0), "rss_file_kib": status.get("RssFile", 0),
                      "rss_shmem_kib": status.get("RssShmem", 0),
                      "gc_committed_kib": round(gc_committed),
                      "gc_heap_kib": round(metric(values, "dotnet_gc_last_collection_heap_size") / 1024),
                      "gc_fragmented_kib": round(metric(values, "dotnet_gc_last_collection_heap_fragmentation_size") / 1024),
                      "native_anon_kib": round(status.get("RssAnon", 0) - gc_committed),
                      "gen2_collections": metric_where(values, "dotnet_gc_collections_total", 'gc_heap_generation="gen2"'),
                      "jit_il_kib": round(metric(values, "dotnet_jit_compiled_il_size_total") / 1024),
                      "jit_methods": metric(values, "dotnet_jit_compiled_methods_total"),
                      "threads": status.get("Threads", 0),
                      "blocks_out": metric_where(values, "gatehouse_buffers_outstanding", 'kind="pipe_block"'),
                      "arrays_out": metric_where(values, "gatehouse_buffers_outstanding", 'kind="array"'),
                      "connections": metric(values, "gatehouse_connections_open"),
                      "upstream_in_use": metric(values, "gatehouse_upstream_pool_in_use"),
                      "upstream_open": metric(values, "gatehouse_upstream_pool_connections"),
                      "requests": metric(values, "gatehouse_requests_total")}
            samples.append(sample)
            print("soak: sample " + json.dumps(sample), flush=True)
            next_sample += SAMPLE_SECONDS
        if now >= next_reload:
            os.kill(server.pid, signal.SIGHUP)
            reloads += 1
            next_reload += RELOAD_SECONDS
        if now >= next_restart:
            began = time.monotonic()
            backends.restart()
            restart_times.append(round(began - t0, 1))
            print(f"soak: backends restarted at {began - t0:.0f} s in {time.monotonic() - began:.1f} s", flush=True)
            next_restart += RESTART_SECONDS
        time.sleep(max(0.05, min(next_sample, next_reload, next_restart, stop) - time.monotonic()))

    for w in workers:
        w.join()
    node.send_signal(signal.SIGTERM)
    node.wait(timeout=30)
    for r in readers:
        r.join(timeout=5)
    elapsed = time.monotonic() - t0

    # Everything the clients started is over: the pooled buffers must all come back (idle upstream
    # keep-alive connections may still hold a read buffer until they close, so wait for them a while).
    end_values = {}
    settle = time.monotonic() + 90
    while time.monotonic() < settle:
        end_values = scrape(local_port)
        if (metric_where(end_values, "gatehouse_buffers_outstanding", 'kind="pipe_block"') == 0
                and metric_where(end_values, "gatehouse_buffers_outstanding", 'kind="array"') == 0):
            break
        time.sleep(2)
    settled_after = 90 - max(0.0, settle - time.monotonic())
    end_rss, end_fds = rss_kib(server.pid), fds(server.pid)

    server.send_signal(signal.SIGTERM)
    try:
        code = server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        code = "killed after 60 s"
    backends.stop()
    server_log.close()

    # --- figures ---
    after = [s for s in samples if s["t"] >= WARMUP_SECONDS] or samples[-3:]
    window = max(3, int(60 / SAMPLE_SECONDS))  # a minute of samples: connections come and go
    base = after[:window]
    tail = samples[-window:]

    def mean(xs):
        return sum(xs) / max(len(xs), 1)

    def growth(key):
        b, e, peak = mean([s[key] for s in base]), mean([s[key] for s in tail]), max(s[key] for s in after)
        return b, e, (e - b) / b if b else 0.0, (peak - b) / b if b else 0.0

    rss_b, rss_e, rss_g, rss_peak = growth("rss_kib")
    fds_b, fds_e, fds_g, fds_peak = growth("fds")
    # Where RSS went: the managed heap (GC committed), other anonymous memory (OpenSSL, malloc arenas,
    # thread stacks), file-backed pages and shared memory (with W^X the JIT's code is mapped twice from it).
    parts = [("managed heap (GC committed)", growth("gc_committed_kib")),
             ("other anonymous memory (RssAnon − GC committed)", growth("native_anon_kib")),
             ("file-backed RSS (RssFile)", growth("rss_file_kib")),
             ("shared memory (RssShmem: the runtime's double-mapped JIT code)", growth("rss_shmem_kib"))]
    jit_b, jit_e, _, _ = growth("jit_methods")
    threads_b, threads_e, _, _ = growth("threads")
    blocks_out = metric_where(end_values, "gatehouse_buffers_outstanding", 'kind="pipe_block"')
    arrays_out = metric_where(end_values, "gatehouse_buffers_outstanding", 'kind="array"')
    blocks_rented = metric_where(end_values, "gatehouse_buffers_outstanding", 'kind="pipe_block_rented_total"')
    arrays_rented = metric_where(end_values, "gatehouse_buffers_outstanding", 'kind="array_rented_total"')
    reload_failed = metric_where(end_values, "gatehouse_reloads_total", 'result="failed"')
    reload_ok = metric_where(end_values, "gatehouse_reloads_total", 'result="ok"')
    gateway_requests = metric(end_values, "gatehouse_requests_total")
    status_classes = {k: v for k, v in end_values.items() if k.startswith("gatehouse_requests_total{")}
    if reload_failed:
        tally.fail("reload", 0, f"{reload_failed:.0f} reloads failed (gatehouse_reloads_total)", t=0)
    served = sum(tally.served.values())
    node_served = node_stats.get("replications", 0) + node_stats.get("ws_sessions", 0)
    unexpected = sum(tally.unexpected.values())
    expected = sum(tally.expected.values())
    buffers_ok = blocks_out == 0 and arrays_out == 0 and "gatehouse_buffers_outstanding{kind=\"pipe_block\"}" in end_values
    ok = (unexpected == 0 and rss_g < GROWTH_BOUND and fds_g < GROWTH_BOUND and buffers_ok and code == 0)

    os.makedirs(RESULTS, exist_ok=True)
    plot(samples, restart_times, WARMUP_SECONDS, os.path.join(RESULTS, "soak.png"))
    with open(os.path.join(RESULTS, "soak.csv"), "w") as f:
        keys = list(samples[0].keys())
        f.write(",".join(keys) + "\n")
        for s in samples:
            f.write(",".join(str(s[k]) for k in keys) + "\n")
    lines = [
        "# Soak (issue 18 item 6)",
        "",
        f"`SOAK_SECONDS={SECONDS} SOAK_RESTART_SECONDS={RESTART_SECONDS} nice -n 10 make soak` — "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(START_WALL))}, {os.cpu_count()} cores shared with other work; "
        f"result: **{'ok' if ok else 'FAILED'}**.",
        "",
        "Real executable (`serve --count-buffers`, Release) in front of pouchdb-server (in memory), a Python http.server "
        "and a Node `ws` echo server; clients: Python (proxied GETs, file uploads and ranged downloads, continuous feeds, "
        "aborts) and Node (PouchDB push/pull replication with attachments, WebSocket echo). Plot: [soak.png](soak.png), "
        "samples: [soak.csv](soak.csv).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| duration | {elapsed:.0f} s (samples every {SAMPLE_SECONDS:.0f} s: {len(samples)}) |",
        f"| requests answered by the gateway (`gatehouse_requests_total`) | {gateway_requests:.0f} |",
        f"| client operations completed and verified (Python) | {served} |",
        f"| PouchDB replication rounds (push+pull, verified) | {node_stats.get('replications', 0)} "
        f"({node_stats.get('docs_pushed', 0)} docs pushed, {node_stats.get('docs_pulled', 0)} pulled) |",
        f"| WebSocket echo sessions / messages / bytes | {node_stats.get('ws_sessions', 0)} / {node_stats.get('ws_messages', 0)} / "
        f"{node_stats.get('ws_bytes', 0)} ({node_stats.get('ws_aborts', 0)} cut by the client) |",
        f"| client aborts at random points | {sum(tally.aborts.values())} |",
        f"| reloads (SIGHUP) sent / ok / failed | {reloads} / {reload_ok:.0f} / {reload_failed:.0f} |",
        f"| backend restarts (pouchdb-server, http.server, ws echo) | {tally.restarts} at {', '.join(f'{t:.0f}' for t in restart_times)} s |",
        f"| **unexpected errors** | **{unexpected}** |",
        f"| failures inside restart windows (expected) | {expected} |",
        f"| client-side false alarms (node-fetch \"Premature close\" on a whole answer) | {tally.false_alarms} |",
        f"| RSS after warm-up ({WARMUP_SECONDS} s) → end | {rss_b / 1024:.1f} → {rss_e / 1024:.1f} MiB "
        f"(**{rss_g * 100:+.1f}%**, peak {rss_peak * 100:+.1f}%) |",
        *[f"| {label} after warm-up → end | {part_b / 1024:.1f} → {part_e / 1024:.1f} MiB ({part_g * 100:+.1f}%, "
          f"{(part_e - part_b) / 1024:+.1f} MiB) |"
          for label, (part_b, part_e, part_g, _) in parts],
        f"| JIT: methods compiled, after warm-up → end | {jit_b:.0f} → {jit_e:.0f} ({jit_e - jit_b:+.0f}) |",
        f"| threads after warm-up → end | {threads_b:.0f} → {threads_e:.0f} |",
        f"| open fds after warm-up → end | {fds_b:.0f} → {fds_e:.0f} (**{fds_g * 100:+.1f}%**, peak {fds_peak * 100:+.1f}%) |",
        f"| RSS / fds after the clients stopped | {end_rss / 1024:.1f} MiB / {end_fds} |",
        f"| pooled buffers out at the end (`gatehouse_buffers_outstanding`) | pipe blocks {blocks_out:.0f} of {blocks_rented:.0f} rented, "
        f"arrays {arrays_out:.0f} of {arrays_rented:.0f} (after {settled_after:.0f} s) |",
        f"| exit code on SIGTERM | {code} |",
        "",
        f"Growth is the mean of the last {window} samples against the mean of the first {window} after the warm-up; "
        "peak is the largest sample after the warm-up against the same base.",
        "",
    ]
    if status_classes:
        lines += ["Gateway answers by status class: " + ", ".join(f"{k.split('{', 1)[1].rstrip('}')} {v:.0f}" for k, v in sorted(status_classes.items())), ""]
    lines += ["Client operations by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.served.items())), "",
              "Aborts by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.aborts.items())), ""]
    if tally.expected:
        lines += ["Failures inside restart windows (kind, status: count): "
                  + ", ".join(f"{k} {s}: {v}" for (k, s), v in sorted(tally.expected.items())), ""]
    if tally.unexpected_list:
        lines += ["## Unexpected errors", "", "| t (s) | kind | status | request and answer |", "|---|---|---|---|"]
        lines += [f"| {t} | {k} | {s} | {d.replace('|', '/')} |" for t, k, s, d in tally.unexpected_list]
        lines.append("")
    log_counts = collections.Counter()
    with open(server_log_path, errors="replace") as f:
        for line in f:
            try:
                item = json.loads(line)
                if item.get("LogLevel") in ("Trace", "Debug", "Information"):
                    continue
                template = item.get("State", {}).get("{OriginalFormat}") or item.get("Message", "")
                log_counts[(item.get("LogLevel", "?"), item.get("Category", "?"), template[:160])] += 1
            except ValueError:
                log_counts[("?", "stderr", line.strip()[:160])] += 1
    if log_counts:
        lines += ["Server log (warnings and worse, `.run/soak-gatehouse.log`), by message:", "",
                  "| count | level | category | message |", "|---|---|---|---|"]
        lines += [f"| {n} | {lvl} | {cat} | {msg.replace('|', '/')} |" for (lvl, cat, msg), n in log_counts.most_common(15)]
        lines.append("")
    if tally.false_alarm_list:
        lines += ["node-fetch 2.6.9 (PouchDB's fetch) reported \"Premature close\" for answers whose socket had received the "
                  "chunked terminator `0\\r\\n\\r\\n` (its check reads the socket's 'data' listeners when the answer closes; "
                  "node-fetch/node-fetch#1576, #1767). Counted apart, not as gateway errors. Examples:", "",
                  *[f"- {d}" for d in tally.false_alarm_list], ""]
    if diagnoses:
        lines += ["Bodies cut short, asked again on a fresh connection (Node `https.get`):", "", "```",
                  *[json.dumps(d) for d in diagnoses], "```", ""]
    if node_err:
        lines += ["Node clients' stderr:", "", "```", *node_err, "```", ""]
    report = "\n".join(lines)
    with open(os.path.join(RESULTS, "soak.md"), "w") as f:
        f.write(report)
    print(report)
    shutil.rmtree(work, ignore_errors=True)
    print("soak:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
