"""Attack 1, the noisy neighbour: the owner of the big project keeps NN_CALLS `list_tasks` calls
in flight whose filter no index serves, then goes away; afterwards Postgres is watched for the
attacker's statements that are still running."""

import asyncio
import time
from collections import Counter

import env as envmod
import http1
from stats import timeline
from victim import rpc_loop

# Values that are in no title and no description (titles are words and a number, descriptions
# "details of task N"), so that every row is tested against every pattern.
NEVER_MATCHING = [f"zq{n:04d}x" for n in range(1000)]
MAX_CALLS_PER_CLIENT = 10_000
# The attacker's running statements: the only ones on the task table with LIKE (the victim's
# get_task is a lookup by id; the server sets no application_name to tell users apart). Our own
# monitoring statement is excluded by its pid.
ATTACKER_STATEMENTS = """FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
      AND query LIKE '%LIKE%' AND query LIKE '%task%'"""
POLL_S = 0.2


def attack_params(count):
    values = NEVER_MATCHING[:count]
    # OR-ed: the description has no index at all, so no plan can avoid reading every task.
    return {"filters": [{"description": {"$containsAny": values}}, {"title": {"$containsAny": values}}]}


async def count_statements(db):
    return int(await db.query("SELECT count(*) " + ATTACKER_STATEMENTS))


async def run(env, attacker, victim_account):
    # Encoded once: 2,000 strings re-encoded per call are client work during the attacker's bursts.
    body = http1.rpc_body("list_tasks", attack_params(env.nn_values))
    victim = await rpc_loop(env, victim_account)
    await asyncio.sleep(env.idle_s)

    start = time.monotonic()
    deadline = start + env.nn_s
    answers = Counter()

    async def client():
        for _ in range(MAX_CALLS_PER_CLIENT):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                response = await http1.request(env.server, attacker.source, "POST", "/api/rpc", body,
                                               attacker.cookies, timeout=remaining)
                answers[response.label()] += 1
            except http1.Failure as failure:
                gone = failure.label == "timeout" and time.monotonic() >= deadline - 0.05
                answers["abandoned at the stop" if gone else failure.label] += 1
                # A server that refuses connections must not turn this loop into a busy one.
                await asyncio.sleep(0.01)

    async with envmod.PsqlSession(env) as db:
        peak = 0
        clients = asyncio.gather(*(client() for _ in range(env.nn_calls)))
        while not clients.done():
            peak = max(peak, await count_statements(db))
            await asyncio.wait([clients], timeout=0.5)
        await clients
        stop = time.monotonic()

        drain = await watch_drain(env, db, stop)
    phases = envmod.victim_phases(victim.samples, start, stop)
    threshold = envmod.recovery_threshold(phases["idle"])
    # After the statements are gone (or were cancelled) the victim gets RECOVERY_SEC more.
    cap = max(drain["watched_s"], 0) + env.recovery_s
    recovered = await envmod.watch_recovery(victim, stop, threshold, cap)
    await victim.stop()
    return {
        "attack": f"{env.nn_calls} concurrent list_tasks, $containsAny with {env.nn_values} values on description "
                  f"and title, for {env.nn_s:.0f} s",
        **phases,
        "recovery_s": recovered,
        "recovery_cap_s": cap,
        "timeline": timeline(victim.samples, start),
        "attacker": {"answers": dict(answers.most_common()), "statements_peak": peak, **drain},
    }


async def watch_drain(env, db, stop):
    """Polls the attacker's statements after the stop: how many were running at the stop, and
    when they were gone (the first empty poll after the last one that saw any); past DRAIN_SEC the rest are cancelled, so
    that the next attack starts clean."""
    at_stop = await count_statements(db)
    gone_at = None if at_stop else 0.0
    zero_since = None
    while time.monotonic() < stop + env.drain_s:
        polled = time.monotonic()
        running = await count_statements(db)
        if running:
            gone_at, zero_since = None, None
        else:
            if gone_at is None:
                gone_at = polled - stop
            zero_since = zero_since or polled
            # Requests waiting for a pool connection may still start statements for a while.
            if polled - zero_since >= 3:
                break
        await asyncio.sleep(POLL_S)
    cancelled = 0
    if gone_at is None:
        cancelled = int(await db.query("SELECT count(pg_cancel_backend(pid)) " + ATTACKER_STATEMENTS))
    return {
        "statements_at_stop": at_stop,
        "statements_gone_s": gone_at,
        "statements_left_at_cap": cancelled,
        "watched_s": time.monotonic() - stop,
    }
