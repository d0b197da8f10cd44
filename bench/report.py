"""Turns bench/run.sh's results into the Markdown table of docs/performance.md, with the targets."""

import platform
import subprocess
import sys

results_path, peak_kb, tasks, duration, connections, logins = sys.argv[1:7]
rows = {}
for line in open(results_path):
    label, rps, p50, p99, failures, statements, pg_tps = line.split()
    rows[label] = dict(rps=float(rps), p50=float(p50), p99=float(p99), failures=int(failures),
                       statements=float(statements), pg=None if pg_tps == "-" else float(pg_tps))

def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()

pg_version = subprocess.run(["psql", "-Atc", "SHOW server_version"], capture_output=True, text=True).stdout.strip()

print(f"Machine: {cpu_model()}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, "
      f"Postgres {pg_version}; server, Postgres and load generator share it.")
print(f"Data: {int(tasks):,} tasks (100,000 of them the bench user's); {connections} connections, {duration} s per run.")
print()
print("| workload | server req/s | p50 ms | p99 ms | statements/request | Postgres alone (pgbench tps) | server / Postgres | failures |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
names = {
    "get_task": "get_task",
    "list_tasks": "list_tasks $containsCi, !title, limit 20",
    "count_tasks": "count_tasks {project_id, done}",
    "create_task": "create_task",
    "update_task": "update_task",
    "batch_get_task": "batch of 50 get_task (per request)",
    "list_tasks_no_index": "list_tasks without the trigram index",
    "get_task_login_storm": "get_task during a login storm",
}
for label, name in names.items():
    r = rows[label]
    ratio = f"{r['rps'] / r['pg']:.0%}" if r["pg"] else "-"
    pg = f"{r['pg']:,.0f}" if r["pg"] else "-"
    print(f"| {name} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['statements']:.2f} | {pg} | {ratio} | {r['failures']} |")
print()
print(f"Server peak memory (VmHWM): {int(peak_kb) / 1024:.1f} MiB. Login storm: {logins}.")
print()

checks = []
for label in ("get_task", "update_task", "create_task"):
    ratio = rows[label]["rps"] / rows[label]["pg"]
    checks.append((f"{label} at >= 50% of Postgres' own throughput", f"{ratio:.0%}", ratio >= 0.5))
index_gain = rows["list_tasks"]["rps"] / rows["list_tasks_no_index"]["rps"]
checks.append(("list_tasks with the index >= 10x without", f"{index_gain:.1f}x", index_gain >= 10))
batch_gain = rows["batch_get_task"]["rps"] * 50 / rows["get_task"]["rps"]
checks.append(("batch of 50: calls/s >= 3x single requests", f"{batch_gain:.1f}x", batch_gain >= 3))
storm = rows["get_task_login_storm"]["p99"] / rows["get_task"]["p99"]
checks.append(("get_task p99 during the login storm <= 3x without", f"{storm:.1f}x", storm <= 3))
failures = sum(r["failures"] for r in rows.values())
checks.append(("no errors and no non-2xx answers", str(failures), failures == 0))
one_trip = all(abs(rows[l]["statements"] - 1) < 0.05 for l in ("get_task", "list_tasks", "count_tasks", "create_task", "update_task"))
checks.append(("one database statement per call", "yes" if one_trip else "no", one_trip))

print("| target | measured | met |")
print("|---|---:|---|")
for name, measured, met in checks:
    print(f"| {name} | {measured} | {'yes' if met else 'NO'} |")
