#!/usr/bin/env python3
"""Side-by-side harness: Gatehouse against nginx, HAProxy and YARP (issue 9); WebSocket echo against Kestrel (issue 6).

Started by bench/compare/run.sh (`make bench`), which installs the peers and builds Gatehouse
and the YARP peer first. Everything it makes lives under bench/compare/out/ (git-ignored);
the table goes to stdout and to bench/results/latest.md (smoke runs: bench/results/smoke.md).

Environment knobs (all optional):
  SMOKE=1              every scenario briefly: 1 repetition, 2 s runs, 16 MiB file, 100 idle conns
  BENCH_REPS           repetitions per figure (default 3; smoke 1)
  BENCH_DURATION       seconds per wrk run and per s_time run (default 10; smoke 2)
  BENCH_CONNS          wrk connection counts, comma-separated (default 32,256; smoke 8,32)
  BENCH_FILE_MB        size of the download file in MiB (default 1024; smoke 16)
  BENCH_IDLE_CONNS     idle connections held in scenario 4 (default 5000; smoke 100)
  BENCH_TC_DELAY_MS    DOTNET_TC_CallCountingDelayMs for every .NET process (default 0, as in
                       packaging/gatehouse.service; "default": the runtime's own)
  BENCH_GEN0_SIZE      DOTNET_GCgen0size for every .NET process (default 0x600000, as in
                       packaging/gatehouse.service; "default": the runtime's own)
  BENCH_IDLE_WARMUP    connections opened and closed in scenario 4 before its baseline RSS is read, so
                       one-time costs are not charged per connection (default 500; smoke 20; 0: none)
  BENCH_HANDSHAKE_CLIENTS  parallel `openssl s_time` clients (default 2)
  BENCH_PEERS          subset of gatehouse,nginx,haproxy,yarp,kestrel (default: all; kestrel only serves scenario 6)
  BENCH_SCENARIOS      subset of get,file,handshake,idle,stream,websocket,replicate,idlebusy, or their numbers 1-8
                       (default: all)
  BENCH_IDLEBUSY_IDLE  scenario 8: idle mutual-TLS keep-alive connections held beside the busy ones (default 20000;
                       smoke 200)
  BENCH_GATEHOUSE_LIMITS  JSON object merged over Gatehouse's "limits" (diagnostics; said in the notes)
  BENCH_BUSY_CONNS     scenario 8: busy connections (wrk) doing proxied GETs (default 32)
  BENCH_BURNER         1: every measurement (wrk, s_time, curl, WsLoad, PouchDB pull, feed client) runs beside
                       bench/compare/burner.py on the load CPU, started before it and stopped after (issue 22)
  BENCH_BURNER_MB      the burner's two buffers together, MiB (default twice the L3 cache the kernel reports,
                       at least 256, at most 2048)
  BENCH_BURNER_NICE    the burner's niceness (default 19: it takes the load CPU's idle time, not the load
                       generator's, and still shares the caches and memory bus with the server)
  BENCH_WS_CONNS       scenario 6: WebSocket connections (default 8)
  BENCH_WS_SIZES       scenario 6: message sizes in bytes, comma-separated (default 64,65536)
  BENCH_WS_INFLIGHT    scenario 6: messages in flight per connection (default 4)
  BENCH_COUCH_DOCS     scenario 7: documents (about 1 KB each) in the pulled database (default 10000; smoke 200)
  BENCH_COUCH_ATTACHMENTS  scenario 7: how many of them carry one attachment (default 100; smoke 2)
  BENCH_COUCH_ATTACHMENT_KB  scenario 7: size of each attachment in KiB (default 100)
  BENCH_WAIT_QUIET     wait up to this many seconds for other processes to go quiet before starting
  BENCH_OUT            where to write the table (default bench/results/latest.md)
  BENCH_TLS_TUNING     0: Gatehouse with "runtime": { "tlsTuning": false } (default 1: as shipped)
  BENCH_ACCESS_LOG     1: Gatehouse at its default log level (Information: a JSON access line per request on
                       stderr, into a file) and nginx with its default access log (combined, unbuffered, into
                       a file); HAProxy and YARP still log nothing (default 0: no peer logs requests)
"""
import base64
import functools
import json
import os
import platform
import queue
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = HERE / "out"
RUN = OUT / "run"
PKI = OUT / "pki"
DATA = OUT / "data"


def env_flag(name):
    return os.environ.get(name, "") not in ("", "0", "false", "no")


SMOKE = env_flag("SMOKE")
REPS = int(os.environ.get("BENCH_REPS", "1" if SMOKE else "3"))
DURATION = int(os.environ.get("BENCH_DURATION", "2" if SMOKE else "10"))
CONNS = [int(c) for c in os.environ.get("BENCH_CONNS", "8,32" if SMOKE else "32,256").split(",")]
FILE_MB = int(os.environ.get("BENCH_FILE_MB", "16" if SMOKE else "1024"))
IDLE_CONNS = int(os.environ.get("BENCH_IDLE_CONNS", "100" if SMOKE else "5000"))
IDLE_WARMUP = int(os.environ.get("BENCH_IDLE_WARMUP", "20" if SMOKE else "500"))
HANDSHAKE_CLIENTS = int(os.environ.get("BENCH_HANDSHAKE_CLIENTS", "2"))
WARMUP = 1 if SMOKE else 3
# Scenario 1's warm-up is longer: the .NET peers (Gatehouse, YARP) reach their steady-state code
# (tiered compilation with PGO) only after several seconds of load, and a first repetition measured
# before that (27 vs 19.5 µs/request for Gatehouse, 62 vs 33 for YARP) says nothing of a long-running gateway.
GET_WARMUP = 1 if SMOKE else 10
# Every .NET process here (Gatehouse, YARP, Kestrel, WsLoad) runs as Gatehouse's systemd unit does, with
# DOTNET_TC_CallCountingDelayMs=0: by default tiered compilation call-counts nothing until 100 ms pass
# without new tier-0 code (1 s when the process is pinned to one CPU, as here), and a server that keeps
# meeting new code paths kept recompiling on its one CPU through the measured runs (p99 at 32 connections).
# BENCH_TC_DELAY_MS=default leaves the runtime's own delay.
TC_DELAY_MS = os.environ.get("BENCH_TC_DELAY_MS", "0")
if TC_DELAY_MS != "default":
    os.environ["DOTNET_TC_CallCountingDelayMs"] = TC_DELAY_MS
# ... and with DOTNET_GCgen0size=0x600000 (6 MiB): the runtime sizes the young generation from the L3 cache
# the CPU reports, and this machine's 260 MiB made it about 90 MiB, so the connections opened for scenario 8
# survived in one batch that one collection copied during the busy run (a 60-85 ms pause; a laptop's
# 12 MiB of L3 gives 6 MiB). BENCH_GEN0_SIZE=default leaves the runtime's own.
GEN0_SIZE = os.environ.get("BENCH_GEN0_SIZE", "0x600000")
if GEN0_SIZE != "default":
    os.environ["DOTNET_GCgen0size"] = GEN0_SIZE
STREAM_EVENTS = 5 if SMOKE else 40
ALL_PEERS = ["gatehouse", "nginx", "haproxy", "yarp", "kestrel"]
PEERS = [p for p in os.environ.get("BENCH_PEERS", ",".join(ALL_PEERS)).split(",") if p]
SCENARIO_NUMBERS = {"1": "get", "2": "file", "3": "handshake", "4": "idle", "5": "stream", "6": "websocket",
                    "7": "replicate", "8": "idlebusy"}
SCENARIOS = [SCENARIO_NUMBERS.get(s.strip(), s.strip()) for s in
             os.environ.get("BENCH_SCENARIOS", "get,file,handshake,idle,stream,websocket,replicate,idlebusy").split(",")]
IDLEBUSY_IDLE = int(os.environ.get("BENCH_IDLEBUSY_IDLE", "200" if SMOKE else "20000"))
BUSY_CONNS = int(os.environ.get("BENCH_BUSY_CONNS", "32"))
# Scenario 8's wrk runs: 1 s in a smoke run, which must stay brief with it.
IDLEBUSY_DURATION = 1 if SMOKE else DURATION
# after opening idle connections, before reading RSS: the server's last allocations settle
IDLE_SETTLE = 0.5 if SMOKE else 2.0
# After 19,000 connections close, the host stalls a while for every server: 1 s wrk probes every 2 s
# (bench/diag/teardown.py) read p99 20-31 ms from about 5 to 15 s after the close, for Gatehouse and nginx
# alike, with 20-80 ms of steal time each (the hypervisor took the CPUs), and their before-figure after.
TEARDOWN_SETTLE = 0.5 if SMOKE else 30.0
# Every peer may hold the most connections any scenario opens (nginx: one worker; HAProxy: maxconn),
# and every process here the descriptors for them (a proxy: two per connection).
MAX_CONNS = max(16000, max(IDLE_CONNS, IDLEBUSY_IDLE) + max(CONNS + [BUSY_CONNS]) + 1000)
NOFILE = 2 * MAX_CONNS + 1024
WS_CONNS = int(os.environ.get("BENCH_WS_CONNS", "8"))
WS_SIZES = [int(s) for s in os.environ.get("BENCH_WS_SIZES", "64,65536").split(",")]
WS_INFLIGHT = int(os.environ.get("BENCH_WS_INFLIGHT", "4"))
COUCH_DOCS = int(os.environ.get("BENCH_COUCH_DOCS", "200" if SMOKE else "10000"))
COUCH_ATTACHMENTS = int(os.environ.get("BENCH_COUCH_ATTACHMENTS", "2" if SMOKE else "100"))
COUCH_ATTACHMENT_KB = int(os.environ.get("BENCH_COUCH_ATTACHMENT_KB", "100"))
RESULT = Path(os.environ.get("BENCH_OUT", str(ROOT / "bench/results" / ("smoke.md" if SMOKE else "latest.md"))))
# "direct" is no peer: scenario 7's client straight at the backend, the baseline the proxies are held to.
LABEL = {"gatehouse": "Gatehouse", "nginx": "nginx", "haproxy": "HAProxy", "yarp": "YARP", "kestrel": "Kestrel",
         "direct": "direct"}

