#!/usr/bin/env bash
# The benchmark: builds the release server, loads a realistic data set into a fresh database
# (app_bench), runs each workload through the server with wrk and the same SQL statement with
# pgbench (Postgres' own ceiling, same number of connections), and prints a table.
#
#   bash bench/run.sh     # BENCH_DURATION=5 (seconds a run) BENCH_ROUNDS=3 BENCH_CONNECTIONS=32
#                         # BENCH_TASKS=100000 (the bench user's tasks; 1000000 works too)
#                         # BENCH_BIN=path: measure that server binary instead of building one
#
# bench/sizes.sh measures the same server at two data sizes side by side (100,000 and 1,000,000).
#
# The machine is shared and noisy, so each ratio comes from rounds that alternate the server and
# pgbench, and the table shows medians.
#
# Results: target/bench/results.md (the table) and target/bench/raw.txt (every tool's output).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_TASKS=${BENCH_TASKS:-100000}
PORT=${BENCH_PORT:-8700}
DB=app_bench
export PGHOST=127.0.0.1 PGUSER=postgres PGDATABASE=$DB
DATABASE_URL=postgres://postgres:welcome@localhost:5432/$DB
BENCH_PWD=bench-password-1
OUT=target/bench
mkdir -p "$OUT"
RAW=$OUT/raw.txt
: >"$RAW"

if ! command -v wrk >/dev/null; then
    echo "bench: installing wrk" >&2
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
command -v pgbench >/dev/null || { echo "bench: pgbench (Postgres' client tools) is missing" >&2; exit 2; }

. bench/lib.sh
BIN=$(bench_server_bin "${BENCH_BIN:-}")

trap 'kill ${SERVER_PID:-} 2>/dev/null || true; jobs -p | xargs -r kill 2>/dev/null || true' EXIT
# The login storm measures what hashing costs other requests; the password-work budget would turn
# most of it into 429s, so it is lifted here.
bench_start_server "$BIN" "$DATABASE_URL" "$PORT" "$OUT/server.log" PWD_WORK_PER_USER=1000000 PWD_WORK_PER_ADDR=1000000
BASE=http://127.0.0.1:$PORT

bench_seed "$BASE" "$BENCH_PWD" "$BENCH_TASKS"
export BENCH_PWD
BENCH_COOKIE=$(bench_login "$BASE" "$BENCH_PWD")
export BENCH_COOKIE
read -r BENCH_UID BENCH_TASK_MIN BENCH_TASK_MAX BENCH_PROJECT_MIN BENCH_PROJECT_MAX < <(bench_ids)
export BENCH_TASK_MIN BENCH_TASK_MAX BENCH_PROJECT_MIN BENCH_PROJECT_MAX
TASKS=$(psql -Atc "SELECT count(*) FROM task")

# Read from another database, so that these reads are not counted themselves.
xacts() { psql -d postgres -Atc "SELECT xact_commit FROM pg_stat_database WHERE datname = '$DB'"; }

# A backend publishes its statistics at most every second while busy and, once idle, within
# 10 s (Postgres 15's PGSTAT_IDLE_INTERVAL): only after that are the counts complete.
settled_xacts() {
    sleep 11
    xacts
}

# wrk_result SCRIPT CONNECTIONS SECONDS [env...]: wrk's RESULT line.
wrk_result() {
    local script=$1 conns=$2 seconds=$3
    shift 3
    env "$@" wrk -t"$(( conns < 2 ? conns : 2 ))" -c"$conns" -d"${seconds}s" --timeout 10s --latency \
        -s "bench/wrk/$script.lua" "$BASE/api/rpc" \
        | tee -a "$RAW" | grep '^RESULT'
}

field() { sed "s/.* $1=\([0-9.]*\).*/\1/" <<<"$2"; }

# check_wrk SCRIPT: one connection for 2 s, every answer's body checked; prints
# "failures statements_per_request" (one connection leaves nothing in flight to miscount).
check_wrk() {
    local before line after
    before=$(settled_xacts)
    line=$(wrk_result "$1" 1 2 BENCH_CHECK=1)
    after=$(settled_xacts)
    echo "$(( $(field failures "$line") + $(field non2xx "$line") + $(field socket_errors "$line") )) \
$(awk -v s=$((after - before)) -v r="$(field requests "$line")" 'BEGIN { printf "%.2f", s / r }')"
}

