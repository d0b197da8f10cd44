#!/usr/bin/env bash
# The live-updates benchmark: WebSocket subscribers on /api/ws while tasks are written over
# /api/rpc. Starts the server on a free port against a fresh database (app_bench_live, reset with
# `reset-dev-db`), loads the benchmark's data set (bench/seed.sql), and runs:
#
#   1. checks   a few protocol checks with a user of its own (PASS/FAIL lines; they never stop
#               the run): 401, 403, 429 on a 9th socket, the 33rd subscription, unsubscribe,
#               update and delete notifications, 1008 on logoff.
#   2. delivery LIVE_SOCKETS (1,000) sockets, LIVE_SOCKETS_PER_USER (8, the server's limit) per
#               user, so 125 users signed up and logged in through the API; groups of
#               LIVE_USERS_PER_PROJECT (5) users share a project (its first user owns it, the
#               others are editors), and each socket subscribes to its project's tasks
#               (`{"entity": "task", "filters": {"project_id": P}}`: what a board showing one
#               project asks for; with a group's users members of that project alone, no filter
#               would deliver the same, but the filter is what a real client sends). Sockets are
#               bound to LIVE_ADDRS (250) source addresses 127.10.y.z, 4 per address.
#               Server memory: VmRSS with no socket (after LIVE_SETTLE_SECONDS, 15, of quiet: the
#               set-up's password hashes leave memory on blocking threads until they exit), then
#               after every socket has been open and subscribed for LIVE_IDLE_SECONDS (5); the
#               difference over the sockets.
#               Then LIVE_RATE (200) writes a second for LIVE_SECONDS (30), round-robin over the
#               projects, create_task and update_task alternating (an update picks a row of that
#               project with no write in flight, so each row's writes are sequential and must
#               arrive in that order), each by one of the project's users. Every write's title
#               names it ("live w<n>"), so each notification is matched to its write: expected =
#               for each write answered ok, the sockets subscribed to its project; received
#               counts each (write, socket) once; lost = expected - received, after up to
#               LIVE_DRAIN_SECONDS (10) for stragglers. Duplicates, notifications on the wrong
#               subscription or project, with the wrong op, and out of order are counted too.
#               Latency, per notification: receipt minus the write's HTTP answer (the answer
#               leaves after the commit: a lower bound, negative when the notification wins) and
#               receipt minus the row's `mtime` (Postgres' now(), taken when the statement starts,
#               before the commit: an upper bound). The delivery lies between the two. Both
#               include the load tool's own event-loop delay, which is reported too.
#   3. create_task throughput (bench/wrk/create_task.lua, the bench user's projects, AB_CONNECTIONS
#               32, AB_SECONDS 8) with no socket (A) and with the same 1,000 sockets open and
#               subscribed to the live projects, which these writes never touch (B): LIVE_AB_ROUNDS
#               (3) rounds of each, alternating A, B; B / A per round, median and range. Each A
#               starts once the server has withdrawn its interest in changes (up to 15 s after
#               its last socket closed), so that A captures nothing.
#
#   SERVER_BIN=target/release/web-server bash bench/live/run.sh
#
# Settings (defaults): SERVER_BIN (target/release/web-server; build it first), LIVE_DB
# (app_bench_live), LIVE_PORT (a free one), LIVE_TASKS (100000, the bench user's tasks, as in
# bench/run.sh), LIVE_SOCKETS, LIVE_SOCKETS_PER_USER, LIVE_USERS_PER_PROJECT, LIVE_ADDRS,
# LIVE_RATE, LIVE_SECONDS, LIVE_SETTLE_SECONDS, LIVE_IDLE_SECONDS, LIVE_DRAIN_SECONDS, LIVE_TASKS_PER_PROJECT (20,
# made before the sockets open, for the first updates), LIVE_MAX_INFLIGHT (64 writes in flight at
# most; the writer falls behind rather than piling up), LIVE_CHECKS (1; 0 skips part 1),
# LIVE_AB (1; 0 skips part 3), LIVE_AB_ROUNDS, AB_SECONDS, AB_CONNECTIONS, LIVE_SERVER_ENV
# ("VAR=value ..." more variables for the server), LIVE_DATABASE_URL (the server's DATABASE_URL;
# it must name LIVE_DB; e.g. `...?options=-c%20jit%3Doff` to try the server without Postgres' JIT).
#
# The server runs with its defaults except for what the set-up needs: SIGNUPS_PER_ADDR (every
# user signs up from 127.0.0.1) and the password-work budgets PWD_WORK_PER_ADDR and
# PWD_WORK_PER_USER (125 signups and logins from one address within a minute).
#
# Results: target/bench/live.md (the table), target/bench/live-results.json (every figure of
# part 2), target/bench/live-ab.txt, target/bench/live-raw.txt (wrk's output),
# target/bench/live-tool.log (the load tool's log), target/bench/live-server.log.
# Every loop is bounded in count and time.
set -euo pipefail
cd "$(dirname "$0")/../.."

