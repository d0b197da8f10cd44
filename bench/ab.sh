#!/usr/bin/env bash
# Head to head: two server binaries up at once on the benchmark data set, get_task through each in
# alternating wrk runs, so that both meet the same machine noise. For a change on the request path
# whose cost is smaller than the run-to-run spread of bench/run.sh.
#
#   bash bench/ab.sh OLD_BINARY NEW_BINARY   # AB_ROUNDS=3 AB_SECONDS=8 AB_CONNECTIONS=32
#                                            # AB_SCRIPT=get_task (or list_tasks, create_task, any bench/wrk/*.lua)
#                                            # AB_OLD_ENV, AB_NEW_ENV: "VAR=value ..." for one side
#                                            # (bench/pgbouncer.sh uses them)
#
# Each binary gets a database of its own (app_bench_old, app_bench_new), migrated by itself and
# loaded with the same data set, so that schemas of different versions never meet. Prints one line
# per run and the medians.
set -euo pipefail
cd "$(dirname "$0")/.."

OLD=${1:?usage: bench/ab.sh OLD_BINARY NEW_BINARY}
NEW=${2:?usage: bench/ab.sh OLD_BINARY NEW_BINARY}
ROUNDS=${AB_ROUNDS:-3}
SECONDS_PER_RUN=${AB_SECONDS:-8}
CONNECTIONS=${AB_CONNECTIONS:-32}
SCRIPT=${AB_SCRIPT:-get_task}
export PGHOST=127.0.0.1 PGUSER=postgres
BENCH_PWD=bench-password-1
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

source bench/lib.sh
mkdir -p target/bench
PIDS=()
trap 'kill "${PIDS[@]}" ${SERVER_PID:-} 2>/dev/null || true' EXIT
declare -A PORT=([old]=8711 [new]=8712) BIN=([old]=$OLD [new]=$NEW) TASKS COOKIE
declare -A EXTRA_ENV=([old]=${AB_OLD_ENV:-} [new]=${AB_NEW_ENV:-})
for side in old new; do
    export PGDATABASE=app_bench_$side
    bench_start_server "${BIN[$side]}" "postgres://postgres:welcome@localhost:5432/$PGDATABASE" \
        "${PORT[$side]}" "target/bench/ab-$side.log" ${EXTRA_ENV[$side]}
    PIDS+=("$SERVER_PID")
    bench_seed "http://127.0.0.1:${PORT[$side]}" "$BENCH_PWD"
    TASKS[$side]=$(psql -At -F ' ' -c "
        SELECT min(t.id), max(t.id), min(p.id), max(p.id) FROM \"user\" u JOIN project p ON p.owner_id = u.id
        JOIN task t ON t.project_id = p.id WHERE u.username = 'bench'")
    COOKIE[$side]=$(curl -si -H 'content-type: application/json' \
        -d "{\"username\":\"bench\",\"pwd\":\"$BENCH_PWD\"}" "http://127.0.0.1:${PORT[$side]}/api/login" \
        | tr -d '\r' | sed -n 's/^set-cookie: \(auth-token=[^;]*\).*/\1/ip')
done

run() { # run SIDE: "rps p99_ms non2xx"
    local range=(${TASKS[$1]})
    BENCH_COOKIE=${COOKIE[$1]} BENCH_TASK_MIN=${range[0]} BENCH_TASK_MAX=${range[1]} \
        BENCH_PROJECT_MIN=${range[2]} BENCH_PROJECT_MAX=${range[3]} \
        wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --timeout 10s --latency \
        -s "bench/wrk/$SCRIPT.lua" "http://127.0.0.1:${PORT[$1]}/api/rpc" | grep '^RESULT' \
        | sed 's/.* rps=\([0-9.]*\).* p99_ms=\([0-9.]*\).* non2xx=\([0-9]*\).*/\1 \2 \3/'
}

echo "ab: $SCRIPT, warming up" >&2
run old >/dev/null
run new >/dev/null
: >target/bench/ab.txt
for round in $(seq 1 "$ROUNDS"); do
    for side in old new; do
        line=$(run "$side")
        echo "round $round $side: rps p99_ms non2xx = $line"
        echo "$side $line" >>target/bench/ab.txt
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
