"""The victim: another user going about their work from their own address while an attack runs.

Each loop makes one request at a time on a new connection (a client arriving, as a browser or a
load balancer's probe would), paced so that the victim itself is no load, until told to stop.
"""

import asyncio
import itertools
import random

import http1
from stats import Sample

# No loop makes more requests than this, whatever the timings.
MAX_REQUESTS = 100_000


class Loop:
    """Runs `make_request` (a coroutine factory taking the request's index) until stopped."""

    def __init__(self, make_request, pace_s):
        self.make_request = make_request
        self.pace_s = pace_s
        self.samples = []
        self._stop = asyncio.Event()
        self._task = None

    def start(self):
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self):
        for index in range(MAX_REQUESTS):
            if self._stop.is_set():
                return
            start, seconds, outcome, _ = await http1.timed(lambda: self.make_request(index))
            self.samples.append(Sample(start, seconds, outcome))
            try:
                await asyncio.wait_for(self._stop.wait(), self.pace_s)
            except asyncio.TimeoutError:
                pass

    async def stop(self):
        self._stop.set()
        await self._task


def rpc_loop(env, victim):
    """`get_me` and `get_task` (on the victim's own tasks), alternately."""
    rng = random.Random(7)

    def make_request(index):
        if index % 2 == 0:
            return http1.rpc(env.server, env.victim_addr, victim.cookies, "get_me", timeout=env.victim_timeout)
        task_id = rng.choice(victim.task_ids)
        return http1.rpc(env.server, env.victim_addr, victim.cookies, "get_task", {"id": task_id},
                         timeout=env.victim_timeout)

    return Loop(make_request, env.victim_pace).start()


def health_loop(env):
    """`GET /health/ready`, twice a second, as a load balancer would."""
    return Loop(lambda _: http1.request(env.server, env.victim_addr, "GET", "/health/ready",
                                        timeout=env.victim_timeout), 0.5).start()


def login_loop(env, accounts):
    """Logins with the right password, round robin over `accounts` (username, password), so that
    no account passes the per-user password-work budget (PWD_WORK_PER_USER a minute)."""
    turn = itertools.cycle(accounts)

    def make_request(_):
        username, pwd = next(turn)
        return http1.request(env.server, env.victim_addr, "POST", "/api/login",
                             {"username": username, "pwd": pwd}, timeout=env.victim_timeout)

    return Loop(make_request, env.login_pace).start()
