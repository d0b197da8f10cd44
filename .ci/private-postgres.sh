#!/usr/bin/env bash
# The private-cluster path of development (issue 19): DATABASE_URL unset and nothing listening at
# the default address (PGPORT=1), so the servers and the tests start their own Postgres under
# target/dev-postgres from the machine's server binaries (as the postgres user when run as root,
# as CI is). From no cluster at all, two servers start at once and share one (each ready, demo1
# logs in on both); then every test of the workspace runs on it. The cluster is stopped at the
# end, so CI leaves no server behind; a developer's own cluster is set aside and put back.
set -euo pipefail
cd "$(dirname "$0")/.."
unset DATABASE_URL
export PGPORT=1

cargo build -q --locked -p web-server
stop_cluster() { cargo run -q --locked -p web-server -- dev-db stop || true; }
PIDS=()
put_back() {
    rm -rf target/dev-postgres
    if [ -d target/dev-postgres.before-ci ]; then mv target/dev-postgres.before-ci target/dev-postgres; fi
}
trap 'kill "${PIDS[@]}" 2>/dev/null || true; stop_cluster; put_back' EXIT
stop_cluster
if [ -d target/dev-postgres ]; then rm -rf target/dev-postgres.before-ci; mv target/dev-postgres target/dev-postgres.before-ci; fi

for port in 18080 18081; do
    LISTEN_ADDR=127.0.0.1:$port ADMIN_LISTEN_ADDR= cargo run -q --locked -p web-server >"target/private-postgres-$port.log" 2>&1 &
    PIDS+=($!)
done
for port in 18080 18081; do
    for _ in $(seq 1 300); do
        curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break
        grep -q "web-server: " "target/private-postgres-$port.log" && break # it stopped with an error
        sleep 0.1
    done
    login=$(curl -s -H 'content-type: application/json' -d '{"username":"demo1","pwd":"welcome"}' \
        "http://127.0.0.1:$port/api/login")
    if [ "$login" != '{"result":{"success":true}}' ] \
        || ! grep -q "private development Postgres" "target/private-postgres-$port.log"; then
        echo "the server on $port did not start on the private Postgres: $login"
        cat "target/private-postgres-$port.log"
        exit 1
    fi
done
kill "${PIDS[@]}"

cargo test -q --locked --workspace
echo "private Postgres: two servers started on one new cluster, demo1 logged in on both, every test passed"
