#!/usr/bin/env python3
"""Idle-connection client for bench/compare scenario 4.

  idle_clients.py HOST PORT PATH N [--parallel 64] [--cert CERT --key KEY | --certs DIR]

Opens N TLS connections (with the client certificate CERT and KEY when given: mutual TLS; with
--certs, connection i presents DIR/i.crt and DIR/i.key for i modulo how many pairs DIR holds, so
the server sees that many distinct keys), sends one keep-alive GET PATH on each and
reads its answer, then keeps all of them open and idle. Prints "open N" (N = how many are
open) on stdout when done, then waits for a line on stdin (or EOF) and resets every connection.
"""
import asyncio
import resource
import socket
import ssl
import struct
import sys
from pathlib import Path


async def open_one(host, port, path, ctx, sem, conns, failures):
    async with sem:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=ctx, server_hostname="localhost"), 30)
            writer.write(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path.encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await asyncio.wait_for(reader.readexactly(length), 30)
            conns.append((reader, writer))
        except Exception as e:  # noqa: BLE001 - counted and reported
            failures.append(repr(e))


def option(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


async def main():
    host, port, path, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    parallel = int(option("--parallel", "64"))
    # one descriptor per connection: the soft limit up to the hard one (the harness raises both)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    pairs = [(option("--cert"), option("--key"))] if option("--cert") else [(None, None)]
    if option("--certs"):
        pairs = [(f"{option('--certs')}/{i}.crt", f"{option('--certs')}/{i}.key")
                 for i in range(sum(1 for _ in Path(option("--certs")).glob("*.crt")))]
    contexts = []
    for cert, key in pairs:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if cert:
            ctx.load_cert_chain(cert, key)
        contexts.append(ctx)
    sem = asyncio.Semaphore(parallel)
    conns, failures = [], []
    await asyncio.gather(*(open_one(host, port, path, contexts[i % len(contexts)], sem, conns, failures)
                           for i in range(n)))
    if failures:
        print("failures", len(failures), failures[0], file=sys.stderr, flush=True)
    print("open", len(conns), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    # Reset, not closed: a TLS close makes the server answer with its own close first, and each of its
    # sockets then waits out Linux's 60 s TIME_WAIT; the run measured next would share the kernel with
    # thousands of them. A reset leaves nothing behind on either side.
    linger = struct.pack("ii", 1, 0)
    for _, writer in conns:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        writer.transport.abort()


if __name__ == "__main__":
    asyncio.run(main())
