#!/usr/bin/env bash
# Head to head: two server binaries up at once on the benchmark data set, get_task through each in
# alternating wrk runs, so that both meet the same machine noise. For a change on the request path
# whose cost is smaller than the run-to-run spread of bench/run.sh.
#
#   bash bench/ab.sh OLD_BINARY NEW_BINARY   # AB_ROUNDS=3 AB_SECONDS=8 AB_CONNECTIONS=32
#
# OLD starts first on a fresh database: a newer binary applies its newer migrations on top, which
# an older one would refuse. Prints one line per run and the medians.
set -euo pipefail
cd "$(dirname "$0")/.."

OLD=${1:?usage: bench/ab.sh OLD_BINARY NEW_BINARY}
NEW=${2:?usage: bench/ab.sh OLD_BINARY NEW_BINARY}
ROUNDS=${AB_ROUNDS:-3}
SECONDS_PER_RUN=${AB_SECONDS:-8}
CONNECTIONS=${AB_CONNECTIONS:-32}
DB=app_bench
export PGHOST=127.0.0.1 PGUSER=postgres PGDATABASE=$DB
DATABASE_URL=postgres://postgres:welcome@localhost:5432/$DB
BENCH_PWD=bench-password-1
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

source bench/lib.sh
mkdir -p target/bench
PIDS=()
trap 'kill "${PIDS[@]}" ${SERVER_PID:-} 2>/dev/null || true' EXIT
login() { # login PORT: the session cookie
    curl -si -H 'content-type: application/json' -d "{\"username\":\"bench\",\"pwd\":\"$BENCH_PWD\"}" \
        "http://127.0.0.1:$1/api/login" | tr -d '\r' | sed -n 's/^set-cookie: \(auth-token=[^;]*\).*/\1/ip'
}

bench_start_server "$OLD" "$DATABASE_URL" 8711 target/bench/ab-8711.log
PIDS+=("$SERVER_PID")
bench_seed http://127.0.0.1:8711 "$BENCH_PWD"
bench_launch_server "$NEW" "$DATABASE_URL" 8712 target/bench/ab-8712.log
PIDS+=("$SERVER_PID")
read -r BENCH_TASK_MIN BENCH_TASK_MAX < <(psql -At -F ' ' -c "
    SELECT min(t.id), max(t.id) FROM \"user\" u JOIN project p ON p.owner_id = u.id
    JOIN task t ON t.project_id = p.id WHERE u.username = 'bench'")
export BENCH_TASK_MIN BENCH_TASK_MAX

run() { # run PORT: "rps p99_ms non2xx"
    BENCH_COOKIE=$(login "$1") wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --timeout 10s --latency \
        -s bench/wrk/get_task.lua "http://127.0.0.1:$1/api/rpc" | grep '^RESULT' \
        | sed 's/.* rps=\([0-9.]*\).* p99_ms=\([0-9.]*\).* non2xx=\([0-9]*\).*/\1 \2 \3/'
}

echo "ab: warming up" >&2
run 8711 >/dev/null
run 8712 >/dev/null
: >target/bench/ab.txt
for round in $(seq 1 "$ROUNDS"); do
    for side in old:8711 new:8712; do
        line=$(run "${side#*:}")
        echo "round $round ${side%%:*}: rps p99_ms non2xx = $line"
        echo "${side%%:*} $line" >>target/bench/ab.txt
    done
done
python3 - target/bench/ab.txt <<'PY'
import statistics, sys
runs = [line.split() for line in open(sys.argv[1])]
for side in ("old", "new"):
    mine = [(float(rps), float(p99)) for name, rps, p99, _ in runs if name == side]
    print(f"{side}: median {statistics.median(r for r, _ in mine):.0f} req/s, "
          f"p99 {statistics.median(p for _, p in mine):.2f} ms ({len(mine)} runs)")
PY
