#!/usr/bin/env bash
# The private-cluster path of development (issue 19): DATABASE_URL unset and nothing listening at
# the default address (PGPORT=1), so the tests and the server start their own Postgres under
# target/dev-postgres from the machine's server binaries (as the postgres user when run as root,
# as CI is). Some model tests, then the server: ready, and the demo user can log in. The cluster
# is stopped at the end, so CI leaves no server behind.
set -euo pipefail
cd "$(dirname "$0")/.."
unset DATABASE_URL
export PGPORT=1 LISTEN_ADDR=127.0.0.1:18080

stop_cluster() { cargo run -q --locked -p web-server -- dev-db stop || true; }
trap 'kill "${SERVER_PID:-}" 2>/dev/null || true; stop_cluster' EXIT

cargo test -q --locked -p lib-model --test schema --test crud --test dev_cluster

cargo build -q --locked -p web-server
cargo run -q --locked -p web-server >target/private-postgres-server.log 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    curl -sf "http://$LISTEN_ADDR/health/ready" >/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat target/private-postgres-server.log; exit 1; }
    sleep 0.1
done
login=$(curl -sf -H 'content-type: application/json' -d '{"username":"demo1","pwd":"welcome"}' \
    "http://$LISTEN_ADDR/api/login")
[ "$login" = '{"result":{"success":true}}' ] || { echo "demo1 cannot log in: $login"; exit 1; }
grep -q "private development Postgres" target/private-postgres-server.log \
    || { echo "the server did not use the private Postgres"; cat target/private-postgres-server.log; exit 1; }
echo "private Postgres: tests passed, server ready, demo1 logged in"
