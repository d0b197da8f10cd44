"""Attacks 3 and 4, on accounts: the signup flood (many clients of one address signing up while
other users log in) and the lockout (failed logins for the victim's username from many addresses,
then the owner logging in with and without the device cookie of an earlier login)."""

import asyncio
import time
from collections import Counter

import env as envmod
import http1
from stats import timeline
from victim import login_loop, rpc_loop

MAX_SIGNUPS_PER_CLIENT = 10_000
LOCKOUT_CONCURRENCY = 20
LOCKOUT_CAP_S = 120.0
DEVICE_COOKIE = "device"


async def signup_flood(env, login_accounts):
    logins = await login_loop(env, login_accounts)
    # Logins are slow (a password hash each) and paced, so their baseline gets twice as long.
    await asyncio.sleep(2 * env.idle_s)

    start = time.monotonic()
    deadline = start + env.signup_s
    answers = []  # (answered at, label)

    async def client(k):
        for n in range(MAX_SIGNUPS_PER_CLIENT):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            body = {"username": f"flood{k}x{n}", "pwd": "flood-password-1"}
            try:
                response = await http1.request(env.server, env.signup_addr, "POST", "/api/signup", body,
                                               timeout=remaining)
                label = response.label()
            except http1.Failure as failure:
                gone = failure.label == "timeout" and time.monotonic() >= deadline - 0.05
                label = "abandoned at the stop" if gone else failure.label
                # A server that refuses connections must not turn this loop into a busy one.
                await asyncio.sleep(0.01)
            answers.append((time.monotonic(), label))

    await asyncio.gather(*(client(k) for k in range(env.signup_clients)))
    stop = time.monotonic()

    phases = envmod.victim_phases(logins.samples, start, stop)
    threshold = envmod.recovery_threshold(phases["idle"])
    recovered = await envmod.watch_recovery(logins, stop, threshold, env.recovery_s)
    await logins.stop()
    created = int(await envmod.psql(env, "SELECT count(*) FROM \"user\" WHERE username LIKE 'flood%'"))
    labels = Counter(label for _, label in answers)
    ordered = [label for _, label in sorted(answers)]
    first_refusal = next((i for i, label in enumerate(ordered) if label.startswith("429")), None)
    first_refusal_at = next((at for at, label in sorted(answers) if label.startswith("429")), None)
    return {
        "attack": f"{env.signup_clients} clients from {env.signup_addr} signing up for {env.signup_s:.0f} s; "
                  f"the victim logs in (round robin over {len(login_accounts)} accounts)",
        **phases,
        "recovery_s": recovered,
        "recovery_cap_s": env.recovery_s,
        "timeline": timeline(logins.samples, start),
        "attacker": {
            "answers": dict(labels.most_common()),
            "accounts_created": created,
            "signups_per_addr": env.signups_per_addr,
            "first_429_s": None if first_refusal_at is None else round(first_refusal_at - start, 2),
            "accepted_after_first_429": 0 if first_refusal is None
            else sum(label == "200" for label in ordered[first_refusal:]),
        },
    }


async def lockout(env, owner):
    victim = await rpc_loop(env, owner)
    await asyncio.sleep(env.idle_s)

    start = time.monotonic()
    attempts = asyncio.Queue()
    for i in range(env.lockout_failures):
        attempts.put_nowait((f"127.0.1.{1 + i % env.lockout_addrs}", i))
    answers = Counter()
    deadline = start + LOCKOUT_CAP_S

    async def client():
        while not attempts.empty() and time.monotonic() < deadline:
            source, i = attempts.get_nowait()
            body = {"username": owner.username, "pwd": f"wrong-password-{i}"}
            try:
                response = await http1.request(env.server, source, "POST", "/api/login", body,
                                               timeout=max(0.1, min(10.0, deadline - time.monotonic())))
                answers[response.label()] += 1
            except http1.Failure as failure:
                answers[failure.label] += 1

    await asyncio.gather(*(client() for _ in range(LOCKOUT_CONCURRENCY)))
    stop = time.monotonic()

    # Without the device cookie first: a successful login forgives the username's failures, which
    # would make the second try meaningless.
    device = owner.cookies.get(DEVICE_COOKIE)
    without = await owner_login(env, owner, {})
    with_device = await owner_login(env, owner, {DEVICE_COOKIE: device} if device else {})

    phases = envmod.victim_phases(victim.samples, start, stop)
    threshold = envmod.recovery_threshold(phases["idle"])
    recovered = await envmod.watch_recovery(victim, stop, threshold, env.recovery_s)
    await victim.stop()
    return {
        "attack": f"{env.lockout_failures} failed logins for '{owner.username}' from {env.lockout_addrs} addresses "
                  f"(127.0.1.1-127.0.1.{env.lockout_addrs}), {LOCKOUT_CONCURRENCY} at once",
        **phases,
        "recovery_s": recovered,
        "recovery_cap_s": env.recovery_s,
        "timeline": timeline(victim.samples, start),
        "attacker": {"answers": dict(answers.most_common()), "seconds": round(stop - start, 1),
                     "left_untried": attempts.qsize()},
        "owner": {"device_cookie_given": device is not None, "with_device": with_device, "without": without},
    }


async def owner_login(env, owner, cookies):
    """The owner's login with the right password (and `cookies`): its label and milliseconds."""
    body = {"username": owner.username, "pwd": owner.pwd}
    _, seconds, outcome, response = await http1.timed(
        lambda: http1.request(env.server, owner.source, "POST", "/api/login", body, cookies, timeout=30))
    label = response.label() if response is not None else outcome
    return {"label": label, "ms": round(seconds * 1000, 1)}
