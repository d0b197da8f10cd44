"""What a run of the hostile-load benchmark is told by its environment, and its small helpers:
the accounts it uses, Postgres queries, and waiting for the victim to recover."""

import asyncio
import os
import time
from dataclasses import dataclass, field

import http1
from stats import phase, recovery


def _num(name, default, kind=float):
    value = os.environ.get(name, "")
    return kind(value) if value.strip() else default


@dataclass
class Env:
    server: tuple
    db: str
    server_pid: int
    bench_pwd: str
    victim_addr: str = "127.0.0.3"
    setup_addr: str = "127.0.0.1"
    # Each phase of the victim: idle baseline before the attack, and at most this long after it
    # stops to get back to normal.
    idle_s: float = field(default_factory=lambda: _num("HOSTILE_IDLE_SEC", 5.0))
    recovery_s: float = field(default_factory=lambda: _num("HOSTILE_RECOVERY_SEC", 15.0))
    victim_timeout: float = field(default_factory=lambda: _num("HOSTILE_VICTIM_TIMEOUT_SEC", 5.0))
    victim_pace: float = 0.02
    login_pace: float = 0.1
    # 1. Noisy neighbour.
    nn_addr: str = "127.0.0.2"
    nn_calls: int = field(default_factory=lambda: _num("HOSTILE_NN_CALLS", 32, int))
    nn_s: float = field(default_factory=lambda: _num("HOSTILE_NN_SEC", 20.0))
    nn_values: int = 1000
    drain_s: float = field(default_factory=lambda: _num("HOSTILE_DRAIN_SEC", 60.0))
    # 2. Slow connections.
    slow_addr: str = "127.0.0.4"
    slow_count: int = field(default_factory=lambda: _num("HOSTILE_SLOW_CONNECTIONS", 20000, int))
    slow_hold_s: float = field(default_factory=lambda: _num("HOSTILE_SLOW_HOLD_SEC", 25.0))
    # 3. Signup flood.
    signup_addr: str = "127.0.0.5"
    signup_clients: int = field(default_factory=lambda: _num("HOSTILE_SIGNUP_CLIENTS", 16, int))
    signup_s: float = field(default_factory=lambda: _num("HOSTILE_SIGNUP_SEC", 10.0))
    # 4. Lockout.
    lockout_failures: int = field(default_factory=lambda: _num("HOSTILE_LOCKOUT_FAILURES", 1000, int))
    lockout_addrs: int = field(default_factory=lambda: _num("HOSTILE_LOCKOUT_ADDRS", 100, int))
    # The server's limits the criteria refer to (its defaults unless the environment sets them).
    header_timeout_s: float = field(default_factory=lambda: _num("HEADER_READ_TIMEOUT_SEC", 10.0))
    signups_per_addr: int = field(default_factory=lambda: _num("SIGNUPS_PER_ADDR", 20, int))


@dataclass
class Account:
    username: str
    pwd: str
    source: str
    cookies: dict = field(default_factory=dict)
    task_ids: list = field(default_factory=list)


async def signup(env, account):
    try:
        response = await http1.request(env.server, env.setup_addr, "POST", "/api/signup",
                                       {"username": account.username, "pwd": account.pwd}, timeout=30)
    except http1.Failure as failure:
        raise SystemExit(f"hostile: signup of {account.username}: {failure.label}") from None
    if response.status != 200:
        raise SystemExit(f"hostile: signup of {account.username} answered {response.label()}")


async def login(env, account):
    """Logs `account` in from its own address; keeps every cookie it is given (session, device)."""
    try:
        response = await http1.request(env.server, account.source, "POST", "/api/login",
                                       {"username": account.username, "pwd": account.pwd}, timeout=30)
    except http1.Failure as failure:
        raise SystemExit(f"hostile: login of {account.username}: {failure.label}") from None
    if response.status != 200:
        raise SystemExit(f"hostile: login of {account.username} answered {response.label()}")
    account.cookies.update(response.cookies())


async def psql(env, sql, timeout=10.0):
    """The output of one statement (unaligned, tuples only), run by psql against the database."""
    process = await asyncio.create_subprocess_exec(
        "psql", "-h", "127.0.0.1", "-U", "postgres", "-d", env.db, "-Atc", sql,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise SystemExit(f"hostile: psql took over {timeout} s: {sql[:80]}")
    if process.returncode != 0:
        raise SystemExit(f"hostile: psql failed: {err.decode().strip()}")
    return out.decode().strip()


class PsqlSession:
    """One psql process, and so one Postgres backend, for many queries with a one-line answer:
    `async with PsqlSession(env) as db: await db.query(sql)`. A poll every 0.2 s by `psql` would
    start a process and a backend each time, CPU that the server and Postgres share."""

    def __init__(self, env):
        self.env = env
        self._process = None

    async def __aenter__(self):
        # -X: no ~/.psqlrc; ON_ERROR_STOP: a failed statement ends psql, so that `query` sees the
        # end of its output at once (the error itself goes to our stderr) instead of waiting.
        self._process = await asyncio.create_subprocess_exec(
            "psql", "-h", "127.0.0.1", "-U", "postgres", "-d", self.env.db, "-X", "-q", "-At",
            "-v", "ON_ERROR_STOP=1", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        return self

    async def query(self, sql, timeout=10.0):
        """The answer of `sql` (one row of one column), as text."""
        try:
            self._process.stdin.write(sql.encode() + b";\n")
            await self._process.stdin.drain()
            line = await asyncio.wait_for(self._process.stdout.readline(), timeout)
        except (asyncio.TimeoutError, OSError):
            line = b""
        if not line:
            await self.close()
            raise SystemExit(f"hostile: psql gave no answer within {timeout} s: {sql[:80]}")
        return line.decode().strip()

    async def close(self):
        if self._process.returncode is None:
            self._process.stdin.close()  # the end of its input: psql quits
            try:
                await asyncio.wait_for(self._process.wait(), 5)
            except asyncio.TimeoutError:
                self._process.kill()
                await self._process.wait()

    async def __aexit__(self, *_):
        await self.close()


async def wait_ready(env, seconds=30.0):
    """Waits (bounded) until /health/ready answers 200 from the victim's address; True if it did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            response = await http1.request(env.server, env.victim_addr, "GET", "/health/ready", timeout=2)
            if response.status == 200:
                return True
        except http1.Failure:
            pass
        await asyncio.sleep(0.2)
    return False


async def watch_recovery(loop, stop, threshold_s, cap_s, done=lambda: True):
    """Waits until the victim `loop` has recovered after `stop` (see stats.recovery) and `done()`
    holds, or `cap_s` seconds after `stop`; the recovery in seconds, or None."""
    while time.monotonic() < stop + cap_s:
        if recovery(loop.samples, stop, threshold_s) is not None and done():
            break
        await asyncio.sleep(0.25)
    return recovery(loop.samples, stop, threshold_s)


def victim_phases(samples, start, stop):
    """The victim's idle baseline (before `start`) and the attack (`start` to `stop`)."""
    return {"idle": phase(samples, 0, start), "during": phase(samples, start, stop)}


def recovery_threshold(idle):
    """Back to normal means: within twice the idle p99."""
    return 2 * (idle["p99_ms"] or 0) / 1000
