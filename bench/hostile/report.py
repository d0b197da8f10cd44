"""What the benchmark prints: a block per attack as it ends, then one Markdown table with a
PASS/FAIL per "Done when" criterion of issue 9, each computed from the figures measured."""

from stats import fmt_ms, fmt_phase

P99_FACTOR_SERVED = 10  # noisy neighbour, slow connections: other users' p99 at most 10x idle
P99_FACTOR_LOGIN = 3  # signup flood: other users' login p99 at most 3x idle
STATEMENTS_GONE_S = 2.0


def ratio(result):
    idle, during = result["idle"]["p99_ms"], result["during"]["p99_ms"]
    if not idle or during is None:
        return None
    return during / idle


def fmt_ratio(value):
    return "-" if value is None else f"{value:.1f}×"


def fmt_recovery(result):
    if result["recovery_s"] is None:
        return f"not within {result['recovery_cap_s']:.0f} s"
    cancelled = result["attacker"].get("statements_left_at_cap")
    late = cancelled and result["recovery_s"] >= result["attacker"]["watched_s"]
    note = f" (once the script had cancelled {cancelled} statements)" if late else ""
    return f"{result['recovery_s']:.1f} s{note}"


def fmt_counts(counts):
    return ", ".join(f"{n}× {label}" for label, n in counts.items()) or "nothing"


def check(ok, text):
    return ok, ("✓ " if ok else "✗ ") + text


def served_checks(result, factor):
    r = ratio(result)
    return [
        check(result["during"]["errors"] == 0 and result["during"]["n"] > 0,
              f"{result['during']['errors']} victim errors of {result['during']['n']}"),
        check(r is not None and r <= factor, f"victim p99 {fmt_ratio(r)} idle (≤ {factor}×)"),
    ]


def noisy_criterion(result):
    gone = result["attacker"]["statements_gone_s"]
    gone_text = (f"attacker statements gone {gone:.1f} s after the stop" if gone is not None
                 else f"{result['attacker']['statements_left_at_cap']} attacker statements still running "
                      f"{result['attacker']['watched_s']:.0f} s after the stop")
    return served_checks(result, P99_FACTOR_SERVED) + [
        check(gone is not None and gone <= STATEMENTS_GONE_S, gone_text + f" (≤ {STATEMENTS_GONE_S:.0f} s)")]


def slow_criterion(result, env):
    a, health = result["attacker"], result["health"]["during"]
    late = a["closed_later"] + a["still_open_at_end"]
    return served_checks(result, P99_FACTOR_SERVED) + [
        check(health["errors"] == 0 and health["n"] > 0,
              f"{health['n'] - health['errors']} of {health['n']} health checks answered 200"),
        check(a["established"] > 0 and late == 0,
              f"{a['closed_by_server']} of {a['established']} half-open connections closed by the server, "
              f"{late} not within {env.header_timeout_s:.0f} s + 2 s"),
    ]


def signup_criterion(result):
    a = result["attacker"]
    others = {label: n for label, n in a["answers"].items() if label != "200" and label != "abandoned at the stop"}
    refused = all(label.startswith("429") for label in others) and bool(others)
    r = ratio(result)
    return [
        check(a["accounts_created"] <= a["signups_per_addr"] and refused,
              f"{a['accounts_created']} accounts created (limit {a['signups_per_addr']}), "
              f"other answers: {fmt_counts(others)}"),
        check(r is not None and r <= P99_FACTOR_LOGIN and result["during"]["errors"] == 0,
              f"victim login p99 {fmt_ratio(r)} idle (≤ {P99_FACTOR_LOGIN}×), "
              f"{result['during']['errors']} failed of {result['during']['n']}"),
    ]


def lockout_criterion(result):
    owner = result["owner"]
    device = "with its device cookie" if owner["device_cookie_given"] else "(no device cookie was ever set)"
    return [
        check(owner["with_device"]["label"] == "200",
              f"owner {device}: {owner['with_device']['label']} in {fmt_ms(owner['with_device']['ms'])}"),
        check(owner["without"]["label"].startswith("429"), f"owner without one: {owner['without']['label']}"),
    ]