MULTI_CPU = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
SERVER_CPU, LOAD_CPU = (1, 0) if MULTI_CPU else (None, None)
# BENCH_AOT=1 (run.sh builds it): the NativeAOT executable instead of the JIT build under dotnet.
AOT = env_flag("BENCH_AOT")
# BENCH_TLS_TUNING=0: Gatehouse's TLS runtime tuning (src/Wire/Tuning) off, to see what it saves.
TLS_TUNING = os.environ.get("BENCH_TLS_TUNING", "1") not in ("0", "false", "no")
ACCESS_LOG = env_flag("BENCH_ACCESS_LOG")


def default_burner_mib():
    # Python's os.sysconf does not know the cache names; glibc's getconf does
    try:
        l3 = int(subprocess.run(["getconf", "LEVEL3_CACHE_SIZE"], capture_output=True, text=True, timeout=10).stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        l3 = 0
    return min(2048, max(256, (2 * max(0, l3)) >> 20))


BURNER = env_flag("BENCH_BURNER")
BURNER_MIB = int(os.environ.get("BENCH_BURNER_MB", str(default_burner_mib())))
BURNER_NICE = int(os.environ.get("BENCH_BURNER_NICE", "19"))
# the bound on one burner's life, whatever the measurement it sits beside
BURNER_MAX_S = 1800

notes = []          # printed under the table
skipped = {}        # peer -> reason (for the whole run)


def log(*args):
    print("[bench]", *args, file=sys.stderr, flush=True)


def note(text):
    log("note:", text)
    if text not in notes:
        notes.append(text)


# --------------------------------------------------------------------------- processes

class Proc:
    """A child in its own process group, killed (group-wide) at exit whatever happens."""
    live = []

    def __init__(self, name, argv, cpu=None, cwd=None, capture=False, stdin=None):
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu)] + argv
        self.name = name
        self.log_path = RUN / f"{name}.log"
        self.log_file = open(self.log_path, "ab")
        self.lines = queue.Queue()
        self.p = subprocess.Popen(
            argv, cwd=cwd, stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture else self.log_file, stderr=self.log_file,
            start_new_session=True)
        Proc.live.append(self)
        if capture:
            threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.p.stdout:
            self.lines.put(line.decode(errors="replace"))
        self.lines.put(None)

    def readline(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def stop(self, grace=5.0):
        if self in Proc.live:
            Proc.live.remove(self)
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait()
        self.log_file.close()

    def tail(self, n=5):
        try:
            return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-n:])
        except OSError:
            return ""


def stop_all():
    for proc in list(Proc.live):
        proc.stop(grace=2.0)


def run_instead(scenario, measure):
    """Runs the harness with measure(ctx) in place of scenario_<scenario>, then stops every process it started.

    The bench/diag scripts come in this way, each with BENCH_SCENARIOS set to that one scenario before the
    import (the harness reads its environment then)."""
    globals()[f"scenario_{scenario}"] = measure
    try:
        main()
    finally:
        stop_all()


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


def run(argv, cpu=None, timeout=None, check=False, **kw):
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu)] + argv
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=check, **kw)


def raise_nofile(want):
    """Descriptors for this process and every child it starts (servers, clients): up to want, as far as the
    kernel lets (root may raise the hard limit to fs.nr_open). Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    for limit in ((want, max(want, hard)), (min(want, hard), hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, limit)
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@contextmanager
def burning():
    """BENCH_BURNER=1: burner.py on the load CPU for the with-block; otherwise nothing."""
    if not BURNER:
        yield
        return
    burner = Proc("burner", ["nice", "-n", str(BURNER_NICE), sys.executable, str(HERE / "burner.py"),
                             str(BURNER_MIB), str(BURNER_MAX_S)], cpu=LOAD_CPU, capture=True)
    try:
        if burner.readline(timeout=60) is None:
            note("the burner did not start: " + burner.tail())
        yield
    finally:
        burner.stop(grace=2.0)


def under_burner(measure):
    """A measurement that runs beside the burner when BENCH_BURNER=1 (started before each call, stopped after)."""
    @functools.wraps(measure)
    def wrapped(*args, **kw):
        with burning():
            return measure(*args, **kw)
    return wrapped


def rotated(order, rep):
    """order, started rep places further on: each peer in turn goes first."""
    return order[rep % len(order):] + order[:rep % len(order)] if order else []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def read_ready_line(proc, timeout=30.0):
    """The first JSON line with "ready": true on proc's stdout (every server here prints one), or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.readline(timeout=max(0.1, deadline - time.time()))
        if line is None:
            return None
        try:
            ready = json.loads(line)
        except ValueError:
            continue
        if isinstance(ready, dict) and ready.get("ready"):
            return ready
    return None


def wait_port(port, proc, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not proc.alive():
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def tree(pid):
    """pid and all its live descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def gatehouse_command():
    return [str(OUT / "gatehouse-aot/gatehouse")] if AOT else ["dotnet", str(OUT / "gatehouse/gatehouse.dll")]


def cpu_busy_ticks(cpu):
    """(busy, total) clock ticks of one CPU since boot, from /proc/stat; None when unreadable."""
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith(f"cpu{cpu} "):
                    ticks = [int(x) for x in line.split()[1:]]
                    idle = ticks[3] + ticks[4]           # idle + iowait
                    return sum(ticks[:8]) - idle, sum(ticks[:8])
    except (OSError, ValueError):
        pass
    return None


def steal_ms():
    """Time the hypervisor ran something else on this guest's CPUs (all of them, /proc/stat's steal), ms;
    0 where the kernel does not count it."""
    try:
        with open("/proc/stat") as f:
            return int(f.readline().split()[8]) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def busy_share(before, after):
    """Busy percentage of a CPU between two cpu_busy_ticks readings."""
    if before is None or after is None or after[1] == before[1]:
        return None
    return 100.0 * (after[0] - before[0]) / (after[1] - before[1])


def cpu_seconds(pid):
    """user+system CPU time of pid and its live descendants, seconds."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    """VmRSS of pid and all its descendants (nginx: master + worker), KiB."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


# --------------------------------------------------------------------------- setup

def fill(template, **values):
    text = (HERE / "conf" / template).read_text()
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", str(value))
    return text


def make_pki():
    if not (PKI / "client.key").exists():
        if PKI.exists():
            shutil.rmtree(PKI)
        r = run(gatehouse_command() + ["init", str(PKI), "--no-passphrase", "--name", "localhost"])
        if r.returncode != 0:
            raise SystemExit("gatehouse init failed: " + r.stderr)
    combined = PKI / "server-combined.pem"
    combined.write_text((PKI / "server.crt").read_text() + (PKI / "server.key").read_text())


def make_data():
    """doc.json (~300 bytes), and the download file in Gatehouse's store layout, hard-linked into nginx's root."""
    DATA.mkdir(parents=True, exist_ok=True)
    doc = {"_id": "device-settings", "_rev": "7-4f1c0d2e9b8a7c6d5e4f3a2b1c0d9e8f", "type": "settings",
           "owner": "alice", "theme": "dark", "sync": {"enabled": True, "interval": 300, "peers": ["phone", "laptop"]},
           "quota": {"files": 1073741824, "used": 52428800}, "updated": "2026-01-01T00:00:00Z", "tags": ["home", "media"]}
    text = json.dumps(doc, separators=(",", ":"))
    text += " " * max(0, 300 - len(text) - 1) + "\n"
    (DATA / "doc.json").write_text(text)

    if "file" not in SCENARIOS:   # 1 GiB of random bytes is minutes of a busy machine's disk
        for d in (DATA / "store" / "files", DATA / "www" / "files"):   # the peers' file routes still name them
            d.mkdir(parents=True, exist_ok=True)
        return None, None
    big = DATA / f"download-{FILE_MB}MiB.bin"
    idfile = DATA / f"download-{FILE_MB}MiB.id"
    if not (big.exists() and idfile.exists() and big.stat().st_size == FILE_MB << 20):
        log(f"generating a {FILE_MB} MiB file of random bytes")
        with open(big, "wb") as out, open("/dev/urandom", "rb") as rnd:
            for _ in range(FILE_MB):
                out.write(rnd.read(1 << 20))
        r = run(["sha256sum", str(big)], check=True)
        idfile.write_text(r.stdout.split()[0])
    file_id = idfile.read_text().strip()
    store = DATA / "store"
    target = store / "files" / file_id[:2] / file_id[2:]
    www = DATA / "www" / "files"
    for d in (target.parent, www):
        d.mkdir(parents=True, exist_ok=True)
    for link in (target, www / file_id):
        if not (link.exists() and os.path.samefile(link, big)):
            if link.exists():
                link.unlink()
            os.link(big, link)
    return file_id, big


# --------------------------------------------------------------------------- peers

class Peer:
    def __init__(self, name):
        self.name = name
        self.proc = None
        self.port = None

    def start(self, mode, ctx):
        raise NotImplementedError

    def stop(self):
        if self.proc:
            self.proc.stop()
        self.proc = None


def conn_limit(ctx):
    """The most connections one server process here may hold: MAX_CONNS, within the descriptors it has."""
    return min(MAX_CONNS, ctx["nofile"] - 500)


