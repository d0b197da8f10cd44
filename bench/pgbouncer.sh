#!/usr/bin/env bash
# What the pool through a transaction-pooling PgBouncer costs: one server binary, head to head
# (bench/ab.sh) straight to Postgres ("old": DATABASE_POOL_MODE=session) and through Debian's
# PgBouncer 1.18 in transaction mode ("new": DATABASE_POOL_MODE=transaction, LISTEN direct), with
# as many server connections behind PgBouncer as the pool has, so that only the per-statement
# transactions and the extra hop differ.
#
#   bash bench/pgbouncer.sh [BINARY]   # default target/release/web-server; AB_* as for bench/ab.sh
#                                      # POOL_MODE=session: PgBouncer and the server in session
#                                      # mode, to tell the hop's cost from the transactions'
#                                      # (PgBouncer then drops the startup parameters that carry
#                                      # the statement limits: a measurement, not a set-up).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/release/web-server}
PORT=6433
POOL_MODE=${POOL_MODE:-transaction}
DIR=$PWD/target/bench/pgbouncer
if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null
fi
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
mkdir -p "$DIR"
cat >"$DIR/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/users.txt
pool_mode = $POOL_MODE
default_pool_size = 16
max_client_conn = 100
log_connections = 0
log_disconnections = 0
INI
if [ "$POOL_MODE" = session ]; then
    echo "ignore_startup_parameters = extra_float_digits, options" >>"$DIR/pgbouncer.ini"
fi
echo '"postgres" ""' >"$DIR/users.txt"
# It refuses to run as root; it reads its files before it switches user.
"$PGBOUNCER" -u postgres "$DIR/pgbouncer.ini" >"$DIR/pgbouncer.log" 2>&1 &
BOUNCER_PID=$!
trap 'kill $BOUNCER_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    pg_isready -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.1
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || { echo "PgBouncer not listening; see $DIR/pgbouncer.log" >&2; exit 1; }

AB_NEW_ENV="DATABASE_URL=postgres://postgres:welcome@127.0.0.1:$PORT/app_bench_new \
DATABASE_LISTEN_URL=postgres://postgres:welcome@localhost:5432/app_bench_new DATABASE_POOL_MODE=$POOL_MODE" \
    bash bench/ab.sh "$BIN" "$BIN"