def attacker_summary(name, result):
    a = result["attacker"]
    if name == "noisy":
        return (f"answers: {fmt_counts(a['answers'])}; up to {a['statements_peak']} statements in Postgres, "
                f"{a['statements_at_stop']} at the stop")
    if name == "slow":
        failed = fmt_counts(a["connect_failures"]).replace("nothing", "none")
        return (f"{a['established']} connected (failed to connect: {failed}), "
                f"{a['held_at_once_peak']} held at once (all open after {a['all_open_after_s']} s); server closed {a['closed_at_once']} at once, "
                f"{a['closed_by_timeout']} by a timeout, {a['closed_later']} later, {a['still_open_at_end']} never; "
                f"server's descriptors peaked at {a['server_fds_peak']} (limit {a['server_file_limit']})")
    if name == "signup":
        first = "no 429" if a["first_429_s"] is None else f"first 429 after {a['first_429_s']:.1f} s"
        return (f"answers: {fmt_counts(a['answers'])}; {a['accounts_created']} accounts created; {first}, "
                f"{a['accepted_after_first_429']} signups accepted after it")
    return f"answers: {fmt_counts(a['answers'])} in {a['seconds']} s"


CRITERIA = {
    "noisy": ("Noisy neighbour", "0 errors, p99 ≤ 10× idle; no attacker statement 2 s after the stop"),
    "slow": ("Slow connections", "0 errors, p99 ≤ 10× idle, health checks answer, half-open closed by the timeout"),
    "signup": ("Signup flood", "past the limit all 429; login p99 ≤ 3× idle"),
    "lockout": ("Lockout", "owner with a device cookie logs in at once; without one, 429"),
}


def criterion(name, result, env):
    checks = {"noisy": lambda: noisy_criterion(result), "slow": lambda: slow_criterion(result, env),
              "signup": lambda: signup_criterion(result), "lockout": lambda: lockout_criterion(result)}[name]()
    return all(ok for ok, _ in checks), [text for _, text in checks]


def block(name, result, env):
    """The lines printed when an attack ends."""
    passed, texts = criterion(name, result, env)
    lines = [f"## {CRITERIA[name][0]}: {result['attack']}",
             f"- victim idle:   {fmt_phase(result['idle'])}",
             f"- victim during: {fmt_phase(result['during'])}"]
    if "health" in result:
        lines.append(f"- health checks during: {fmt_phase(result['health']['during'])}")
    lines += [f"- back within 2× idle p99: {fmt_recovery(result)} after the stop",
              f"- attacker: {attacker_summary(name, result)}"]
    if "owner" in result:
        owner = result["owner"]
        lines.append(f"- owner's logins after the attack: without a device cookie {owner['without']['label']} "
                     f"({fmt_ms(owner['without']['ms'])}), with {owner['with_device']['label']} "
                     f"({fmt_ms(owner['with_device']['ms'])}; device cookie set at login: "
                     f"{'yes' if owner['device_cookie_given'] else 'no'})")
    lines.append(f"- {'PASS' if passed else 'FAIL'}: " + "; ".join(texts))
    return "\n".join(lines)


def table(results, env):
    rows = ["| attack | victim idle p50 / p99, errors | victim during p50 / p99, errors | back within 2× idle p99 "
            "| attacker got | Done when | measured | result |",
            "|---|---|---|---|---|---|---|---|"]
    for name, result in results.items():
        if result is None:
            continue
        passed, texts = criterion(name, result, env)
        title, wanted = CRITERIA[name]
        rows.append("| " + " | ".join([
            title, short_phase(result["idle"]), short_phase(result["during"]), fmt_recovery(result),
            attacker_summary(name, result), wanted, "<br>".join(texts), "PASS" if passed else "FAIL"]) + " |")
    rows.append("| Main benchmark | | | | | `bash bench/run.sh` within noise of before | not measured here | - |")
    return "\n".join(rows)


def short_phase(p):
    return f"{fmt_ms(p['p50_ms'])} / {fmt_ms(p['p99_ms'])}, {p['errors']} of {p['n']}"
