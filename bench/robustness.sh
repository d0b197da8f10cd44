#!/usr/bin/env bash
# Robustness figures (issue 16): builds the release server, starts it with the default limits on
# a fresh database (app_robust), and runs the memory attacks against it while sampling the
# server's resident memory and the Postgres backends' private memory:
#
#   - wide answers: 1,000 tasks whose descriptions are 10,000 control characters (60 KB of JSON
#     each), then 4 concurrent batches of 20 list_tasks with limit 1000;
#   - decoding bombs: 16 concurrent 1 MiB requests whose params carry an unexpected member
#     {"x": [{"": 0}, ...]} (and a batch whose last entry does);
#   - query shapes: 28 count_tasks calls whose $notContainsAny lists differ by one value;
#   - the single requests that crashed or hurt the server before (15,000 empty filter groups, a
#     time out of range, a long static path, `//js`).
#
#   bash bench/robustness.sh            # SERVER_BIN=path to skip the build
#
# Prints a Markdown table (also target/bench/robustness.md); every loop is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${ROBUST_PORT:-8710}
DB=app_robust
DATABASE_URL=postgres://postgres:welcome@localhost:5432/$DB
OUT=target/bench
mkdir -p "$OUT"

if [ -z "${SERVER_BIN:-}" ]; then
    cargo build --release -p web-server
    SERVER_BIN=target/release/web-server
fi

APP_ENV=development DATABASE_URL=$DATABASE_URL RUST_LOG=warn "$SERVER_BIN" reset-dev-db
APP_ENV=development DATABASE_URL=$DATABASE_URL LISTEN_ADDR=127.0.0.1:$PORT ADMIN_LISTEN_ADDR= RUST_LOG=warn \
    "$SERVER_BIN" >"$OUT/robustness-server.log" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done

python3 bench/robustness.py "http://127.0.0.1:$PORT" "$SERVER_PID" "$DB" | tee "$OUT/robustness.md"
