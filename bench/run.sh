#!/usr/bin/env bash
# The benchmark: builds the release server, loads a realistic data set into a fresh database
# (app_bench), runs each workload through the server with wrk and the same SQL statement with
# pgbench (Postgres' own ceiling, same number of connections), and prints a table.
#
#   bash bench/run.sh                 # BENCH_DURATION=10 BENCH_CONNECTIONS=32 by default
#
# Results: target/bench/results.md (the table) and target/bench/raw.txt (every tool's output).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
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

cargo build --release -p web-server
BIN=target/release/web-server

APP_ENV=development DATABASE_URL=$DATABASE_URL RUST_LOG=warn "$BIN" reset-dev-db
APP_ENV=development DATABASE_URL=$DATABASE_URL LISTEN_ADDR=127.0.0.1:$PORT RUST_LOG=warn "$BIN" >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true; jobs -p | xargs -r kill 2>/dev/null || true' EXIT
BASE=http://127.0.0.1:$PORT
for _ in $(seq 1 100); do curl -sf "$BASE/health/ready" >/dev/null && break; sleep 0.1; done

curl -sf -H 'content-type: application/json' -d "{\"username\":\"bench\",\"pwd\":\"$BENCH_PWD\"}" "$BASE/api/signup" >/dev/null
echo "bench: loading the data set" >&2
psql -q -f bench/seed.sql >/dev/null
export BENCH_PWD
BENCH_COOKIE=$(curl -si -H 'content-type: application/json' -d "{\"username\":\"bench\",\"pwd\":\"$BENCH_PWD\"}" "$BASE/api/login" \
    | tr -d '\r' | sed -n 's/^set-cookie: \(auth-token=[^;]*\).*/\1/ip')
export BENCH_COOKIE
read -r BENCH_UID BENCH_TASK_MIN BENCH_TASK_MAX BENCH_PROJECT_MIN BENCH_PROJECT_MAX < <(psql -At -F ' ' -c "
    SELECT u.id, min(t.id), max(t.id), min(p.id), max(p.id)
    FROM \"user\" u JOIN project p ON p.owner_id = u.id JOIN task t ON t.project_id = p.id
    WHERE u.username = 'bench' GROUP BY u.id")
export BENCH_TASK_MIN BENCH_TASK_MAX BENCH_PROJECT_MIN BENCH_PROJECT_MAX
TASKS=$(psql -Atc "SELECT count(*) FROM task")

xacts() { psql -Atc "SELECT xact_commit FROM pg_stat_database WHERE datname = '$DB'"; }

# run_wrk LABEL SCRIPT [CONNECTIONS]: prints "LABEL rps p50 p99 failures statements_per_request".
run_wrk() {
    local label=$1 script=$2 conns=${3:-$CONNECTIONS} before after line requests
    before=$(xacts)
    line=$(wrk -t2 -c"$conns" -d"${DURATION}s" --latency -s "bench/wrk/$script.lua" "$BASE/api/rpc" | tee -a "$RAW" | grep '^RESULT')
    sleep 1.5 # Postgres publishes statistics about once a second
    after=$(xacts)
    requests=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line")
    awk -v label="$label" -v statements=$((after - before)) -v requests="$requests" '{
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%s %s %s %s %d %.2f\n", label, v["rps"], v["p50_ms"], v["p99_ms"], v["failures"] + v["socket_errors"], statements / requests
    }' <<<"$line"
}

# run_pgbench SCRIPT: prints Postgres' transactions per second for the same statement.
run_pgbench() {
    pgbench -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" -f "bench/pgbench/$1.sql" \
        -D uid="$BENCH_UID" -D task_min="$BENCH_TASK_MIN" -D task_max="$BENCH_TASK_MAX" \
        -D project_min="$BENCH_PROJECT_MIN" -D project_max="$BENCH_PROJECT_MAX" 2>&1 | tee -a "$RAW" \
        | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

echo "bench: warming up" >&2
DURATION=3 run_wrk warmup get_task >/dev/null

RESULTS=$OUT/results.txt
: >"$RESULTS"
for workload in get_task list_tasks count_tasks create_task update_task; do
    echo "bench: $workload" >&2
    echo "$(run_wrk "$workload" "$workload") $(run_pgbench "$workload")" >>"$RESULTS"
done
echo "bench: batch of 50 get_task" >&2
echo "$(run_wrk batch_get_task batch_get_task) -" >>"$RESULTS"

echo "bench: list_tasks without the trigram index" >&2
psql -qc "DROP INDEX task_title_trgm_idx"
echo "$(run_wrk list_tasks_no_index list_tasks) $(run_pgbench list_tasks)" >>"$RESULTS"
psql -qc "CREATE INDEX task_title_trgm_idx ON task USING gin (title gin_trgm_ops)"

echo "bench: get_task while 8 clients log in continuously" >&2
wrk -t1 -c8 -d"$((DURATION + 2))s" -s bench/wrk/login.lua "$BASE/api/login" >"$OUT/login_storm.txt" 2>&1 &
STORM=$!
sleep 1
echo "$(run_wrk get_task_login_storm get_task) -" >>"$RESULTS"
wait "$STORM"
cat "$OUT/login_storm.txt" >>"$RAW"
LOGINS=$(sed -n 's/.*requests=\([0-9]*\).*rps=\([0-9.]*\).*failures=\([0-9]*\).*/\2 logins\/s, \3 failures/p' "$OUT/login_storm.txt")

PEAK_KB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")

python3 bench/report.py "$RESULTS" "$PEAK_KB" "$TASKS" "$DURATION" "$CONNECTIONS" "$LOGINS" | tee "$OUT/results.md"
