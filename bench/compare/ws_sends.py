#!/usr/bin/env python3
"""Sends and server CPU per WebSocket echo (issue 22): perf counts the echo host's send syscalls over one
10 s WsLoad run (8 conns x 4 in flight). Usage: ws_sends.py OUTDIR gatehouse|kestrel SIZE, OUTDIR a
harness build (bench/compare/out). Hold the bench lock. Prints one JSON line."""
import json, os, signal, subprocess, sys, time, socket
out, peer, size = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]  # the config names files from /tmp
pki = f"{out}/pki"
if peer == "gatehouse":
    cfg = {"listen": [{"address": "127.0.0.1", "port": 0, "tls": True, "clientCertificate": "required"}],
           "tls": {"certificate": f"{pki}/server.crt", "key": f"{pki}/server.key"},
           "trust": {"cas": [{"name": "user", "certificate": f"{pki}/ca.crt"}]},
           "routes": [{"kind": "websocket", "prefix": "/echo/", "name": "echo"}],
           "rules": [{"principals": ["ca:user"], "proxy": ["echo"]}],
           "limits": {"maxConnections": 100000, "maxConnectionsPerAddress": 100000, "maxPendingHandshakesPerAddress": 100000, "maxConnectionsPerPrincipal": 100000}}
    path = f"/tmp/ws-sends-{os.getpid()}.json"
    open(path, "w").write(json.dumps(cfg))
    argv = ["taskset", "-c", "1", "dotnet", f"{out}/ws-gatehouse/ws-echo-gatehouse.dll", "--config", path]
else:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    argv = ["taskset", "-c", "1", "dotnet", f"{out}/ws-kestrel/ws-echo-kestrel.dll", "--port", str(port),
            "--cert", f"{pki}/server.crt", "--key", f"{pki}/server.key", "--ca", f"{pki}/ca.crt"]
env = dict(os.environ, DOTNET_TC_CallCountingDelayMs="0")
proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
try:
    ready = json.loads(proc.stdout.readline())
    port = ready["port"]
    load = lambda d, w: subprocess.run(["taskset", "-c", "0", "dotnet", f"{out}/ws-load/ws-load.dll", "--url", f"wss://127.0.0.1:{port}/echo/",
                         "--cert", f"{pki}/client.crt", "--key", f"{pki}/client.key", "--conns", "8", "--size", size,
                         "--inflight", "4", "--duration", str(d), "--warmup", str(w)], capture_output=True, text=True, env=env)
    load(3, 0)  # warm-up run, not counted
    perf = subprocess.Popen(["perf", "stat", "-x,", "-e", "syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendto,syscalls:sys_enter_write,syscalls:sys_enter_writev",
                             "-p", str(proc.pid)], stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    cpu = lambda: sum(int(x) for x in open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()[11:13]) / os.sysconf("SC_CLK_TCK")
    c0 = cpu()
    r = load(10, 0)
    c1 = cpu()
    perf.send_signal(signal.SIGINT)
    _, err = perf.communicate()
    res = json.loads(r.stdout.strip().splitlines()[-1])
    counts = {l.split(",")[2].split(":")[-1]: int(l.split(",")[0]) for l in err.strip().splitlines() if l and l[0].isdigit()}
    sends = sum(counts.values())
    print(json.dumps({"peer": peer, "size": int(size), "total_echoes": res["total"], "msgs_per_s": res["msgs_per_s"], "syscalls": counts,
                      "sends_per_echo": round(sends / res["total"], 3), "server_cpu_us_per_echo": round((c1 - c0) * 1e6 / res["total"], 1)}))
finally:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
