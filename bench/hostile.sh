#!/usr/bin/env bash
# The hostile-load benchmark (issue 9): builds the release server, starts it with its default
# limits on the benchmark's data set (a fresh database, app_hostile: 100,000 tasks owned by the
# user 'bench'), and runs four attacks one after the other while a victim (another user, with a
# small project of its own, from its own address) works:
#
#   1. noisy neighbour: 'bench' keeps 32 list_tasks calls in flight whose filter no index serves
#      ($containsAny with 1,000 values on description and title) for 20 s;
#   2. slow connections: 20,000 connections from 127.0.0.4, each with half a request line, held
#      25 s; health checks are made meanwhile;
#   3. signup flood: 16 clients of 127.0.0.5 sign up new accounts for 10 s; the victim logs in;
#   4. lockout: 1,000 failed logins for the victim's username from 127.0.1.1-127.0.1.100, then its
#      owner logs in without and with the device cookie of an earlier login.
#
#   bash bench/hostile.sh     # HOSTILE_BIN=path: measure that server binary instead of building one
#
# Settings (defaults): HOSTILE_PORT (8720), HOSTILE_IDLE_SEC (5, the victim's idle baseline before
# each attack), HOSTILE_RECOVERY_SEC (15, how long after an attack the victim may take to be back
# within 2x its idle p99), HOSTILE_VICTIM_TIMEOUT_SEC (5), HOSTILE_NN_CALLS (32), HOSTILE_NN_SEC
# (20), HOSTILE_DRAIN_SEC (60: how long the attacker's statements are waited for before the
# script cancels them), HOSTILE_SLOW_CONNECTIONS (20000), HOSTILE_SLOW_HOLD_SEC (25; more than
# HEADER_READ_TIMEOUT_SEC plus the time to open them), HOSTILE_SIGNUP_CLIENTS (16),
# HOSTILE_SIGNUP_SEC (10), HOSTILE_LOCKOUT_FAILURES (1000), HOSTILE_LOCKOUT_ADDRS (100),
# HOSTILE_ONLY (comma-separated subset of noisy,slow,signup,lockout), HOSTILE_STRICT=1 (exit 1
# when a criterion fails).
#
# The victim's loops run in processes of their own (bench/hostile/victim_process.py), so that the
# attackers' client work never delays the victim's requests on a shared event loop.
#
# The server runs with the limits it is given by the environment (none are set here); the
# criteria read HEADER_READ_TIMEOUT_SEC and SIGNUPS_PER_ADDR from the environment too.
# The client raises its own file limit to the hard limit after the server has started (the
# server keeps the one it was started with), and spreads the 20,000 connections over processes
# of at most 5,000.
#
# Prints a block per attack and a Markdown table: target/bench/hostile.md (figures in
# target/bench/hostile.json, the server's log in target/bench/hostile-server.log). Python 3.11,
# stdlib only. Every loop is bounded in count and time.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${HOSTILE_PORT:-8720}
DB=app_hostile
export PGHOST=127.0.0.1 PGUSER=postgres PGDATABASE=$DB
DATABASE_URL=postgres://postgres:welcome@localhost:5432/$DB
BENCH_PWD=bench-password-1
OUT=target/bench
mkdir -p "$OUT"
STARTED=$SECONDS

for tool in psql curl; do
    command -v "$tool" >/dev/null || { echo "hostile: $tool is missing" >&2; exit 2; }
done
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "hostile: installing Python 3.11" >&2
    apt-get update -qq && apt-get install -y -qq python3 >/dev/null
fi

. bench/lib.sh
BIN=$(bench_server_bin "${HOSTILE_BIN:-}")

trap 'kill ${SERVER_PID:-} 2>/dev/null || true' EXIT
bench_start_server "$BIN" "$DATABASE_URL" "$PORT" "$OUT/hostile-server.log"
bench_seed "http://127.0.0.1:$PORT" "$BENCH_PWD"

# An "unlimited" hard limit cannot be the soft one for files: then the kernel's ceiling is.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n "$(cat /proc/sys/fs/nr_open)" 2>/dev/null || true
echo "hostile: client file limit $(ulimit -n); server's: $(awk '/Max open files/ {print $4}' "/proc/$SERVER_PID/limits")" >&2
BENCH_PWD=$BENCH_PWD PYTHONDONTWRITEBYTECODE=1 python3 bench/hostile/main.py "127.0.0.1:$PORT" "$SERVER_PID" "$DB" "$OUT"
echo "hostile: done in $((SECONDS - STARTED)) s; table in $OUT/hostile.md" >&2
