"""Turns bench/sizes.sh's runs into Markdown: throughput per workload at 100k and 1M tasks, and
the cost of deep pages against page 1. Ratios are taken per round (runs next to each other in
time), then the median."""

import re
import statistics
import sys

runs_path, rounds, seconds, connections = sys.argv[1:5]
SIZES = ("100k", "1m")
rps, failures = {}, {}
for line in open(runs_path):
    kind, label, size, result = line.split(maxsplit=3)
    fields = dict(re.findall(r"(\w+)=([0-9.]+)", result))
    bad = int(fields["failures"]) + int(fields["non2xx"]) + int(fields["socket_errors"])
    failures[label] = failures.get(label, 0) + bad
    if kind == "run":
        rps.setdefault((label, size), []).append(float(fields["rps"]))


def median_ratio(a, b):
    pairs = list(zip(rps[a], rps[b]))
    ratios = [x / y for x, y in pairs]
    return statistics.median(ratios), min(ratios), max(ratios)


labels = list(dict.fromkeys(label for label, _ in rps))
print(f"{connections} connections, {rounds} rounds of {seconds} s alternating the sizes; medians.")
print()
print("| workload | 100k tasks req/s | 1M tasks req/s | 1M / 100k (range) | failures |")
print("|---|---:|---:|---:|---:|")
for label in labels:
    mid, low, high = median_ratio((label, "1m"), (label, "100k"))
    print(f"| {label} | {statistics.median(rps[(label, '100k')]):,.0f} | {statistics.median(rps[(label, '1m')]):,.0f} "
          f"| {mid:.0%} ({low:.0%}-{high:.0%}) | {failures[label]} |")
print()
print("| page 50,000 rows deep, against page 1 | 100k tasks | 1M tasks |")
print("|---|---:|---:|")
for deep in ("page_deep_offset", "page_deep_cursor"):
    cells = [median_ratio((deep, size), ("page_1", size))[0] for size in SIZES]
    print(f"| {deep} | {cells[0]:.0%} | {cells[1]:.0%} |")
print()
checks = []
for label in ("get_task", "create_task", "update_task"):
    ratio = median_ratio((label, "1m"), (label, "100k"))[0]
    checks.append((f"{label} at 1M within 20% of 100k", f"{ratio:.0%}", ratio >= 0.8))
for size in SIZES:
    ratio = median_ratio(("page_deep_cursor", size), ("page_1", size))[0]
    checks.append((f"cursor page 50,000 deep within 20% of page 1 ({size})", f"{ratio:.0%}", ratio >= 0.8))
total = sum(failures.values())
checks.append(("no errors and no non-2xx answers", str(total), total == 0))
print("| target | measured | met |")
print("|---|---:|---|")
for name, measured, met in checks:
    print(f"| {name} | {measured} | {'yes' if met else 'NO'} |")
