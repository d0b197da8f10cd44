"""The victim: another user going about their work from their own address while an attack runs.

Each loop makes one request at a time on a new connection (a client arriving, as a browser or a
load balancer's probe would), paced so that the victim itself is no load, until told to stop.

Each loop runs in a process of its own (victim_process.py), with its own event loop: on a real
deployment the victim is another machine, and timed on the attackers' event loop its latency
would include the client's own delays whenever the attackers burst. The process streams its
samples as they come; they land in `samples` here, which the recovery watch reads meanwhile.
"""

import asyncio
import json
import os
import sys

from stats import Sample

PROCESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "victim_process.py")
START_TIMEOUT_S = 10.0
# After its stop a loop finishes the request in flight (at most the victim's timeout) and exits.
STOP_GRACE_S = 5.0
# Every loop whose process may still run, so that `kill_all` can end them if the run ends early.
_running = set()


class Loop:
    """A victim loop's process: `samples` (stats.Sample) grows as its requests are answered."""

    def __init__(self, spec, stop_timeout_s):
        self.spec = spec
        self.stop_timeout_s = stop_timeout_s
        self.samples = []
        self._process = None
        self._reader = None
        self._stopping = False

    async def start(self):
        """Starts the process and waits (bounded) until it is about to make its first request."""
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, PROCESS, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        _running.add(self)
        try:
            self._process.stdin.write(json.dumps(self.spec).encode() + b"\n")
            await self._process.stdin.drain()
            ready = await asyncio.wait_for(self._process.stdout.readline(), START_TIMEOUT_S)
        except (asyncio.TimeoutError, OSError):
            ready = b""
        if ready.strip() != b"ready":
            await self._kill()
            raise SystemExit(f"hostile: the victim process ({self.spec['kind']}) did not start")
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self):
        # Bounded by the process: it makes at most victim_process.MAX_REQUESTS requests.
        async for line in self._process.stdout:
            try:
                start, seconds, outcome = json.loads(line)
            except ValueError:
                continue
            self.samples.append(Sample(start, seconds, outcome))
        code = await self._process.wait()
        _running.discard(self)
        if not self._stopping:
            print(f"hostile: the victim process ({self.spec['kind']}) ended by itself (exit status {code}) "
                  f"after {len(self.samples)} requests", file=sys.stderr, flush=True)

    async def stop(self):
        """Tells the process to stop, and waits for its last samples; kills it if it does not end
        in time."""
        self._stopping = True
        try:
            self._process.stdin.write(b"stop\n")
            await self._process.stdin.drain()
            self._process.stdin.close()
        except (OSError, RuntimeError):
            pass  # it has ended already
        try:
            await asyncio.wait_for(asyncio.shield(self._reader), self.stop_timeout_s)
        except asyncio.TimeoutError:
            print(f"hostile: the victim process ({self.spec['kind']}) did not stop in {self.stop_timeout_s:.1f} s; "
                  "killed", file=sys.stderr, flush=True)
            await self._kill()
            await self._reader

    def kill(self):
        self._stopping = True
        if self._process.returncode is None:
            self._process.kill()
        _running.discard(self)

    async def _kill(self):
        self.kill()
        await self._process.wait()


def kill_all():
    """Kills every victim process still running (the run is ending without having stopped it)."""
    for loop in list(_running):
        loop.kill()


def _spec(env, kind, pace_s, **details):
    return {"kind": kind, "server": list(env.server), "source": env.victim_addr, "timeout": env.victim_timeout,
            "pace": pace_s, "max_seconds": lifetime_s(env), **details}


def lifetime_s(env):
    """A backstop, should the run never stop a loop: every attack's durations added up, and a
    margin; more than any one attack with its baseline, drain and recovery watch takes."""
    return 2 * env.idle_s + env.nn_s + env.drain_s + env.slow_hold_s + env.signup_s + 2 * env.recovery_s + 300


def _loop(env, spec):
    return Loop(spec, env.victim_timeout + STOP_GRACE_S).start()


def rpc_loop(env, victim):
    """`get_me` and `get_task` (on the victim's own tasks), alternately. Awaitable: the loop, started."""
    return _loop(env, _spec(env, "rpc", env.victim_pace, cookies=victim.cookies, task_ids=victim.task_ids))


def health_loop(env):
    """`GET /health/ready`, twice a second, as a load balancer would. Awaitable: the loop, started."""
    return _loop(env, _spec(env, "health", 0.5))


def login_loop(env, accounts):
    """Logins with the right password, round robin over `accounts` (username, password), so that
    no account passes the per-user password-work budget (PWD_WORK_PER_USER a minute). Awaitable:
    the loop, started."""
    return _loop(env, _spec(env, "login", env.login_pace, accounts=[list(a) for a in accounts]))
