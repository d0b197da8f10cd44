"""One victim loop in a process of its own (started by victim.py), so that its requests are timed
by an event loop that does nothing else: an attacker's burst in the benchmark's main process
(encoding requests, reading answers, starting psql) cannot delay them.

    python3 victim_process.py

Reads one line of JSON from stdin, the loop to run (victim.py's `spec`: kind rpc, health or login,
server, source address, timeout, pace, and the kind's cookies, task ids or accounts; on stdin, not
the command line, since it holds session cookies and passwords). Writes `ready`, then one line per
request as it is answered: [start, seconds, outcome] (start a time.monotonic() value: the clock is
system-wide, so the parent compares it with its own). Stops after the request in flight at the
next line on stdin or its end (the parent stopped it, or is gone), or at MAX_REQUESTS or after
`max_seconds`, whichever comes first.
"""

import asyncio
import itertools
import json
import os
import random
import sys
import time

import http1

# No loop makes more requests than this, whatever the timings.
MAX_REQUESTS = 100_000
READY = "ready"


def request_factory(spec):
    """A coroutine factory taking the request's index: the kind of request `spec` asks for."""
    server, source, timeout = tuple(spec["server"]), spec["source"], spec["timeout"]
    kind = spec["kind"]
    if kind == "rpc":
        # `get_me` and `get_task` (on the victim's own tasks), alternately.
        rng = random.Random(7)
        cookies, task_ids = spec["cookies"], spec["task_ids"]

        def make_request(index):
            if index % 2 == 0:
                return http1.rpc(server, source, cookies, "get_me", timeout=timeout)
            return http1.rpc(server, source, cookies, "get_task", {"id": rng.choice(task_ids)}, timeout=timeout)

        return make_request
    if kind == "health":
        return lambda _: http1.request(server, source, "GET", "/health/ready", timeout=timeout)
    if kind == "login":
        turn = itertools.cycle(spec["accounts"])

        def make_request(_):
            username, pwd = next(turn)
            return http1.request(server, source, "POST", "/api/login", {"username": username, "pwd": pwd},
                                 timeout=timeout)

        return make_request
    raise SystemExit(f"victim_process: unknown kind {kind!r}")


async def stdin_reader():
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def emit(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def run(spec, stop):
    make_request = request_factory(spec)
    pace_s = spec["pace"]
    deadline = time.monotonic() + spec["max_seconds"]
    for index in range(MAX_REQUESTS):
        if stop.is_set() or time.monotonic() >= deadline:
            return
        start, seconds, outcome, _ = await http1.timed(lambda: make_request(index))
        emit(json.dumps([start, seconds, outcome]))
        try:
            await asyncio.wait_for(stop.wait(), pace_s)
        except asyncio.TimeoutError:
            pass


async def main():
    commands = await stdin_reader()
    spec = json.loads(await commands.readline())
    stop = asyncio.Event()

    async def stop_on_command():
        await commands.readline()  # a line or the end of stdin: either way, stop
        stop.set()

    watcher = asyncio.create_task(stop_on_command())
    emit(READY)
    try:
        await run(spec, stop)
    finally:
        watcher.cancel()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except BrokenPipeError:
        # The parent is gone: nobody to report to (and nothing to flush to at exit either).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
