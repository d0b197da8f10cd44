#!/usr/bin/env bash
# Data size: one server binary on 100,000 and on 1,000,000 tasks of the bench user's, both up at
# once, each workload run against them in alternating rounds, so that both sizes meet the same
# machine noise. Reports each workload's throughput at both sizes and their ratio, and per size
# the cost of a page 50,000 rows deep, by offset and by cursor, against page 1.
#
#   bash bench/sizes.sh   # SIZES_ROUNDS=3 SIZES_SECONDS=5 SIZES_CONNECTIONS=32
#                         # BENCH_BIN=path: measure that server binary instead of building one
#
# Results: target/bench/sizes.md (the tables), target/bench/sizes.txt (every run).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${SIZES_ROUNDS:-3}
SECONDS_PER_RUN=${SIZES_SECONDS:-5}
CONNECTIONS=${SIZES_CONNECTIONS:-32}
DEPTH=50000
export PGHOST=127.0.0.1 PGUSER=postgres
BENCH_PWD=bench-password-1
OUT=target/bench
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

source bench/lib.sh
BIN=$(bench_server_bin "${BENCH_BIN:-}")
PIDS=()
trap 'kill "${PIDS[@]}" ${SERVER_PID:-} 2>/dev/null || true' EXIT
SIZES=(100k 1m)
declare -A PORT=([100k]=8721 [1m]=8722) TASKS=([100k]=100000 [1m]=1000000) ENVS
for size in "${SIZES[@]}"; do
    export PGDATABASE=app_bench_$size
    bench_start_server "$BIN" "postgres://postgres:welcome@localhost:5432/$PGDATABASE" "${PORT[$size]}" \
        "$OUT/sizes-$size.log"
    PIDS+=("$SERVER_PID")
    base=http://127.0.0.1:${PORT[$size]}
    bench_seed "$base" "$BENCH_PWD" "${TASKS[$size]}"
    cookie=$(bench_login "$base" "$BENCH_PWD")
    read -r _ task_min task_max project_min project_max < <(bench_ids)
    ENVS[$size]="BENCH_COOKIE=$cookie BENCH_TASK_MIN=$task_min BENCH_TASK_MAX=$task_max \
BENCH_PROJECT_MIN=$project_min BENCH_PROJECT_MAX=$project_max BENCH_PAGE_DEPTH=$DEPTH \
BENCH_PAGE_CURSOR=$(bench_cursor "$base" "$cookie" "$DEPTH")"
done

# run SIZE SCRIPT CONNECTIONS SECONDS [VAR=value...]: wrk's RESULT line.
run() {
    local size=$1 script=$2 conns=$3 seconds=$4
    shift 4
    # shellcheck disable=SC2086 # ENVS holds VAR=value words
    env ${ENVS[$size]} "$@" wrk -t"$(( conns < 2 ? conns : 2 ))" -c"$conns" -d"${seconds}s" --timeout 10s --latency \
        -s "bench/wrk/$script.lua" "http://127.0.0.1:${PORT[$size]}/api/rpc" | grep '^RESULT'
}

# label script [VAR=value...]
WORKLOADS=(
    "get_task get_task"
    "create_task create_task"
    "update_task update_task"
    "page_1 list_page"
    "page_deep_offset list_page BENCH_PAGE=offset"
    "page_deep_cursor list_page BENCH_PAGE=cursor"
)
RUNS=$OUT/sizes.txt
: >"$RUNS"
for workload in "${WORKLOADS[@]}"; do
    read -r label script extra <<<"$workload"
    echo "sizes: $label" >&2
    for size in "${SIZES[@]}"; do
        # Every answer checked on one connection first: a failing workload measures nothing.
        line=$(run "$size" "$script" 1 1 BENCH_CHECK=1 $extra)
        echo "check $label $size $line" >>"$RUNS"
    done
    for round in $(seq 1 "$ROUNDS"); do
        for size in "${SIZES[@]}"; do
            echo "run $label $size $(run "$size" "$script" "$CONNECTIONS" "$SECONDS_PER_RUN" $extra)" >>"$RUNS"
        done
    done
done
python3 bench/sizes.py "$RUNS" "$ROUNDS" "$SECONDS_PER_RUN" "$CONNECTIONS" | tee "$OUT/sizes.md"