# timed_wrk SCRIPT [SECONDS]: prints "rps p50 p99 failures" of one timed run at full load.
timed_wrk() {
    timed_wrk_at "$1" "$CONNECTIONS" "${2:-$DURATION}"
}

# timed_wrk_at SCRIPT CONNECTIONS [SECONDS]: as timed_wrk, at that many connections.
timed_wrk_at() {
    local line
    line=$(wrk_result "$1" "$2" "${3:-$DURATION}")
    echo "$(field rps "$line") $(field p50_ms "$line") $(field p99_ms "$line") \
$(( $(field non2xx "$line") + $(field socket_errors "$line") ))"
}

# run_pgbench SCRIPT: prints Postgres' transactions per second for the same statement.
run_pgbench() {
    pgbench -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" -f "bench/pgbench/$1.sql" \
        -D uid="$BENCH_UID" -D task_min="$BENCH_TASK_MIN" -D task_max="$BENCH_TASK_MAX" \
        -D project_min="$BENCH_PROJECT_MIN" -D project_max="$BENCH_PROJECT_MAX" 2>&1 | tee -a "$RAW" \
        | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

echo "bench: warming up" >&2
wrk_result get_task "$CONNECTIONS" 3 >/dev/null

# Each results line: label, then per round "rps p50 p99 failures pg_tps", after the checks.
RESULTS=$OUT/results.txt
: >"$RESULTS"
for workload in get_task list_tasks count_tasks create_task update_task; do
    echo "bench: $workload" >&2
    line="$workload $(check_wrk "$workload")"
    for _ in $(seq 1 "$ROUNDS"); do
        line="$line $(timed_wrk "$workload") $(run_pgbench "$workload")"
    done
    echo "$line" >>"$RESULTS"
done

echo "bench: batch of 50 get_task" >&2
echo "batch_get_task $(check_wrk batch_get_task) $(timed_wrk batch_get_task) -" >>"$RESULTS"

# Ten creates: as ten requests from one client one after another, and as one transaction (both
# at one connection: what one client waits for), then the transaction at full load.
echo "bench: 10 creates, as single requests and as one transaction" >&2
echo "create_task_one_client 0 - $(timed_wrk_at create_task 1) -" >>"$RESULTS"
echo "txn_create10_one_client 0 - $(timed_wrk_at txn_create10 1) -" >>"$RESULTS"
echo "txn_create10 $(check_wrk txn_create10) $(timed_wrk txn_create10) -" >>"$RESULTS"

echo "bench: list_tasks without the trigram index" >&2
psql -qc "DROP INDEX task_project_title_trgm_idx"
echo "list_tasks_no_index $(check_wrk list_tasks) $(timed_wrk list_tasks $((DURATION * 2))) $(run_pgbench list_tasks)" >>"$RESULTS"
psql -qc "CREATE INDEX task_project_title_trgm_idx ON task USING gin (project_id, title gin_trgm_ops)"

echo "bench: get_task alone, then while 8 clients log in continuously" >&2
echo "get_task_before_storm 0 - $(timed_wrk get_task $((DURATION * 2))) -" >>"$RESULTS"
wrk -t1 -c8 -d"$((DURATION * 2 + 4))s" --timeout 10s -s bench/wrk/login.lua "$BASE/api/login" >"$OUT/login_storm.txt" 2>&1 &
STORM=$!
sleep 2
echo "get_task_login_storm 0 - $(timed_wrk get_task $((DURATION * 2))) -" >>"$RESULTS"
wait "$STORM"
cat "$OUT/login_storm.txt" >>"$RAW"
STORM_LINE=$(grep '^RESULT' "$OUT/login_storm.txt")
LOGINS="$(field rps "$STORM_LINE") logins/s, $(( $(field non2xx "$STORM_LINE") + $(field socket_errors "$STORM_LINE") )) failures"

PEAK_KB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")

python3 bench/report.py "$RESULTS" "$PEAK_KB" "$TASKS" "$DURATION" "$ROUNDS" "$CONNECTIONS" "$LOGINS" | tee "$OUT/results.md"
