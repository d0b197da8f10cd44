#!/usr/bin/env bash
# CI: the production layout on one machine: nginx in front of two instances of the release binary
# whose pools go through PgBouncer in transaction mode (their LISTEN connection direct), on one
# database migrated first by `web-server migrate` (the instances run with MIGRATE_ON_START=false).
# Checks that requests through the proxy reach both instances and their statements PgBouncer, that
# each instance logs the client address nginx saw (TRUSTED_PROXIES), and that a logoff on one
# instance ends the session on the other within a second. Run from the repository's root as root
# (CI); installs nginx and pgbouncer if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    echo "stack: installing nginx" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
fi
if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
    echo "stack: installing pgbouncer" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
BIN=target/release/web-server
cargo build --release --locked -p web-server
DIR=$PWD/target/stack
DB=app_stack
PROXY=127.0.0.1:18110
INSTANCES=(127.0.0.1:18111 127.0.0.1:18112)
BOUNCER_PORT=18113
CLIENT=127.0.0.7
rm -rf "$DIR" && mkdir -p "$DIR"

PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
fail() { echo "stack: $*" >&2; tail -n 20 "$DIR"/*.log >&2 || true; exit 1; }

psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
DIRECT_URL="postgres://postgres:welcome@127.0.0.1:5432/$DB"
export APP_ENV=production LOG_FORMAT=json RUST_LOG=info COOKIE_SECURE=false MIGRATE_ON_START=false \
    DATABASE_URL="$DIRECT_URL" TRUSTED_PROXIES=127.0.0.1 PWD_KEY="$("$BIN" gen-key)"
"$BIN" migrate >"$DIR/migrate.log" || fail "migrate failed"

# PgBouncer: SCRAM towards the instances, four server connections for their sixteen.
cat >"$DIR/pgbouncer.ini" <<INI
[databases]
$DB = host=127.0.0.1 port=5432 dbname=$DB
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $DIR/pgbouncer-users.txt
pool_mode = transaction
default_pool_size = 4
max_client_conn = 100
INI
echo '"postgres" "welcome"' >"$DIR/pgbouncer-users.txt"
# It refuses to run as root; it reads its files before it switches user.
"$PGBOUNCER" -u postgres "$DIR/pgbouncer.ini" >"$DIR/pgbouncer.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    pg_isready -q -h 127.0.0.1 -p "$BOUNCER_PORT" && break
    sleep 0.1
done
pg_isready -q -h 127.0.0.1 -p "$BOUNCER_PORT" || fail "PgBouncer not listening within 10 s"

for i in 0 1; do
    LISTEN_ADDR=${INSTANCES[$i]} ADMIN_LISTEN_ADDR= DATABASE_URL="postgres://postgres:welcome@127.0.0.1:$BOUNCER_PORT/$DB" \
        DATABASE_LISTEN_URL="$DIRECT_URL" DATABASE_POOL_MODE=transaction DB_MAX_CONNECTIONS=8 \
        "$BIN" >"$DIR/instance-$i.log" 2>&1 &
    PIDS+=($!)
done
cat >"$DIR/nginx.conf" <<NGINX
daemon off;
user root;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log;
events {}
http {
    access_log off;
    client_body_temp_path $DIR/body;
    proxy_temp_path $DIR/proxy;
    upstream app { server ${INSTANCES[0]}; server ${INSTANCES[1]}; }
    server {
        listen $PROXY;
        location / {
            proxy_pass http://app;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_next_upstream off;
        }
    }
}
NGINX
"$NGINX" -p "$DIR" -c "$DIR/nginx.conf" &
PIDS+=($!)

for addr in "${INSTANCES[@]}" "$PROXY"; do
    for _ in $(seq 1 100); do
        curl -sf "http://$addr/health/ready" >/dev/null && break
        sleep 0.1
    done
    curl -sf "http://$addr/health/ready" >/dev/null || fail "$addr not ready within 10 s"
done

jar=$DIR/cookies.txt
through() { curl -s --interface "$CLIENT" -b "$jar" -c "$jar" -H 'content-type: application/json' "http://$PROXY$1" -d "$2"; }
through /api/signup '{"username":"stack","pwd":"a stack test password"}' | grep -q '"user_id"' || fail "signup"
through /api/login '{"username":"stack","pwd":"a stack test password"}' | grep -q '"success":true' || fail "login"
for n in 1 2 3 4; do
    answer=$(through /api/rpc "{\"jsonrpc\":\"2.0\",\"id\":$n,\"method\":\"create_project\",\"params\":{\"data\":{\"name\":\"p$n\"}}}")
    case "$answer" in *"\"name\":\"p$n\""*) ;; *) fail "create_project $n: $answer" ;; esac
done
answer=$(through /api/rpc '{"jsonrpc":"2.0","id":5,"method":"list_projects","params":{"filters":{"name":{"$in":["p2","p3"]}}}}')
case "$answer" in *'"name":"p2"'*'"name":"p3"'*) ;; *) fail "list_projects with a filter: $answer" ;; esac
# The instances' statements went through PgBouncer (it logs each client's login).
grep -q "login attempt: db=$DB user=postgres" "$DIR/pgbouncer.log" || fail "no instance connected through PgBouncer"
# Round robin: both instances served some of them, and each logged the client nginx saw.
for i in 0 1; do
    grep '"path":"/api/rpc"' "$DIR/instance-$i.log" | grep -q "\"client\":\"$CLIENT\"" \
        || fail "instance $i did not log a request from $CLIENT"
done

# A logoff on one instance ends the session on the other within a second.
cookie=$(awk '$6 == "auth-token" { print "auth-token=" $7 }' "$jar")
status_on() { curl -s -o /dev/null -w '%{http_code}' -H "cookie: $cookie" -H 'content-type: application/json' \
    "http://$1/api/rpc" -d '{"jsonrpc":"2.0","id":1,"method":"get_me"}'; }
[ "$(status_on "${INSTANCES[1]}")" = 200 ] || fail "the session does not work on instance 1"
curl -s -o /dev/null -H "cookie: $cookie" -H 'content-type: application/json' "http://${INSTANCES[0]}/api/logoff" \
    -d '{"logoff":true}'
for _ in $(seq 1 10); do
    [ "$(status_on "${INSTANCES[1]}")" = 401 ] && break
    sleep 0.1
done
[ "$(status_on "${INSTANCES[1]}")" = 401 ] || fail "instance 1 still accepts a session ended on instance 0"
echo "stack: nginx in front of two instances, their pools through PgBouncer: both served, client address from the proxy, logoff seen by both"
