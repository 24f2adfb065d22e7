#!/usr/bin/env python3
"""Small HTTP/1.1 backends for bench/compare (stdlib only, asyncio).

  backend.py feed PORT [--first-ms 500] [--interval-ms 100] [--events 10]
      A continuous-feed backend, like CouchDB's `_changes?feed=continuous`: answers every
      request at once with a chunked 200 head, then after --first-ms writes one JSON line per
      change, --interval-ms apart, each carrying the monotonic clock (ns) at the moment of its
      write: {"seq":N,"t":NS}. The client subtracts it from its own receipt time.
  backend.py static PORT FILE
      A keep-alive server that answers every GET with FILE (fallback when nginx is missing).

Prints "ready PORT" on stdout when listening.
"""
import asyncio
import sys
import time


async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    return head


async def feed(reader, writer, first_ms, interval_ms, events):
    try:
        while True:
            try:
                await read_head(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(first_ms / 1000)
            for seq in range(1, events + 1):
                line = b'{"seq":%d,"t":%d}\n' % (seq, time.monotonic_ns())
                writer.write(b"%x\r\n%s\r\n" % (len(line), line))
                await writer.drain()
                if seq < events:
                    await asyncio.sleep(interval_ms / 1000)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def static(reader, writer, body):
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
    try:
        while True:
            try:
                await read_head(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            writer.write(head + body)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


def option(args, name, default):
    if name in args:
        return int(args[args.index(name) + 1])
    return default


async def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "feed":
        first = option(sys.argv, "--first-ms", 500)
        interval = option(sys.argv, "--interval-ms", 100)
        events = option(sys.argv, "--events", 10)
        handler = lambda r, w: feed(r, w, first, interval, events)
    else:
        with open(sys.argv[3], "rb") as f:
            body = f.read()
        handler = lambda r, w: static(r, w, body)
    server = await asyncio.start_server(handler, "127.0.0.1", port, backlog=4096)
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
