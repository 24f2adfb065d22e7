#!/usr/bin/env python3
"""Streaming client for bench/compare scenario 5.

  feed_client.py HOST PORT PATH [--tls] [--timeout S]

Opens one connection (TLS without a client certificate when --tls), GETs PATH, decodes the
chunked (or close-delimited) answer, and for every {"seq":N,"t":NS} line it receives prints
the delay between the backend's write (NS, CLOCK_MONOTONIC) and this process's receipt, in
microseconds: one JSON line {"delays_us":[...],"first_us":...} at the end. The backend and
this client run on the same machine, so their monotonic clocks are the same clock.
"""
import json
import re
import socket
import ssl
import sys
import time

LINE = re.compile(rb'\{"seq":(\d+),"t":(\d+)\}\n')


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    use_tls = "--tls" in sys.argv
    timeout = float(sys.argv[sys.argv.index("--timeout") + 1]) if "--timeout" in sys.argv else 30.0
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if use_tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        sock = ctx.wrap_socket(sock, server_hostname="localhost")
    sock.sendall(b"GET %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n" % path.encode())

    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise SystemExit("connection closed before the response head")
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status + b" ":
        raise SystemExit("unexpected status: " + status.decode(errors="replace"))
    chunked = b"transfer-encoding: chunked" in head.lower()

    delays, raw, body = [], rest, b""
    done = False
    arrived = time.monotonic_ns()
    while not done:
        # decode what we have
        if chunked:
            while True:
                nl = raw.find(b"\r\n")
                if nl < 0:
                    break
                size = int(raw[:nl].split(b";")[0], 16)
                if size == 0:
                    done = True
                    break
                if len(raw) < nl + 2 + size + 2:
                    break
                body += raw[nl + 2: nl + 2 + size]
                raw = raw[nl + 2 + size + 2:]
        else:
            body, raw = body + raw, b""
        while True:
            m = LINE.search(body)
            if not m:
                break
            delays.append((arrived - int(m.group(2))) / 1000.0)
            body = body[m.end():]
        if done:
            break
        data = sock.recv(65536)
        arrived = time.monotonic_ns()
        if not data:
            break
        raw += data
    sock.close()
    print(json.dumps({"delays_us": delays, "first_us": delays[0] if delays else None}))


if __name__ == "__main__":
    main()