def haproxy_maxconn(ctx):
    """HAProxy refuses to start unless it has two descriptors for each of maxconn."""
    return min(conn_limit(ctx), (ctx["nofile"] - 500) // 2)


class GatehousePeer(Peer):
    def start(self, mode, ctx):
        self.port = None
        config = {
            "listen": [{"address": "127.0.0.1", "port": 0, "tls": True, "clientCertificate": mode}],
            "tls": {"certificate": str(PKI / "server.crt"), "key": str(PKI / "server.key")},
            "trust": {"cas": [{"name": "user", "certificate": str(PKI / "ca.crt")}]},
            "routes": [
                {"kind": "files", "prefix": "/files/", "stores": [str(DATA / "store")]},
                {"kind": "proxy", "prefix": "/api/", "backend": f"http://127.0.0.1:{ctx['backend_port']}"},
                {"kind": "proxy", "prefix": "/feed/", "backend": f"http://127.0.0.1:{ctx['feed_port']}"},
            ],
            "rules": [{"principals": ["anonymous", "ca:user"], "files": ["read"], "proxy": ["/api/", "/feed/"]}],
            # the peers have no per-connection request cap either; keep-alive idles as long as theirs
            "limits": {"maxRequestsPerConnection": 100000000, "keepAliveTimeout": 300, "maxConnections": 100000, "maxConnectionsPerAddress": 100000, "maxPendingHandshakesPerAddress": 100000, "maxConnectionsPerPrincipal": 100000},
        }
        # diagnostics (bench/diag/ab.py): limits merged over the harness's, e.g. a bigger upstream pool
        if os.environ.get("BENCH_GATEHOUSE_LIMITS"):
            config["limits"].update(json.loads(os.environ["BENCH_GATEHOUSE_LIMITS"]))
            note(f"Gatehouse ran with limits {os.environ['BENCH_GATEHOUSE_LIMITS']} (BENCH_GATEHOUSE_LIMITS)")
        if not TLS_TUNING:
            config["runtime"] = {"tlsTuning": False}
            note("Gatehouse ran with runtime.tlsTuning false (BENCH_TLS_TUNING=0)")
        # A folder of its own: Gatehouse watches its config's folder for reloads, and in RUN every write
        # to a log (its own access lines, nginx's) would wake that watcher on the server CPU.
        path = RUN / "gatehouse-config" / f"gatehouse-{mode}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(config, indent=2))
        self.proc = Proc(f"gatehouse-{mode}", gatehouse_command() + ["serve", "--config", str(path),
                                               "--log-level", os.environ.get("BENCH_GATEHOUSE_LOG_LEVEL", "Information" if ACCESS_LOG else "Warning")],
                         cpu=SERVER_CPU, capture=True)
        ready = read_ready_line(self.proc)
        if ready is None:
            return False
        self.port = ready["listen"][0]["port"]
        return True


class NginxPeer(Peer):
    def start(self, mode, ctx):
        self.port = free_port()
        name = f"nginx-{mode}"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (RUN / f"{name}-tmp" / sub).mkdir(parents=True, exist_ok=True)
        conf = RUN / f"{name}.conf"
        conf.write_text(fill("nginx-peer.conf", RUN=RUN, NAME=name, PKI=PKI, WWW=DATA / "www", PORT=self.port,
                             BACKEND_PORT=ctx["backend_port"], FEED_PORT=ctx["feed_port"],
                             VERIFY="on" if mode == "required" else "optional", MAX_CONNS=conn_limit(ctx),
                             NOFILE=ctx["nofile"],
                             ACCESS_LOG=f"access_log {RUN / (name + '.access.log')}" if ACCESS_LOG else "access_log off"))
        self.proc = Proc(name, ["nginx", "-p", str(RUN), "-c", str(conf)], cpu=SERVER_CPU)
        return wait_port(self.port, self.proc)


class HaproxyPeer(Peer):
    def start(self, mode, ctx):
        self.port = free_port()
        name = f"haproxy-{mode}"
        conf = RUN / f"{name}.cfg"
        conf.write_text(fill("haproxy.cfg", PKI=PKI, PORT=self.port, BACKEND_PORT=ctx["backend_port"],
                             FEED_PORT=ctx["feed_port"], VERIFY=mode, MAX_CONNS=haproxy_maxconn(ctx)))
        self.proc = Proc(name, ["haproxy", "-db", "-f", str(conf)], cpu=SERVER_CPU)
        return wait_port(self.port, self.proc)


class YarpPeer(Peer):
    def start(self, mode, ctx):
        self.port = free_port()
        self.proc = Proc(f"yarp-{mode}", [
            "dotnet", str(OUT / "yarp/yarp-peer.dll"), "--port", str(self.port), "--client-cert", mode,
            "--cert", str(PKI / "server.crt"), "--key", str(PKI / "server.key"), "--ca", str(PKI / "ca.crt"),
            "--backend", f"http://127.0.0.1:{ctx['backend_port']}/",
            "--feed-backend", f"http://127.0.0.1:{ctx['feed_port']}/"], cpu=SERVER_CPU, capture=True)
        return read_ready_line(self.proc) is not None and wait_port(self.port, self.proc)


PEER_CLASSES = {"gatehouse": GatehousePeer, "nginx": NginxPeer, "haproxy": HaproxyPeer, "yarp": YarpPeer}


# scenario 6 (issue 6): WebSocket echo servers, not HTTP peers of scenarios 1-5
class WsGatehousePeer(Peer):
    """Gatehouse as a library (bench/compare/WsEchoGatehouse): one websocket route, "echo", client certificate required."""
    def start(self, mode, ctx):
        self.port = None
        config = {
            "listen": [{"address": "127.0.0.1", "port": 0, "tls": True, "clientCertificate": "required"}],
            "tls": {"certificate": str(PKI / "server.crt"), "key": str(PKI / "server.key")},
            "trust": {"cas": [{"name": "user", "certificate": str(PKI / "ca.crt")}]},
            "routes": [{"kind": "websocket", "prefix": "/echo/", "name": "echo"}],
            "rules": [{"principals": ["ca:user"], "proxy": ["echo"]}],
            "limits": {"maxConnections": 100000, "maxConnectionsPerAddress": 100000, "maxPendingHandshakesPerAddress": 100000, "maxConnectionsPerPrincipal": 100000},
        }
        path = RUN / "ws-gatehouse.json"
        path.write_text(json.dumps(config, indent=2))
        self.proc = Proc("ws-gatehouse", ["dotnet", str(OUT / "ws-gatehouse/ws-echo-gatehouse.dll"), "--config", str(path)],
                         cpu=SERVER_CPU, capture=True)
        return self._ready()

    def _ready(self):
        ready = read_ready_line(self.proc)
        if ready is None:
            return False
        self.port = ready["port"]
        return wait_port(self.port, self.proc)


class WsKestrelPeer(WsGatehousePeer):
    """ASP.NET Core's WebSocket middleware on Kestrel (bench/compare/WsEchoKestrel), same certificates and CA."""
    def start(self, mode, ctx):
        port = free_port()
        self.proc = Proc("ws-kestrel", ["dotnet", str(OUT / "ws-kestrel/ws-echo-kestrel.dll"), "--port", str(port),
                                        "--cert", str(PKI / "server.crt"), "--key", str(PKI / "server.key"),
                                        "--ca", str(PKI / "ca.crt")], cpu=SERVER_CPU, capture=True)
        return self._ready()


WS_PEER_CLASSES = {"gatehouse": WsGatehousePeer, "kestrel": WsKestrelPeer}


def start_peers(names, mode, ctx, check_path=None, expect=None):
    """Start each named peer; returns {name: peer} of those that came up (and answer check_path)."""
    up = {}
    for name in names:
        if name in skipped or name not in PEER_CLASSES:   # kestrel serves scenario 6 only
            continue
        peer = PEER_CLASSES[name](name)
        ok = peer.start(mode, ctx)
        if not ok:
            note(f"{LABEL[name]} ({mode}) did not start: {peer.proc.tail() if peer.proc else ''}")
            peer.stop()
            continue
        up[name] = peer
    return up


def answering(up, ctx, scenario):
    """Those of the started peers that answer the proxied GET with the backend's document (the rest get a note)."""
    ok = {}
    for name, peer in up.items():
        code, body = https_get(peer.port, "/api/doc.json")
        if code == 200 and body == ctx["doc"]:
            ok[name] = peer
        else:
            note(f"{LABEL[name]}: GET /api/doc.json answered {code} {body[:80]!r}; left out of scenario {scenario}")
    return ok


def https_get(port, path, cert=False, timeout=10):
    argv = ["curl", "-sk", "--http1.1", "-o", "-", "-w", "\n%{http_code}", f"https://127.0.0.1:{port}{path}"]
    if cert:
        argv[1:1] = ["--cert", str(PKI / "client.crt"), "--key", str(PKI / "client.key")]
    try:
        r = run(argv, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 0, ""
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def tls_params(port):
    try:
        r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-brief",
                 "-cert", str(PKI / "client.crt"), "-key", str(PKI / "client.key")], input="", timeout=10)
    except (subprocess.TimeoutExpired, FileNotFoundError):
        return "?"
    proto = re.search(r"Protocol version: (\S+)", r.stderr)
    cipher = re.search(r"Ciphersuite: (\S+)", r.stderr)
    group = re.search(r"(?:Negotiated TLS1.3 group|Server Temp Key): ([^\n]+)", r.stderr)
    return " ".join(x.group(1).strip() for x in (proto, cipher, group) if x) or "?"


# --------------------------------------------------------------------------- measurements

UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


