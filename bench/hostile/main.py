"""The hostile-load benchmark (issue 9) against a running server: sets up the users, runs the four
attacks one after the other while a victim works, prints a block per attack and the summary table.

    python3 bench/hostile/main.py HOST:PORT SERVER_PID DATABASE OUT_DIR

BENCH_PWD is the password of the user 'bench' (the owner of the big project). Durations and
counts come from HOSTILE_* variables (see bench/hostile.sh). Exit status 0 when every attack ran,
whatever its verdict (HOSTILE_STRICT=1: 1 when a criterion failed).
"""

import asyncio
import json
import os
import sys
import time

import accounts as account_attacks
import env as envmod
import http1
import noisy
import report
import slow
from env import Account, Env
from victim import kill_all as kill_victim_processes

VICTIM_TASKS = 20
LOGIN_ACCOUNTS = 12
ATTACKS = ("noisy", "slow", "signup", "lockout")


async def prepare(env):
    attacker = Account("bench", env.bench_pwd, env.nn_addr)
    await envmod.login(env, attacker)

    victim = Account("victim", "victim-password-1", env.victim_addr)
    await envmod.signup(env, victim)
    await envmod.login(env, victim)
    created = await http1.rpc(env.server, victim.source, victim.cookies, "create_project",
                              {"data": {"name": "victim's project"}}, timeout=10)
    if not created.ok():
        raise SystemExit(f"hostile: create_project answered {created.label()}")
    project_id = created.json()["result"]["data"]["id"]
    batch = [{"jsonrpc": "2.0", "id": i, "method": "create_task",
              "params": {"data": {"project_id": project_id, "title": f"victim task {i}"}}} for i in range(VICTIM_TASKS)]
    answer = await http1.request(env.server, victim.source, "POST", "/api/rpc", batch, victim.cookies, timeout=10)
    entries = answer.json()
    if answer.status != 200 or not isinstance(entries, list) or not all("result" in e for e in entries):
        raise SystemExit(f"hostile: creating the victim's tasks answered {answer.status}")
    victim.task_ids = [entry["result"]["data"]["id"] for entry in entries]

    # Accounts whose logins the signup flood's victim makes (one account could log in only
    # PWD_WORK_PER_USER times a minute). Signed up from the set-up address, under its limit.
    logins = [Account(f"probe{i}", f"probe-password-{i}", env.victim_addr) for i in range(LOGIN_ACCOUNTS)]
    for account in logins:
        await envmod.signup(env, account)
    return attacker, victim, [(a.username, a.pwd) for a in logins]


async def main():
    host, port = sys.argv[1].rsplit(":", 1)
    env = Env(server=(host, int(port)), server_pid=int(sys.argv[2]), db=sys.argv[3], bench_pwd=os.environ["BENCH_PWD"])
    out_dir = sys.argv[4]
    only = [name for name in os.environ.get("HOSTILE_ONLY", ",".join(ATTACKS)).split(",") if name]
    attacker, victim, login_accounts = await prepare(env)
    runs = {
        "noisy": lambda: noisy.run(env, attacker, victim),
        "slow": lambda: slow.run(env, victim),
        "signup": lambda: account_attacks.signup_flood(env, login_accounts),
        "lockout": lambda: account_attacks.lockout(env, victim),
    }
    results = {}
    for name in ATTACKS:
        if name not in only:
            continue
        if not await envmod.wait_ready(env):
            print(f"hostile: the server is not ready before '{name}'; measuring anyway", flush=True)
        started = time.monotonic()
        results[name] = await runs[name]()
        print(report.block(name, results[name], env) + f"\n- ({time.monotonic() - started:.0f} s)\n", flush=True)

    table = report.table(results, env)
    print(table)
    with open(os.path.join(out_dir, "hostile.md"), "w") as out:
        out.write(table + "\n")
    with open(os.path.join(out_dir, "hostile.json"), "w") as out:
        json.dump(results, out, indent=1)
    failed = [name for name, result in results.items() if not report.criterion(name, result, env)[0]]
    return 1 if failed and os.environ.get("HOSTILE_STRICT") == "1" else 0


async def main_then_clean_up():
    try:
        return await main()
    finally:
        kill_victim_processes()


if __name__ == "__main__":
    sys.exit(asyncio.run(main_then_clean_up()))
