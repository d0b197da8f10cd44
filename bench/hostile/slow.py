"""Attack 2, slow connections: SLOW_CONNECTIONS connections from one address, each with half a
request line and then nothing, held until SLOW_HOLD_SEC after the start, spread over as many
worker processes (slow_worker.py) as the file limit needs. Meanwhile the victim works and health
checks are made from another address, and the server's open descriptors are sampled."""

import asyncio
import json
import math
import os
import resource
import sys
import time
from collections import Counter

import env as envmod
from stats import percentile, timeline
from victim import health_loop, rpc_loop

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "slow_worker.py")
# Connections per worker process at most (fewer when the file limit is lower).
PER_WORKER = 5000
CONNECT_TIMEOUT_S = 3.0
# A connection closed within this long of its half request was refused at once (a cap).
AT_ONCE_S = 1.0
# How late after the header timeout a close still counts as the timeout's.
TIMEOUT_SLACK_S = 2.0


def server_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def server_file_limit(pid):
    try:
        with open(f"/proc/{pid}/limits") as limits:
            for line in limits:
                if line.startswith("Max open files"):
                    return int(line.split()[3])
    except (OSError, ValueError, IndexError):
        pass
    return None


async def spawn_workers(env, count, until):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    per_worker = max(100, min(PER_WORKER, hard - 100)) if hard != resource.RLIM_INFINITY else PER_WORKER
    workers = math.ceil(count / per_worker)
    shares = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    processes = [await asyncio.create_subprocess_exec(
        sys.executable, WORKER, env.slow_addr, env.server[0], str(env.server[1]), str(share), repr(until),
        str(CONNECT_TIMEOUT_S), stdout=asyncio.subprocess.PIPE) for share in shares]
    return processes, per_worker


async def collect(processes, deadline):
    results = []
    for process in processes:
        try:
            out, _ = await asyncio.wait_for(process.communicate(), max(1.0, deadline - time.monotonic()))
            results.append(json.loads(out))
        except (asyncio.TimeoutError, ValueError):
            process.kill()
            await process.wait()
            results.append({"connections": [], "failures": {"worker gave no result": 1}, "file_limit": None})
    return results


async def run(env, victim_account):
    victim = await rpc_loop(env, victim_account)
    health = await health_loop(env)
    await asyncio.sleep(env.idle_s)

    start = time.monotonic()
    until = start + env.slow_hold_s
    processes, per_worker = await spawn_workers(env, env.slow_count, until)
    fds_peak = 0
    waiting = asyncio.ensure_future(collect(processes, until + 30))
    while not waiting.done():
        fds_peak = max(fds_peak, server_fds(env.server_pid) or 0)
        await asyncio.wait([waiting], timeout=0.5)
    results = await waiting
    stop = time.monotonic()

    phases = envmod.victim_phases(victim.samples, start, stop)
    threshold = envmod.recovery_threshold(phases["idle"])
    recovered = await envmod.watch_recovery(victim, stop, threshold, env.recovery_s)
    await victim.stop()
    await health.stop()
    health_phases = envmod.victim_phases(health.samples, start, stop)
    return {
        "attack": f"{env.slow_count} connections from {env.slow_addr} with half a request line, "
                  f"held until {env.slow_hold_s:.0f} s after the start",
        **phases,
        "health": health_phases,
        "recovery_s": recovered,
        "recovery_cap_s": env.recovery_s,
        "timeline": timeline(victim.samples, start),
        "health_timeline": timeline(health.samples, start),
        "attacker": summarize(env, results, start, until, len(processes), per_worker,
                              fds_peak, server_file_limit(env.server_pid)),
    }


def summarize(env, results, start, until, workers, per_worker, fds_peak, server_limit):
    connections = [c for r in results for c in r["connections"]]
    failures = Counter()
    for r in results:
        failures.update(r["failures"])
    closed = [c for c in connections if c[2] is not None]
    # How long after its half request the server closed each (after connecting, if none was sent).
    delays = [c[2] - (c[1] if c[1] is not None else c[0]) for c in closed]
    at_once = sum(d < AT_ONCE_S for d in delays)
    by_timeout = sum(AT_ONCE_S <= d <= env.header_timeout_s + TIMEOUT_SLACK_S for d in delays)
    events = sorted([(c[0], 1) for c in connections] + [(c[2] if c[2] is not None else until, -1) for c in connections])
    held = peak_held = 0
    for _, step in events:
        held += step
        peak_held = max(peak_held, held)
    return {
        "workers": workers,
        "per_worker": per_worker,
        "worker_file_limits": sorted({r.get("file_limit") for r in results}, key=str),
        "established": len(connections),
        "connect_failures": dict(failures.most_common()),
        "held_at_once_peak": peak_held,
        "all_open_after_s": _round(max(c[0] for c in connections) - start if connections else None),
        "closed_by_server": len(closed),
        "closed_at_once": at_once,
        "closed_by_timeout": by_timeout,
        "closed_later": len(closed) - at_once - by_timeout,
        "still_open_at_end": len(connections) - len(closed),
        "close_kinds": dict(Counter(c[3] for c in connections).most_common()),
        "close_delay_p50_s": _round(percentile(delays, 50)),
        "close_delay_max_s": _round(max(delays) if delays else None),
        "first_close_s": _round(min(c[2] for c in closed) - start if closed else None),
        "last_close_s": _round(max(c[2] for c in closed) - start if closed else None),
        "server_fds_peak": fds_peak,
        "server_file_limit": server_limit,
    }


def _round(value):
    return None if value is None else round(value, 2)
