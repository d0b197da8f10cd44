"""Latency samples and what the report says about them: percentiles per phase, errors, and how
long after an attack the victim was back to normal."""

import math
from collections import Counter
from dataclasses import dataclass

# The victim counts as recovered at the start of this many consecutive good answers in a row.
RECOVERY_RUN = 20


@dataclass
class Sample:
    start: float  # time.monotonic() when the request was started
    seconds: float
    outcome: str  # "ok", or what went wrong

    @property
    def ok(self):
        return self.outcome == "ok"


def percentile(values, q):
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def phase(samples, since, until):
    """The samples started in [since, until): count, p50/p99 of all their latencies (failures
    included: a request that failed after 3 s cost its user 3 s), errors by kind."""
    chosen = [s for s in samples if since <= s.start < until]
    latencies = [s.seconds for s in chosen]
    errors = Counter(s.outcome for s in chosen if not s.ok)
    return {
        "n": len(chosen),
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors.most_common()),
        # One client waits for each answer in turn: this long it got none that worked.
        "failing_s": round(sum(s.seconds for s in chosen if not s.ok), 1),
    }


def timeline(samples, start):
    """Every sample as [seconds since `start` (negative: idle baseline), milliseconds, outcome]."""
    return [[round(s.start - start, 3), ms(s.seconds), s.outcome] for s in samples]


def recovery(samples, stop, threshold_s):
    """Seconds from `stop` to the first of RECOVERY_RUN consecutive requests (started after it)
    that all succeeded within `threshold_s`; None if that never happened."""
    run_start, run = None, 0
    for sample in sorted((s for s in samples if s.start >= stop), key=lambda s: s.start):
        if sample.ok and sample.seconds <= threshold_s:
            if run == 0:
                run_start = sample.start
            run += 1
            if run >= RECOVERY_RUN:
                return run_start - stop
        else:
            run = 0
    return None


def ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)


def fmt_ms(value):
    if value is None:
        return "-"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def fmt_phase(p):
    kinds = ", ".join(f"{n}× {kind}" for kind, n in p["error_kinds"].items())
    if kinds:
        kinds += f"; {p['failing_s']:.0f} s spent on them"
    errors = f"{p['errors']} errors" + (f" ({kinds})" if kinds else "")
    return f"p50 {fmt_ms(p['p50_ms'])}, p99 {fmt_ms(p['p99_ms'])}, {errors} of {p['n']}"
