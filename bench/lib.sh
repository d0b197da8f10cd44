# The set-up the benchmarks share (sourced by bench/run.sh and bench/hostile.sh; run from the
# repository's root with `set -euo pipefail`).

# bench_server_bin [PATH]: prints PATH, or builds the release server and prints its path.
bench_server_bin() {
    if [ -n "${1:-}" ]; then
        echo "$1"
    else
        cargo build --release -p web-server >&2
        echo target/release/web-server
    fi
}

# bench_start_server BIN DATABASE_URL PORT LOG [VAR=value...]: resets the database, then
# bench_launch_server.
bench_start_server() {
    APP_ENV=development DATABASE_URL=$2 RUST_LOG=warn "$1" reset-dev-db
    bench_launch_server "$@"
}

# bench_launch_server BIN DATABASE_URL PORT LOG [VAR=value...]: starts the server in the
# background with the given variables on top of the defaults (its pid in SERVER_PID) and waits
# (at most 10 s) until it is ready.
bench_launch_server() {
    local bin=$1 url=$2 port=$3 log=$4
    shift 4
    env APP_ENV=development DATABASE_URL="$url" LISTEN_ADDR="127.0.0.1:$port" RUST_LOG=warn "$@" "$bin" >"$log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && return 0
        sleep 0.1
    done
    echo "bench: the server did not get ready within 10 s; see $log" >&2
    return 1
}

# bench_seed BASE PWD: signs up the user 'bench' through the API (so that its password hash is
# real) and loads the data set (bench/seed.sql) into the database that PG* name.
bench_seed() {
    curl -sf -H 'content-type: application/json' -d "{\"username\":\"bench\",\"pwd\":\"$2\"}" "$1/api/signup" >/dev/null
    echo "bench: loading the data set" >&2
    psql -q -f bench/seed.sql >/dev/null
}