SERVER_BIN=${SERVER_BIN:-target/release/web-server}
DB=${LIVE_DB:-app_bench_live}
LIVE_TASKS=${LIVE_TASKS:-100000}
AB_ROUNDS=${LIVE_AB_ROUNDS:-3}
AB_SECONDS=${AB_SECONDS:-8}
AB_CONNECTIONS=${AB_CONNECTIONS:-32}
export LIVE_SOCKETS=${LIVE_SOCKETS:-1000}
export PGHOST=127.0.0.1 PGUSER=postgres PGDATABASE=$DB
DATABASE_URL=${LIVE_DATABASE_URL:-postgres://postgres:welcome@localhost:5432/$DB}
BENCH_PWD=bench-password-1
OUT=target/bench
mkdir -p "$OUT"
RAW=$OUT/live-raw.txt
TOOL_LOG=$OUT/live-tool.log
: >"$RAW"
: >"$TOOL_LOG"
STARTED=$SECONDS

for tool in node npm psql curl; do
    command -v "$tool" >/dev/null || { echo "live: $tool is missing" >&2; exit 2; }
done
if ! command -v wrk >/dev/null; then
    echo "live: installing wrk" >&2
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
if [ ! -x "$SERVER_BIN" ]; then
    echo "live: server binary '$SERVER_BIN' not found; build it (cargo build --release -p web-server) or set SERVER_BIN" >&2
    exit 2
fi
if [ ! -f bench/live/node_modules/ws/package.json ]; then
    (cd bench/live && npm ci --no-audit --no-fund >&2)
fi

# Each socket is a file on both sides (the server inherits this limit), plus the writer's and
# wrk's connections and Postgres'.
NEED=$(( LIVE_SOCKETS * 2 + 1024 ))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$NEED" ]; then
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n "$(cat /proc/sys/fs/nr_open)" 2>/dev/null || true
    if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$NEED" ]; then
        echo "live: the file limit is $(ulimit -n), $NEED are needed; raise the hard limit (ulimit -Hn)" >&2
        exit 2
    fi
fi

PORT=${LIVE_PORT:-$(node -e '
  const s = require("net").createServer();
  s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')}
BASE=http://127.0.0.1:$PORT

. bench/lib.sh
HOLD_PID=
trap 'kill ${HOLD_PID:-} ${SERVER_PID:-} 2>/dev/null || true' EXIT
# shellcheck disable=SC2086 # LIVE_SERVER_ENV is a list of VAR=value words
bench_start_server "$SERVER_BIN" "$DATABASE_URL" "$PORT" "$OUT/live-server.log" \
    SIGNUPS_PER_ADDR=100000 PWD_WORK_PER_ADDR=1000000 PWD_WORK_PER_USER=1000000 ${LIVE_SERVER_ENV:-}
echo "live: $SERVER_BIN (pid $SERVER_PID) on $BASE, file limit $(awk '/Max open files/ {print $4}' "/proc/$SERVER_PID/limits")" >&2
bench_seed "$BASE" "$BENCH_PWD" "$LIVE_TASKS"

export LIVE_BASE=$BASE LIVE_SERVER_PID=$SERVER_PID LIVE_STATE=$OUT/live-state.json LIVE_OUT=$OUT/live-results.json
tool() { node bench/live/live.mjs "$@" 2> >(tee -a "$TOOL_LOG" >&2); }

if [ "${LIVE_CHECKS:-1}" = 1 ]; then
    echo "live: protocol checks" >&2
    tool checks | tee "$OUT/live-checks.txt"
fi

echo "live: set-up" >&2
tool setup
echo "live: delivery" >&2
tool deliver >/dev/null

AB=$OUT/live-ab.txt
: >"$AB"
if [ "${LIVE_AB:-1}" = 1 ]; then
    BENCH_COOKIE=$(bench_login "$BASE" "$BENCH_PWD")
    read -r _ _ _ BENCH_PROJECT_MIN BENCH_PROJECT_MAX < <(bench_ids)
    export BENCH_COOKIE BENCH_PROJECT_MIN BENCH_PROJECT_MAX

    # create_run SECONDS: prints "rps p50 p99 failures" of one wrk run of create_task.
    create_run() {
        local line
        line=$(wrk -t2 -c"$AB_CONNECTIONS" -d"$1s" --timeout 10s --latency -s bench/wrk/create_task.lua \
            "$BASE/api/rpc" | tee -a "$RAW" | grep '^RESULT')
        f() { sed "s/.* $1=\([0-9.]*\).*/\1/" <<<"$line"; }
        echo "$(f rps) $(f p50_ms) $(f p99_ms) $(( $(f non2xx) + $(f socket_errors) ))"
    }

    # hold_start: opens and subscribes the sockets in the background; waits (at most 180 s)
    # until they are all up.
    hold_start() {
        node bench/live/live.mjs hold >"$OUT/live-hold.txt" 2>>"$TOOL_LOG" &
        HOLD_PID=$!
        for _ in $(seq 1 1800); do
            grep -q '^READY' "$OUT/live-hold.txt" && return 0
            kill -0 "$HOLD_PID" 2>/dev/null || { echo "live: the idle subscribers failed; see $TOOL_LOG" >&2; exit 1; }
            sleep 0.1
        done
        echo "live: the idle subscribers were not up within 180 s" >&2
        exit 1
    }

    # hold_stop: closes them (the tool closes each within 5 s); HOLD_GOT: how many notifications
    # they received. Then waits (at most 90 s) until the server has withdrawn its interest in
    # changes (it checks every 15 s), so that the next round without sockets captures nothing.
    hold_stop() {
        kill -TERM "$HOLD_PID"
        wait "$HOLD_PID" || true
        HOLD_PID=
        cat "$OUT/live-hold.txt" >>"$TOOL_LOG"
        HOLD_GOT=$(sed -n 's/^HOLD .* notifications=\([0-9]*\).*/\1/p' "$OUT/live-hold.txt")
        for _ in $(seq 1 900); do
            [ "$(psql -qAtc 'SELECT count(*) FROM live_interest WHERE until > now()')" = 0 ] && return 0
            sleep 0.1
        done
        echo "live: the server still wants changes 90 s after its last socket closed" >&2
        exit 1
    }

    echo "live: create_task warm-up" >&2
    create_run 3 >/dev/null
    for round in $(seq 1 "$AB_ROUNDS"); do
        line=$(create_run "$AB_SECONDS")
        echo "live: round $round A (no sockets): rps p50 p99 failures = $line" >&2
        echo "A $line" >>"$AB"
        hold_start
        sleep 2
        line=$(create_run "$AB_SECONDS")
        hold_stop
        echo "live: round $round B ($LIVE_SOCKETS idle subscribers): rps p50 p99 failures = $line; notifications received: ${HOLD_GOT:-?}" >&2
        echo "B $line ${HOLD_GOT:--1}" >>"$AB"
    done
fi

# The server's warnings and errors, colours stripped, statements elided, one line each.
sed 's/\x1b\[[0-9;]*m//g' "$OUT/live-server.log" | grep -a -E ' (WARN|ERROR) ' \
    | sed 's/ db\.statement=.* rows_affected=/ db.statement=(elided) rows_affected=/' | cut -c1-400 >"$OUT/live-server-warnings.txt" || true
WARNINGS=$(wc -l <"$OUT/live-server-warnings.txt")
echo "live: the server logged $WARNINGS warnings or errors (by message, then the first 5):" >&2
sed 's/^[^ ]* *\(WARN\|ERROR\) //; s/ summary=.*//; s/ error=.*//; s/ batch=.*//' "$OUT/live-server-warnings.txt" | sort | uniq -c | sort -rn | head >&2
head -5 "$OUT/live-server-warnings.txt" >&2
export LIVE_SERVER_WARNINGS=$WARNINGS

echo >&2
node bench/live/live.mjs report "$LIVE_OUT" "$AB" | tee "$OUT/live.md"
echo "live: done in $((SECONDS - STARTED)) s; table in $OUT/live.md" >&2
