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
    # No admin listener unless the caller asks for one: runs side by side must not share its port.
    env APP_ENV=development DATABASE_URL="$url" LISTEN_ADDR="127.0.0.1:$port" ADMIN_LISTEN_ADDR= RUST_LOG=warn "$@" "$bin" \
        >"$log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && return 0
        sleep 0.1
    done
    echo "bench: the server did not get ready within 10 s; see $log" >&2
    return 1
}

# bench_seed BASE PWD [TASKS]: signs up the user 'bench' through the API (so that its password
# hash is real) and loads the data set (bench/seed.sql, with TASKS tasks of the bench user's:
# 100,000 unless given) into the database that PG* name.
bench_seed() {
    curl -sf -H 'content-type: application/json' -d "{\"username\":\"bench\",\"pwd\":\"$2\"}" "$1/api/signup" >/dev/null
    echo "bench: loading the data set (${3:-100000} tasks of the bench user's)" >&2
    psql -q -v per_project=$(( ${3:-100000} / 4 )) -f bench/seed.sql >/dev/null
}

# bench_login BASE PWD: prints the bench user's session cookie (`auth-token=...`).
bench_login() {
    curl -si -H 'content-type: application/json' -d "{\"username\":\"bench\",\"pwd\":\"$2\"}" "$1/api/login" \
        | tr -d '\r' | sed -n 's/^set-cookie: \(auth-token=[^;]*\).*/\1/ip'
}

# bench_ids: prints "uid task_min task_max project_min project_max" of the bench user, from the
# database that PG* name.
bench_ids() {
    psql -At -F ' ' -c "
        SELECT u.id, min(t.id), max(t.id), min(p.id), max(p.id)
        FROM \"user\" u JOIN project p ON p.owner_id = u.id JOIN task t ON t.project_id = p.id
        WHERE u.username = 'bench' GROUP BY u.id"
}

# bench_cursor BASE COOKIE OFFSET: prints the next_cursor of the page of 100 tasks (id order)
# ending OFFSET rows deep: following it reads the page that starts OFFSET rows deep.
bench_cursor() {
    curl -sf -H 'content-type: application/json' -H "cookie: $2" "$1/api/rpc" -d "{\"jsonrpc\":\"2.0\",\"id\":1,
        \"method\":\"list_tasks\",\"params\":{\"list_options\":{\"limit\":100,\"offset\":$(( $3 - 100 ))}}}" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["result"]["next_cursor"])'
}