@under_burner
def wrk(port, conns, duration, path="/api/doc.json", server_pid=None):
    cpu0 = cpu_seconds(server_pid) if server_pid else None
    # How busy each pinned CPU was: when the load CPU is near 100%, the load generator and the
    # backend set the pace and no server can go faster; the server CPU's share explains its p99.
    load0 = cpu_busy_ticks(LOAD_CPU) if LOAD_CPU is not None else None
    serve0 = cpu_busy_ticks(SERVER_CPU) if SERVER_CPU is not None else None
    # On a virtual machine the host can take the CPUs away for tens of ms: a p99 that jumps with this is the host's.
    steal0 = steal_ms()
    r = run(["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--timeout", "10s", "--latency",
             f"https://127.0.0.1:{port}{path}"], cpu=LOAD_CPU, timeout=duration + 60)
    load1 = cpu_busy_ticks(LOAD_CPU) if LOAD_CPU is not None else None
    serve1 = cpu_busy_ticks(SERVER_CPU) if SERVER_CPU is not None else None
    stolen = steal_ms() - steal0
    out = r.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    requests = re.search(r"(\d+) requests in", out)
    if not rps or not requests:
        return None
    cpu_us = None
    if server_pid and int(requests.group(1)):
        cpu_us = (cpu_seconds(server_pid) - cpu0) * 1e6 / int(requests.group(1))
    return {"rps": float(rps.group(1)), "p99": float(p99.group(1)) * UNIT[p99.group(2)] if p99 else None,
            "errors": errors, "cpu_us": cpu_us,
            "load_busy": busy_share(load0, load1), "server_busy": busy_share(serve0, serve1), "steal_ms": stolen}


@under_burner
def s_time(port, duration, clients):
    argv = ["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-new", "-www", "/ping",
            "-cert", str(PKI / "client.crt"), "-key", str(PKI / "client.key"), "-CAfile", str(PKI / "ca.crt"),
            "-time", str(duration)]
    if LOAD_CPU is not None:
        argv = ["taskset", "-c", str(LOAD_CPU)] + argv
    start = time.monotonic()
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(clients)]
    total = 0
    for p in procs:
        out, _ = p.communicate(timeout=duration + 60)
        m = re.search(r"(\d+) connections in [\d.]+s", out)
        if m:
            total += int(m.group(1))
    elapsed = time.monotonic() - start
    return total / elapsed if total else None


@under_burner
def curl_download(port, file_id, server_pid=None):
    """MB/s, error, and CPU seconds per GiB of the server and of curl (the client's from its rusage)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = cpu_seconds(server_pid) if server_pid else None
    r = run(["curl", "-sk", "--http1.1", "-o", "/dev/null", "-w", "%{speed_download} %{http_code} %{size_download} %{time_total}",
             f"https://127.0.0.1:{port}/files/{file_id}"], cpu=LOAD_CPU, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    speed, code, size, wall = r.stdout.split()
    if code != "200" or int(float(size)) != FILE_MB << 20:
        return None, f"HTTP {code}, {size} bytes"
    gib = (FILE_MB << 20) / (1 << 30)
    client = (after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime) / gib
    server = (cpu_seconds(server_pid) - cpu0) / gib if server_pid else None
    return {"mbps": float(speed) / 1e6, "server": server, "client": client, "wall": float(wall) / gib}, None


def open_idle(peer, n, cert=False):
    """idle_clients.py holding n idle connections to peer (with the client certificate when cert is True,
    or with each key pair in the folder cert names in turn): (process, how many opened)."""
    if isinstance(cert, Path):
        keys = ["--certs", str(cert)]
    else:
        keys = ["--cert", str(PKI / "client.crt"), "--key", str(PKI / "client.key")] if cert else []
    client = subprocess.Popen(
        (["taskset", "-c", str(LOAD_CPU)] if LOAD_CPU is not None else []) +
        [sys.executable, str(HERE / "idle_clients.py"), "127.0.0.1", str(peer.port), "/api/doc.json", str(n)] + keys,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    line = client.stdout.readline()
    m = re.match(r"open (\d+)", line or "")
    return client, (int(m.group(1)) if m else 0)


def close_idle(client):
    try:
        client.stdin.write("\n")
        client.stdin.close()
    except OSError:
        pass
    try:
        client.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(client.pid, signal.SIGKILL)
        client.wait()


def warm_idle(peer, cert=False):
    """IDLE_WARMUP connections opened and closed: what the first connections of a process pay once (code
    pages touched, JIT-compiled code, thread stacks, pools) is then not charged to the idle ones counted next."""
    if IDLE_WARMUP:
        warm, _ = open_idle(peer, IDLE_WARMUP, cert)
        close_idle(warm)
        time.sleep(min(1.0, IDLE_SETTLE))


class IdleHeld:
    """What idle_held found: how many connections opened (error: why fewer than asked), and the server's RSS
    (KiB) before and after."""
    def __init__(self, opened, wanted, before, after, error):
        self.opened, self.wanted, self.before, self.after, self.error = opened, wanted, before, after, error

    def per_conn(self, since=None):
        """KiB of RSS per idle connection, counted from since (default: just before they opened)."""
        return (self.after - (self.before if since is None else since)) / self.opened if self.opened else None


@contextmanager
def idle_held(peer, n, cert=False):
    """n idle keep-alive connections to peer held open for the with-block (closed after it)."""
    pid = peer.proc.pid
    before = rss_kib(pid)
    started = time.monotonic()
    client, opened = open_idle(peer, n, cert)
    took = time.monotonic() - started
    try:
        time.sleep(IDLE_SETTLE)
        error = None
        if opened < n:
            error = f"only {opened}/{n} connections opened in {took:.0f} s"
        log(f"{n} idle connections to {peer.name}: {opened} opened in {took:.1f} s")
        yield IdleHeld(opened, n, before, rss_kib(pid), error)
    finally:
        close_idle(client)
        if opened < n:
            note(f"{LABEL[peer.name]}: {opened}/{n} idle connections opened: "
                 f"{(client.stderr.read() or '').strip()[:200]}")


def idle_memory(peer, n):
    """RSS per idle connection: (marginal, cold), or (None, None) and an error.

    marginal: after warm_idle, so one-time costs are not charged to each of the n; cold: from the freshly
    started server, as measured before."""
    time.sleep(1.0)
    cold_before = rss_kib(peer.proc.pid)
    warm_idle(peer)
    with idle_held(peer, n) as held:
        if held.error:
            return None, None, held.error
        return held.per_conn(), held.per_conn(since=cold_before), None


@under_burner
def feed_delay(port, tls=True):
    argv = [sys.executable, str(HERE / "feed_client.py"), "127.0.0.1", str(port), "/feed/changes?feed=continuous",
            "--timeout", "30"] + (["--tls"] if tls else [])
    if LOAD_CPU is not None:
        argv = ["taskset", "-c", str(LOAD_CPU)] + argv
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return None, (r.stderr or r.stdout).strip().splitlines()[-1:] or ["failed"]
    delays = json.loads(r.stdout)["delays_us"]
    if len(delays) != STREAM_EVENTS:
        return None, f"{len(delays)}/{STREAM_EVENTS} changes arrived"
    return statistics.median(delays) / 1000.0, None


@under_burner
def ws_load(port, size, duration, warmup, server_pid=None):
    """bench/compare/WsLoad on the load CPU: WS_CONNS connections, WS_INFLIGHT messages of size bytes in flight on each."""
    cpu0 = cpu_seconds(server_pid) if server_pid else None
    argv = ["dotnet", str(OUT / "ws-load/ws-load.dll"), "--url", f"wss://127.0.0.1:{port}/echo/",
            "--cert", str(PKI / "client.crt"), "--key", str(PKI / "client.key"), "--conns", str(WS_CONNS),
            "--size", str(size), "--inflight", str(WS_INFLIGHT), "--duration", str(duration), "--warmup", str(warmup)]
    try:
        r = run(argv, cpu=LOAD_CPU, timeout=duration + warmup + 90)
    except subprocess.TimeoutExpired:
        return None, "ws-load timed out"
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None, (r.stderr.strip().splitlines() or ["no output"])[-1][:200]
    if res.get("errors") or not res.get("messages"):
        return None, f"{res.get('errors')} errors, {res.get('messages')} messages: {res.get('error', '')}"
    if server_pid and res.get("total"):
        res["cpu_us"] = (cpu_seconds(server_pid) - cpu0) * 1e6 / res["total"]
    return res, None


# --------------------------------------------------------------------------- results

results = {}   # (row key) -> {peer: [values]}
rep_of = {}    # (row key) -> {peer: [repetition of each value]}: pairs the peers' runs of one repetition
ROWS = []      # (key, scenario text, metric text, higher_is_better)


def row(key, scenario, metric, higher):
    if key not in [r[0] for r in ROWS]:
        ROWS.append((key, scenario, metric, higher))
        results[key] = {}


def record(key, peer, value, rep=None):
    results[key].setdefault(peer, []).append(value)
    rep_of.setdefault(key, {}).setdefault(peer, []).append(rep)


def paired_ratios(key, peer):
    """Gatehouse / peer within each repetition both ran (back to back, so on a similar machine state)."""
    g = dict(zip(rep_of.get(key, {}).get("gatehouse", []), results[key].get("gatehouse", [])))
    v = dict(zip(rep_of.get(key, {}).get(peer, []), results[key].get(peer, [])))
    return [g[r] / v[r] for r in g if r is not None and r in v and v[r]]


WRK_FIELDS = (("", "rps"), ("p99", "p99"), ("cpu", "cpu_us"), ("sbusy", "server_busy"), ("lbusy", "load_busy"),
              ("steal", "steal_ms"))


def wrk_rows(prefix, scenario, tag=""):
    """The rows one kind of wrk run fills (record_wrk): req/s, p99, server CPU per request, and how busy each pinned CPU was."""
    row(prefix, scenario, f"req/s{tag}", True)
    row(prefix + "p99", scenario, f"p99 ms{tag}", False)
    row(prefix + "cpu", scenario, f"server CPU µs/req{tag}", False)
    if MULTI_CPU:
        row(prefix + "sbusy", scenario, f"server CPU {SERVER_CPU} busy %{tag}", None)
        row(prefix + "lbusy", scenario, f"load CPU {LOAD_CPU} busy %{tag}", None)
    row(prefix + "steal", scenario, f"ms stolen by the hypervisor{tag}", None)


def record_wrk(prefix, peer, res, where, rep=None):
    """One wrk result into wrk_rows(prefix)'s rows; a failed run or wrk's errors become notes. Returns res."""
    if res is None:
        note(f"{LABEL[peer]}: wrk failed {where}")
        return None
    if res["errors"]:
        note(f"{LABEL[peer]}: {res['errors']} wrk errors (non-2xx or socket) {where}")
    for suffix, field in WRK_FIELDS:
        if res[field] is not None and prefix + suffix in results:
            record(prefix + suffix, peer, res[field], rep)
    return res


def fmt(v):
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def cell(values):
    if not values:
        return "—"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt(med)
    return f"{fmt(med)} ({fmt(min(values))}–{fmt(max(values))})"


def table():
    peers = [p for p in ALL_PEERS if p in PEERS] + ["direct"]
    # a peer with no figure in any row (kestrel outside scenario 6; the rest in a scenario 6-only run) gets no column
    peers = [p for p in peers if p == "gatehouse" or any(results[key].get(p) for key, *_ in ROWS)]
    others = [p for p in peers if p != "gatehouse"]
    head = ["scenario", "metric"] + [LABEL[p] for p in peers] + [f"G/{LABEL[p]}" for p in others]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, scenario, metric, higher in ROWS:
        data = results[key]
        arrow = {True: " ↑", False: " ↓", None: ""}[higher]   # None: a context row, not a score
        cells = [scenario, metric + arrow] + [cell(data.get(p)) for p in peers]
        g = data.get("gatehouse")
        for p in others:
            v = data.get(p)
            if g and v and statistics.median(v) > 0:
                text = f"{statistics.median(g) / statistics.median(v):.2f}×"
                pairs = paired_ratios(key, p)
                if len(pairs) >= 2:
                    # The host's speed drifts between runs: a ratio within each repetition cancels it.
                    text += f" (paired {statistics.median(pairs):.2f}×, {min(pairs):.2f}–{max(pairs):.2f})"
                cells.append(text)
            else:
                cells.append("—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def version(argv, pattern=None):
    try:
        r = run(argv, timeout=20)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return None
    text = (r.stdout + r.stderr).strip().splitlines()
    text = text[0] if text else ""
    if pattern:
        m = re.search(pattern, text)
        return m.group(1) if m else text
    return text


def busy_seconds():
    """CPU-seconds the whole machine spent busy (from /proc/stat), and those spent by this harness and its
    waited-for children: their difference is what other processes took while the harness ran."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    t = os.times()
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK"), t.user + t.system + t.children_user + t.children_system


def wait_quiet(limit):
    """Wait (up to limit seconds) for a 5-second window in which other processes use < 10% of the machine."""
    deadline = time.monotonic() + limit
    while True:
        b0, o0 = busy_seconds()
        time.sleep(5)
        b1, o1 = busy_seconds()
        share = max(0.0, (b1 - b0) - (o1 - o0)) / 5 / (os.cpu_count() or 1)
        if share < 0.1 or time.monotonic() > deadline:
            log(f"machine busy share {share:.0%}; starting")
            return
        log(f"machine busy share {share:.0%} (other processes); waiting for quiet")


def command_line():
    """The knobs this run was given, as a `make bench` line that repeats it."""
    knobs = [f"{k}={v}" for k, v in sorted(os.environ.items()) if (k.startswith("BENCH_") or k == "SMOKE")
             and k not in ("BENCH_OUT", "BENCH_STALE_GATEHOUSE")]
    return " ".join(knobs + ["make bench"])


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1048576:.0f} GiB"
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), {mem} RAM, Linux {platform.release()}"


# --------------------------------------------------------------------------- scenarios

def scenario_get_and_stream(ctx, file_id):
    want = [s for s in ("get", "stream", "file") if s in SCENARIOS]
    if not want:
        return
    up = start_peers(PEERS, "optional", ctx)
    try:
        for name, peer in up.items():
            ctx["tls"][name] = tls_params(peer.port)
        # --- 1. proxied small GET
        if "get" in SCENARIOS:
            if not shutil.which("wrk"):
                note("scenario 1 skipped: wrk is not installed")
            else:
                ok = answering(up, ctx, 1)
                for name, peer in ok.items():
                    wrk(peer.port, max(CONNS), GET_WARMUP)   # warm-up: JIT, pools, upstream keep-alive
                for conns in CONNS:
                    wrk_rows(f"get{conns}", f"1. proxied GET, {conns} conns")
                    order = list(ok)
                    for rep in range(REPS):
                        for name in rotated(order, rep):
                            res = wrk(ok[name].port, conns, DURATION, server_pid=ok[name].proc.pid)
                            log(f"get c={conns} rep={rep + 1} {name}: {res}")
                            record_wrk(f"get{conns}", name, res, f"at {conns} connections", rep)
        # --- 5. streaming
        if "stream" in SCENARIOS:
            row("stream", "5. streaming feed", "change delay ms", False)
            base = []
            for rep in range(REPS):
                for name, peer in up.items():
                    value, err = feed_delay(peer.port)
                    log(f"stream rep={rep + 1} {name}: {value} {err or ''}")
                    if value is None:
                        note(f"{LABEL[name]}: streaming failed: {err}")
                        continue
                    record("stream", name, value)
                value, _ = feed_delay(ctx["feed_port"], tls=False)
                if value is not None:
                    base.append(value)
            if base:
                note(f"scenario 5 floor (client straight to the feed backend, no proxy, no TLS): {statistics.median(base):.3f} ms")
        # --- 2. file download
        if "file" in SCENARIOS:
            row("file", f"2. file download, {FILE_MB} MiB, 1 stream", "MB/s", True)
            # CPU per GiB stays meaningful on a busy machine; and when neither side is near one full
            # CPU (busy share of the wall time), neither the server nor curl set the pace.
            row("filecpu", f"2. file download, {FILE_MB} MiB, 1 stream", "server CPU s/GiB", False)
            row("fileclient", f"2. file download, {FILE_MB} MiB, 1 stream", "client (curl) CPU s/GiB", False)
            if not shutil.which("curl"):
                note("scenario 2 skipped: curl is not installed")
            else:
                # page cache: both serve the file from memory
                subprocess.run(["sh", "-c", f"cat '{ctx['big']}' > /dev/null"], check=False)
                order = [n for n in ("gatehouse", "nginx") if n in up]
                for name in order:
                    curl_download(up[name].port, file_id)   # warm-up: JIT and pools, as in scenario 1
                busy = {}
                for rep in range(REPS):
                    for name in rotated(order, rep):
                        value, err = curl_download(up[name].port, file_id, server_pid=up[name].proc.pid)
                        log(f"file rep={rep + 1} {name}: {value} {err or ''}")
                        if value is None:
                            note(f"{LABEL[name]}: download failed: {err}")
                            continue
                        record("file", name, value["mbps"])
                        record("filecpu", name, value["server"])
                        record("fileclient", name, value["client"])
                        busy.setdefault(name, []).append((value["server"] / value["wall"], value["client"] / value["wall"]))
                for name, shares in busy.items():
                    note(f"scenario 2, {LABEL[name]}: server busy {100 * statistics.median(s for s, _ in shares):.0f}% "
                         f"and curl busy {100 * statistics.median(c for _, c in shares):.0f}% of the wall time (medians); "
                         "well below 100% on both sides means other load on the machine set the pace")
    finally:
        for peer in up.values():
            peer.stop()


def scenario_handshake(ctx):
    if "handshake" not in SCENARIOS:
        return
    row("handshake", "3. new mTLS handshakes", "handshakes/s", True)
    if not shutil.which("openssl"):
        note("scenario 3 skipped: openssl is not installed")
        return
    up = start_peers(PEERS, "required", ctx)
    try:
        ok = {}
        for name, peer in up.items():
            anon, _ = https_get(peer.port, "/ping")
            code, _ = https_get(peer.port, "/ping", cert=True)
            if 200 <= anon < 300:
                note(f"{LABEL[name]} (client certificate required) answered {anon} without a certificate")
            if code:
                ok[name] = peer
            else:
                note(f"{LABEL[name]}: left out of scenario 3 (no answer with the client certificate)")
        for name, peer in ok.items():
            s_time(peer.port, WARMUP, 1)
        order = list(ok)
        for rep in range(REPS):
            for name in rotated(order, rep):
                value = s_time(ok[name].port, DURATION, HANDSHAKE_CLIENTS)
                log(f"handshake rep={rep + 1} {name}: {value}")
                if value is None:
                    note(f"{LABEL[name]}: openssl s_time made no connection")
                    continue
                record("handshake", name, value)
    finally:
        for peer in up.values():
            peer.stop()


def scenario_idle(ctx):
    if "idle" not in SCENARIOS:
        return
    row("idle", f"4. idle TLS keep-alive conns ({IDLE_CONNS:,})", "RSS KiB/conn", False)
    # Context: the same n counted from the freshly started server, one-time costs included.
    row("idlecold", f"4. idle TLS keep-alive conns ({IDLE_CONNS:,})", "same, counted from a cold start", None)
    for rep in range(REPS):
        for name in PEERS:
            if name in skipped:
                continue
            up = start_peers([name], "optional", ctx)
            if name not in up:
                continue
            peer = up[name]
            try:
                if not answering(up, ctx, 4):
                    continue
                value, cold, err = idle_memory(peer, IDLE_CONNS)
                log(f"idle rep={rep + 1} {name}: {value} (cold {cold}) {err or ''}")
                if value is None:
                    note(f"{LABEL[name]}: idle connections: {err}")
                    continue
                record("idle", name, value)
                record("idlecold", name, cold)
            finally:
                peer.stop()


# /proc/net/tcp's st column for LISTEN. TIME_WAIT counts: a server that closes first keeps each socket there
# for Linux's 60 s, and a run measured meanwhile shares the kernel with all of them (idle_clients.py resets
# its connections so none is left).
LISTEN = "0A"


def connections_on(port, states=None):
    """TCP sockets (any state but LISTEN) whose local port is port, from /proc/net/tcp and tcp6; with states
    (a dict), also a count of them by their st code."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split(None, 4)
                    if int(fields[1].rsplit(":", 1)[1], 16) != port:
                        continue
                    if states is not None:
                        states[fields[3]] = states.get(fields[3], 0) + 1
                    if fields[3] != LISTEN:
                        count += 1
        except OSError:
            pass
    return count


def wait_connections_gone(port, timeout):
    """Until at most a handful of connections remain on port (or timeout seconds pass, which is logged)."""
    deadline = time.monotonic() + timeout
    while connections_on(port) > 16:
        if time.monotonic() >= deadline:
            states = {}
            connections_on(port, states)
            log(f"port {port}: connections still open after {timeout} s, by /proc/net/tcp state: {states}")
            return
        time.sleep(0.2)


def bracket(before, after):
    """The mean of two wrk results taken either side of another run (either alone when the other failed)."""
    if before is None or after is None:
        return before or after
    mean = {k: (before[k] + after[k]) / 2 if isinstance(before[k], (int, float)) and isinstance(after[k], (int, float))
            else before[k] for k in before}
    mean["errors"] = before["errors"] + after["errors"]
    return mean


def scenario_idlebusy(ctx):
    """8. Many idle, some busy (issue 22): BUSY_CONNS wrk connections doing proxied GETs, alone and then beside
    IDLEBUSY_IDLE idle keep-alive connections that each presented the client certificate; and the server's RSS
    per idle connection. Each peer is started afresh per repetition and warmed up (GETs, one idle round) first."""
    if "idlebusy" not in SCENARIOS:
        return
    if not shutil.which("wrk"):
        note("scenario 8 skipped: wrk is not installed")
        return
    # one descriptor per idle connection in the server and in the client; the rest for the busy ones, the
    # upstream pool and the runtime's own files
    n = min(IDLEBUSY_IDLE, ctx["nofile"] - 1000)
    if n < IDLEBUSY_IDLE:
        note(f"scenario 8: {n:,} idle connections, not {IDLEBUSY_IDLE:,}: a process may open only {ctx['nofile']:,} "
             "files here (RLIMIT_NOFILE's hard limit, which this harness may not raise)")
    what = f"8. {BUSY_CONNS} busy + {n:,} idle mTLS conns"
    wrk_rows("ibquiet", what, ", no idle conns")
    wrk_rows("ibidle", what, ", beside the idle conns")
    row("ibrps", what, "req/s beside idle ÷ without (target ≥ 0.90)", True)
    row("ibp99", what, "p99 beside idle ÷ without (target ≤ 1.10)", False)
    row("ibrss", what, "RSS KiB per idle conn", False)
    order = [p for p in PEERS if p in PEER_CLASSES and p not in skipped]
    if "haproxy" in order and haproxy_maxconn(ctx) < n + BUSY_CONNS + 100:
        note(f"scenario 8: HAProxy left out: with {ctx['nofile']:,} descriptors its maxconn is {haproxy_maxconn(ctx):,}")
        order.remove("haproxy")
    for rep in range(REPS):
        for name in rotated(order, rep):
            up = start_peers([name], "optional", ctx)
            try:
                peer = answering(up, ctx, 8).get(name)
                if peer is None:
                    continue
                pid = peer.proc.pid
                if not SMOKE:
                    wrk(peer.port, BUSY_CONNS, GET_WARMUP)   # JIT, pools, upstream keep-alive, as in scenario 1
                warm_idle(peer, cert=True)
                before = wrk(peer.port, BUSY_CONNS, IDLEBUSY_DURATION, server_pid=pid)
                with idle_held(peer, n, cert=True) as held:
                    busy = wrk(peer.port, BUSY_CONNS, IDLEBUSY_DURATION, server_pid=pid)
                # The run without idle connections brackets the one beside them (before and after, A-B-A):
                # the host's speed drifts by up to 2x for a minute at a time, and one quiet run caught in
                # such a spell made the "beside / without" ratios read anything from 0.4 to 1.3.
                # The server closing the idle connections is not the busy run's cost: a run started 2 s after
                # they closed met the teardown (p99 20-25 ms for Gatehouse and nginx alike).
                wait_connections_gone(peer.port, 60)
                time.sleep(TEARDOWN_SETTLE)
                after = wrk(peer.port, BUSY_CONNS, IDLEBUSY_DURATION, server_pid=pid)
                quiet = record_wrk("ibquiet", name, bracket(before, after), "in scenario 8 (no idle conns)")
                log(f"idlebusy rep={rep + 1} {name}: quiet before {before}, after {after}, beside {held.opened} idle {busy}, "
                    f"RSS {held.before} -> {held.after} KiB")
                if held.error:
                    note(f"{LABEL[name]}, scenario 8: {held.error}")
                    continue
                record("ibrss", name, held.per_conn())
                if record_wrk("ibidle", name, busy, "in scenario 8 (beside the idle conns)") and quiet:
                    record("ibrps", name, busy["rps"] / quiet["rps"])
                    if quiet["p99"] and busy["p99"]:
                        record("ibp99", name, busy["p99"] / quiet["p99"])
            finally:
                for p in up.values():
                    p.stop()
    note(f"scenario 8: each peer started afresh per repetition; {'' if SMOKE else f'{GET_WARMUP} s of GETs at {BUSY_CONNS} conns and '}"
         f"{IDLE_WARMUP} idle connections opened and closed first; then wrk ({BUSY_CONNS} conns, {IDLEBUSY_DURATION} s) alone, "
         f"then again while bench/compare/idle_clients.py holds {n:,} keep-alive TLS connections that each presented "
         "the client certificate and made one GET, then alone again once they closed (\"no idle conns\" is the mean of "
         "the runs before and after, so a drift of the host's speed during the repetition cancels); RSS per idle conn is the server's RSS with them open minus before they "
         "opened, over their count; the ratios are taken per repetition, their median shown")


def size_label(n):
    return f"{n // 1024} KiB" if n >= 1024 and n % 1024 == 0 else f"{n} B"


def scenario_websocket(ctx):
    """6. WebSocket echo (issue 6): messages/s and MB/s through Gatehouse's websocket route against Kestrel's middleware."""
    if "websocket" not in SCENARIOS:
        return
    names = [n for n in ("gatehouse", "kestrel") if n in PEERS and n not in skipped]
    if "gatehouse" in names and not (OUT / "ws-gatehouse/ws-echo-gatehouse.dll").exists():
        note("scenario 6: the Gatehouse WebSocket echo host did not build (bench/compare/WsEchoGatehouse); Gatehouse left out")
        names.remove("gatehouse")
    for size in WS_SIZES:
        what = f"6. websocket echo, {size_label(size)} msgs, {WS_CONNS} conns × {WS_INFLIGHT} in flight"
        row(f"ws{size}", what, "msgs/s", True)
        row(f"ws{size}mb", what, "MB/s", True)
        row(f"ws{size}cpu", what, "server CPU µs/msg", False)
        row(f"ws{size}client", what, "client CPU µs/msg", False)
    up = {}
    for name in names:
        peer = WS_PEER_CLASSES[name](name)
        if peer.start("required", ctx):
            up[name] = peer
        else:
            note(f"{LABEL[name]} websocket echo did not start: {peer.proc.tail() if peer.proc else ''}")
            peer.stop()
    try:
        ok = {}
        for name, peer in up.items():
            ctx["tls"].setdefault(name, tls_params(peer.port))
            res, err = ws_load(peer.port, WS_SIZES[0], WARMUP, 0)   # warm-up, and the echo is checked
            if res is None:
                note(f"{LABEL[name]}: websocket echo failed ({err}); left out of scenario 6")
            else:
                ok[name] = peer
        order = list(ok)
        for size in WS_SIZES:
            for rep in range(REPS):
                for name in rotated(order, rep):
                    res, err = ws_load(ok[name].port, size, DURATION, WARMUP, server_pid=ok[name].proc.pid)
                    log(f"websocket size={size} rep={rep + 1} {name}: {res or err}")
                    if res is None:
                        note(f"{LABEL[name]}: websocket echo of {size_label(size)} failed: {err}")
                        continue
                    record(f"ws{size}", name, res["msgs_per_s"])
                    record(f"ws{size}mb", name, res["mb_per_s"])
                    if res.get("cpu_us") is not None:
                        record(f"ws{size}cpu", name, res["cpu_us"])
                    if res.get("client_cpu_us"):
                        record(f"ws{size}client", name, res["client_cpu_us"])
        if ok:
            note(f"scenario 6: bench/compare/WsLoad (ClientWebSocket, client certificate) pinned like the other load "
                 f"generators; {WS_CONNS} connections, {WS_INFLIGHT} binary messages in flight on each, {WARMUP} s "
                 f"warm-up then {DURATION} s counted; MB/s is echoed payload in one direction (10^6 bytes); server CPU "
                 f"per echoed message over the whole client run; client CPU (WsLoad's own) per echo in the counted window")
    finally:
        for peer in up.values():
            peer.stop()


# --------------------------------------------------------------------------- scenario 7: CouchDB pull

COUCH_DB = "bench-replicate"
COUCH_WARMUP_DB = "bench-warmup"
COUCH_WARMUP_PULLS = 4
NODE_MODULES = ROOT / "tools" / "node_modules"
COUCH_DIR = HERE / "couch"


class CouchGatehousePeer(Peer):
    """Gatehouse's couchdb route at /couch/, client certificate required: the user's device may pull
    bench-* databases with the `device` credential, fed on stdin as `gatehouse serve --env-stdin` takes it."""
    def start(self, mode, ctx):
        self.port = None
        config = {
            "listen": [{"address": "127.0.0.1", "port": 0, "tls": True, "clientCertificate": "required"}],
            "tls": {"certificate": str(PKI / "server.crt"), "key": str(PKI / "server.key")},
            "trust": {"cas": [{"name": "user", "certificate": str(PKI / "ca.crt")}]},
            "routes": [{"kind": "couchdb", "prefix": "/couch/"}],
            "rules": [{"principals": ["ca:user"], "role": "device",
                       "couchdb": {"databases": ["bench-*"], "allow": ["pull"]}}],
            "limits": {"maxConnections": 100000, "maxConnectionsPerAddress": 100000,
                       "maxPendingHandshakesPerAddress": 100000, "maxConnectionsPerPrincipal": 100000},
        }
        path = RUN / "gatehouse-couch.json"
        path.write_text(json.dumps(config, indent=2))
        self.proc = Proc("gatehouse-couch", gatehouse_command() + ["serve", "--config", str(path), "--env-stdin",
                                                                  "--log-level", "Warning"],
                         cpu=SERVER_CPU, capture=True, stdin=subprocess.PIPE)
        user = ctx["couch_user"]
        env = {"couchdb": {"url": f"http://127.0.0.1:{ctx['couch_port']}/",
                           "credentials": {"device": {"username": user["username"], "password": user["password"]}}}}
        self.proc.p.stdin.write(json.dumps(env).encode())
        self.proc.p.stdin.close()
        ready = read_ready_line(self.proc)
        if ready is None:
            return False
        self.port = ready["listen"][0]["port"]
        return True


class CouchNginxPeer(Peer):
    """nginx as the same door (conf/nginx-couch.conf): mTLS required, upstream keep-alive pool, the device's
    credential injected."""
    def start(self, mode, ctx):
        self.port = free_port()
        name = "nginx-couch"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (RUN / f"{name}-tmp" / sub).mkdir(parents=True, exist_ok=True)
        user = ctx["couch_user"]
        auth = base64.b64encode(f"{user['username']}:{user['password']}".encode()).decode()
        conf = RUN / f"{name}.conf"
        conf.write_text(fill("nginx-couch.conf", RUN=RUN, NAME=name, PKI=PKI, PORT=self.port,
                             COUCH_PORT=ctx["couch_port"], AUTH=auth))
        os.chmod(conf, 0o600)
        self.proc = Proc(name, ["nginx", "-p", str(RUN), "-c", str(conf)], cpu=SERVER_CPU)
        return wait_port(self.port, self.proc)


COUCH_PEER_CLASSES = {"gatehouse": CouchGatehousePeer, "nginx": CouchNginxPeer}


def node_json(script, payload, cpu=None, timeout=600):
    """Runs bench/compare/couch/SCRIPT with payload as JSON on stdin; its last stdout line parsed, or None and why."""
    try:
        r = run(["node", str(COUCH_DIR / script)], cpu=cpu, timeout=timeout, input=json.dumps(payload))
    except subprocess.TimeoutExpired:
        return None, f"{script} timed out after {timeout} s"
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None, ((r.stderr or "").strip().splitlines() or ["no output"])[-1][:300]
    if not res.get("ok"):
        return None, res.get("error") or "; ".join(res.get("problems", []))[:300] or "failed"
    return res, None


def start_couch(ctx):
    """pouchdb-server, in memory, pinned with the client (as every backend here is); seeds it (not timed).
    Returns the process, or None after a note."""
    bin_path = NODE_MODULES / "pouchdb-server" / "bin" / "pouchdb-server"
    if not shutil.which("node") or not bin_path.exists():
        note("scenario 7 skipped: node or tools/node_modules (pouchdb-server, pouchdb) is missing; run `make tools`")
        return None
    work = RUN / "couch"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    # Its log at "error": an info line per request would be the backend's work, not the proxies'.
    (work / "config.json").write_text(json.dumps({"log": {"level": "error"}}))
    port = free_port()
    couch = Proc("pouchdb-server", ["node", str(bin_path), "--in-memory", "--host", "127.0.0.1", "--port", str(port),
                                    "--no-stdout-logs"], cpu=LOAD_CPU, cwd=work)
    if not wait_port(port, couch, timeout=60):
        note("scenario 7 skipped: pouchdb-server did not start: " + couch.tail())
        couch.stop()
        return None
    admin = {"username": "admin", "password": secrets.token_urlsafe(18)}
    user = {"username": "device", "password": secrets.token_urlsafe(18)}
    ctx.update(couch_port=port, couch_user=user)
    dbs = [(COUCH_DB, COUCH_DOCS, COUCH_ATTACHMENTS)]
    if not SMOKE:   # a tenth of the size, for each door's warm-up pull
        dbs.append((COUCH_WARMUP_DB, max(1, COUCH_DOCS // 10), max(1, COUCH_ATTACHMENTS // 10)))
    started = time.monotonic()
    res, err = node_json("seed.js", {"url": f"http://127.0.0.1:{port}/", "admin": admin, "user": user,
                                     "attachmentBytes": COUCH_ATTACHMENT_KB << 10,
                                     "dbs": [{"name": db, "docs": docs, "attachments": atts,
                                              "manifest": str(work / f"{db}.manifest.json")} for db, docs, atts in dbs]})
    if res is None:
        note(f"scenario 7 skipped: seeding pouchdb-server failed: {err}")
        couch.stop()
        return None
    log(f"replicate: seeded in {time.monotonic() - started:.1f} s: {res}")
    ctx["couch_seed"] = res["dbs"][0]
    return couch


@under_burner
def couch_pull(ctx, url, db, tls, server_pid=None, couch_pid=None):
    """One pull into a fresh in-memory PouchDB (couch/pull.js on the load CPU), with the server's and
    pouchdb-server's CPU over the client's life."""
    load = os.getloadavg()[0]
    gate0 = cpu_seconds(server_pid) if server_pid else None
    couch0 = cpu_seconds(couch_pid) if couch_pid else None
    payload = {"modules": str(NODE_MODULES), "url": url, "manifest": str(RUN / "couch" / f"{db}.manifest.json"),
               "tls": {"cert": str(PKI / "client.crt"), "key": str(PKI / "client.key"), "ca": str(PKI / "ca.crt")} if tls else None,
               "auth": None if tls else ctx["couch_user"]}
    res, err = node_json("pull.js", payload, cpu=LOAD_CPU)
    if res is None:
        return None, err
    res["load"] = load
    res["gate_us"] = (cpu_seconds(server_pid) - gate0) * 1e6 / res["docs"] if server_pid else None
    res["couch_us"] = (cpu_seconds(couch_pid) - couch0) * 1e6 / res["docs"] if couch_pid else None
    return res, None


def scenario_replicate(ctx):
    """7. CouchDB pull (issue 22): PouchDB in Node pulls a database from pouchdb-server straight, through
    Gatehouse's couchdb route with mutual TLS, and through nginx set up as the same door."""
    if "replicate" not in SCENARIOS:
        return
    couch = start_couch(ctx)
    if couch is None:
        return
    what = (f"7. CouchDB pull, {COUCH_DOCS:,} docs (~1 KB), {COUCH_ATTACHMENTS} with a "
            f"{size_label(COUCH_ATTACHMENT_KB << 10)} attachment")
    row("repl", what, "docs/s", True)
    row("replgate", what, "gateway CPU µs/doc", False)
    row("replcouch", what, "pouchdb-server CPU µs/doc", False)
    row("replclient", what, "client (PouchDB) CPU µs/doc", None)
    row("replreqs", what, "HTTP requests per pull", None)
    row("replload", what, "1-min load average at start", None)
    names = [n for n in ("gatehouse", "nginx") if n in PEERS and n not in skipped]
    up = {}
    try:
        for name in names:
            peer = COUCH_PEER_CLASSES[name](name)
            if peer.start("required", ctx):
                up[name] = peer
            else:
                note(f"{LABEL[name]} (CouchDB door) did not start: {peer.proc.tail() if peer.proc else ''}")
                peer.stop()
        targets = {"direct": (f"http://127.0.0.1:{ctx['couch_port']}/", False, None)}
        for name, peer in up.items():
            ctx["tls"].setdefault(name, tls_params(peer.port))
            targets[name] = (f"https://127.0.0.1:{peer.port}/couch/", True, peer.proc.pid)
        if not SMOKE:
            # JIT, pools, keep-alive. Several small pulls rather than one: each is a new client process
            # with new TLS connections, so the once-per-connection code gets called often enough to tier up.
            for name, (base, tls, _) in targets.items():
                for _ in range(COUCH_WARMUP_PULLS):
                    res, err = couch_pull(ctx, base + COUCH_WARMUP_DB, COUCH_WARMUP_DB, tls)
                    if res is None:
                        note(f"scenario 7, {LABEL[name]}: a warm-up pull failed: {err}")
                        break
        order = list(targets)
        by_kind = {}
        for rep in range(REPS):
            for name in rotated(order, rep):
                base, tls, pid = targets[name]
                res, err = couch_pull(ctx, base + COUCH_DB, COUCH_DB, tls, server_pid=pid, couch_pid=couch.pid)
                log(f"replicate rep={rep + 1} {name}: {res or err}")
                if res is None:
                    note(f"{LABEL[name]}: CouchDB pull failed: {err}")
                    continue
                record("repl", name, res["docs_per_s"])
                if res["gate_us"] is not None:
                    record("replgate", name, res["gate_us"])
                record("replcouch", name, res["couch_us"])
                record("replclient", name, res["client_cpu_s"] * 1e6 / res["docs"])
                record("replreqs", name, res["requests"])
                record("replload", name, res["load"])
                by_kind[name] = res["by_kind"]
        seed = ctx.get("couch_seed", {})
        note(f"scenario 7: pouchdb-server 4.2.0 in memory, seeded once per run (not timed): {COUCH_DOCS:,} JSON documents "
             f"of {seed.get('mean_doc_bytes', '?')} B on average, {COUCH_ATTACHMENTS} of them with one "
             f"{size_label(COUCH_ATTACHMENT_KB << 10)} random attachment; the client (bench/compare/couch/pull.js, PouchDB 9 "
             "with its default batch_size 100) pulls it into a fresh in-memory PouchDB (pouchdb-adapter-memory) and is "
             "timed over replicate.from() alone, which includes the client's own CPU; then it checks the document count "
             "and every attachment's MD5 against the seed. pouchdb-server and the client share the load CPU; the gateway "
             "or nginx has the server CPU. Direct is plain HTTP with the device's Basic credential; Gatehouse (couchdb "
             "route, `pull` grant) and nginx (conf/nginx-couch.conf: proxy_buffering off, keepalive 16 upstream) take "
             "the client certificate and inject that credential. CPU per document is each process's CPU over the "
             "client's whole run divided by the documents pulled")
        if by_kind:
            kinds = next(iter(by_kind.values()))
            note("scenario 7 requests per pull, by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    finally:
        for peer in up.values():
            peer.stop()
        couch.stop()


# --------------------------------------------------------------------------- main

def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    RUN.mkdir(parents=True, exist_ok=True)
    for f in RUN.glob("*.log"):
        f.unlink()
    if int(os.environ.get("BENCH_WAIT_QUIET", "0")) > 0:
        wait_quiet(int(os.environ["BENCH_WAIT_QUIET"]))
    started = datetime.now(timezone.utc)
    wall0, (busy0, ours0) = time.monotonic(), busy_seconds()

    if not (OUT / "gatehouse/gatehouse.dll").exists():
        raise SystemExit("bench/compare/out/gatehouse/gatehouse.dll is missing: run bench/compare/run.sh")
    for name, tool in (("nginx", "nginx"), ("haproxy", "haproxy")):
        if name in PEERS and not shutil.which(tool):
            skipped[name] = f"{tool} is not installed"
    if "kestrel" in PEERS and not (OUT / "ws-kestrel/ws-echo-kestrel.dll").exists():
        skipped["kestrel"] = "the Kestrel WebSocket peer did not build (bench/compare/WsEchoKestrel)"
    if "websocket" in SCENARIOS and not (OUT / "ws-load/ws-load.dll").exists():
        note("scenario 6 skipped: the WebSocket load client did not build (bench/compare/WsLoad)")
        SCENARIOS.remove("websocket")
    if "yarp" in PEERS and not (OUT / "yarp/yarp-peer.dll").exists():
        skipped["yarp"] = "the YARP peer did not build (bench/compare/YarpPeer)"
    for name, reason in skipped.items():
        note(f"{LABEL[name]} skipped: {reason}")
    if not MULTI_CPU:
        note("fewer than 2 CPUs or no taskset: nothing is pinned")
    nofile = raise_nofile(NOFILE)
    if BURNER:
        note(f"BENCH_BURNER=1: every measurement ran beside bench/compare/burner.py ({BURNER_MIB} MiB copied over "
             f"and over, nice {BURNER_NICE}) on {f'the load CPU {LOAD_CPU}' if MULTI_CPU else 'any CPU'}, "
             "started before it and stopped after")

    if ACCESS_LOG:
        note("BENCH_ACCESS_LOG=1: Gatehouse logged at Information (its default: a JSON access line per request) and nginx "
             "to its default access log, each into a file; HAProxy and YARP logged no requests")
    if os.environ.get("BENCH_STALE_GATEHOUSE"):
        note(f"src/ did not build at run time: Gatehouse is the previous build, from {os.environ['BENCH_STALE_GATEHOUSE']}")
    make_pki()
    file_id, big = make_data()
    ctx = {"doc": (DATA / "doc.json").read_text(), "big": big, "tls": {}, "nofile": nofile}

    # the one fast backend: nginx on 127.0.0.1:8081 (any free port if taken), pinned with the load generator
    backend_port = 8081 if port_free(8081) else free_port()
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (RUN / "backend-nginx-tmp" / sub).mkdir(parents=True, exist_ok=True)
    if shutil.which("nginx"):
        conf = RUN / "backend-nginx.conf"
        conf.write_text(fill("nginx-backend.conf", RUN=RUN, PORT=backend_port, DATA=DATA))
        backend = Proc("backend-nginx", ["nginx", "-p", str(RUN), "-c", str(conf)], cpu=LOAD_CPU)
        backend_kind = "nginx (1 worker)"
    else:
        backend = Proc("backend-python", [sys.executable, str(HERE / "backend.py"), "static", str(backend_port),
                                          str(DATA / "doc.json")], cpu=LOAD_CPU)
        backend_kind = "bench/compare/backend.py static (nginx missing)"
        note("nginx is missing: the backend is the Python fallback, so scenario 1 figures are backend-bound")
    if not wait_port(backend_port, backend):
        raise SystemExit("the backend did not start: " + backend.tail())
    feed_port = free_port()
    feed = Proc("backend-feed", [sys.executable, str(HERE / "backend.py"), "feed", str(feed_port), "--first-ms", "500",
                                 "--interval-ms", "50", "--events", str(STREAM_EVENTS)], cpu=LOAD_CPU)
    if not wait_port(feed_port, feed):
        raise SystemExit("the feed backend did not start: " + feed.tail())
    ctx.update(backend_port=backend_port, feed_port=feed_port)

    try:
        scenario_get_and_stream(ctx, file_id)
        scenario_handshake(ctx)
        scenario_idle(ctx)
        scenario_websocket(ctx)
        scenario_replicate(ctx)
        scenario_idlebusy(ctx)
    finally:
        backend.stop()
        feed.stop()

    busy1, ours1 = busy_seconds()
    wall = time.monotonic() - wall0
    other = max(0.0, (busy1 - busy0) - (ours1 - ours0))
    load_note = (f"other processes on the machine took {other:.0f} CPU-s during the {wall:.0f} s run "
                 f"({other / wall:.2f} CPUs on average of {os.cpu_count()})")
    if other / wall > 0.1:
        note("the machine was not quiet: " + load_note + "; figures from this run are noisier than usual")
    tab = table()
    cpu_note = (f"server pinned to CPU {SERVER_CPU}, load generator (wrk, curl, openssl s_time, Python clients, WsLoad) and "
                f"the backends on CPU {LOAD_CPU} (`taskset -c`)") if MULTI_CPU else "unpinned"
    versions = {
        ".NET": version(["dotnet", "--version"]),
        "nginx": version(["nginx", "-v"], r"nginx/(\S+)"),
        "HAProxy": version(["haproxy", "-v"], r"version (\S+)"),
        "YARP": "Yarp.ReverseProxy " + (re.search(r'Yarp.ReverseProxy" Version="([^"]+)"',
                                                   (ROOT / "Directory.Packages.props").read_text()) or [None, "?"])[1],
        "wrk": version(["wrk", "-v"], r"wrk (\S+)"),
        "OpenSSL": version(["openssl", "version"], r"OpenSSL (\S+)"),
        "curl": version(["curl", "--version"], r"curl (\S+)"),
    }
    commit = version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]) or "?"
    dirty = version(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"])
    md = [f"# Gatehouse side-by-side benchmark{' (SMOKE: brief runs, not figures to quote)' if SMOKE else ''}", "",
          f"- date: {started.strftime('%Y-%m-%d %H:%M UTC')}; Gatehouse at {commit}{' + uncommitted src/ changes' if dirty else ''}{' (NativeAOT build)' if AOT else ''}",
          f"- command: `{command_line()}`",
          f"- machine: {machine()}",
          f"- " + ", ".join(f"{k} {v}" for k, v in versions.items() if v),
          f"- {REPS} repetition(s) per figure: median (min–max); {DURATION} s per wrk, s_time and WsLoad run; {cpu_note}",
          f"- background: {load_note}",
          "- ratio = Gatehouse / peer on the medians; ↑ higher is better, ↓ lower is better; rows without an arrow are context (how busy each pinned CPU was: a load CPU near 100% caps every peer)",
          "- paired: where both ran in two or more repetitions (back to back, in turn first), the median and range of the ratios within a repetition; steadier than the ratio of medians when the host's speed drifts",
          f"- backend: {backend_kind} on 127.0.0.1:{backend_port}, same CPU as the load generator",
          "- every .NET process ran with " + (", ".join(f"{k}={os.environ[k]}" for k in ("DOTNET_TC_CallCountingDelayMs", "DOTNET_GCgen0size")
                                                 if k in os.environ) or "the runtime's own tiering and collector settings")
          + " (packaging/gatehouse.service sets DOTNET_TC_CallCountingDelayMs=0 and DOTNET_GCgen0size=0x600000)",
          "- TLS negotiated (with the client certificate): " + "; ".join(f"{LABEL[k]} {v}" for k, v in ctx["tls"].items()),
          "", tab, ""]
    if notes:
        md += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    text = "\n".join(md)
    print(text)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(text)
    log(f"written to {RESULT}")


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
