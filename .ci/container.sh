#!/usr/bin/env bash
# CI: builds the container image (Containerfile, stage `prebuilt`: the release binary built here
# on a Debian base made here, since no registry is reachable) and smoke-tests a container of it
# against the machine's Postgres: ready, signup, login, one RPC, its own health check, and a clean
# stop on SIGTERM. Run from the repository's root as root (CI); installs podman if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

export CONTAINERS_CONF=$PWD/.ci/containers.conf
IMAGE=localhost/web-server:ci
BASE=localhost/bookworm-base
PORT=18095
DB=app_container
NAME=web-server-smoke

if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null || ! command -v runc >/dev/null; then
    echo "container: installing podman, runc and debootstrap" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi

if ! podman image exists "$BASE"; then
    echo "container: making $BASE with debootstrap" >&2
    mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
    rm -rf target/container/rootfs
    mkdir -p target/container
    debootstrap --variant=minbase bookworm target/container/rootfs "${mirror:-http://deb.debian.org/debian}" >/dev/null
    tar -C target/container/rootfs -c . | podman import - "$BASE" >/dev/null
    rm -rf target/container/rootfs
fi

cargo build --release --locked -p web-server
podman build -q --format docker -f Containerfile --target prebuilt --build-arg RUNTIME_IMAGE="$BASE" -t "$IMAGE" . >/dev/null

psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
podman rm -f "$NAME" >/dev/null 2>&1 || true
trap 'podman rm -f "$NAME" >/dev/null 2>&1 || true' EXIT
# As production runs it: read-only root file system, the host's network to reach its Postgres.
# podman would run the image's HEALTHCHECK from systemd timers, and CI has no systemd: the check
# is run by hand below instead, after making sure the image declares it.
podman run -d --name "$NAME" --read-only --network host --no-healthcheck \
    -e DATABASE_URL="postgres://postgres:welcome@127.0.0.1:5432/$DB" \
    -e PWD_KEY="$(target/release/web-server gen-key)" \
    -e LISTEN_ADDR="127.0.0.1:$PORT" -e ADMIN_LISTEN_ADDR= -e COOKIE_SECURE=false -e SHUTDOWN_GRACE_SEC=5 \
    "$IMAGE" >/dev/null

BASE_URL=http://127.0.0.1:$PORT
for _ in $(seq 1 100); do
    curl -sf "$BASE_URL/health/ready" >/dev/null && break
    sleep 0.1
done
fail() { echo "container: $*" >&2; podman logs "$NAME" >&2 || true; exit 1; }
curl -sf "$BASE_URL/health/ready" >/dev/null || fail "not ready within 10 s"
declared=$(podman image inspect -f '{{.Config.Healthcheck.Test}}' "$IMAGE")
[ "$declared" = "[CMD /usr/local/bin/web-server healthcheck]" ] || fail "the image declares no health check: $declared"
podman exec "$NAME" /usr/local/bin/web-server healthcheck || fail "its own health check failed"

jar=$(mktemp)
json='content-type: application/json'
signup=$(curl -s -H "$json" -d '{"username":"smoke","pwd":"a smoke test password"}' "$BASE_URL/api/signup")
case "$signup" in *'"user_id"'*) ;; *) fail "signup: $signup" ;; esac
login=$(curl -s -c "$jar" -H "$json" -d '{"username":"smoke","pwd":"a smoke test password"}' "$BASE_URL/api/login")
[ "$login" = '{"result":{"success":true}}' ] || fail "login: $login"
rpc=$(curl -s -b "$jar" -H "$json" \
    -d '{"jsonrpc":"2.0","id":1,"method":"create_project","params":{"data":{"name":"from the container"}}}' "$BASE_URL/api/rpc")
case "$rpc" in *'"name":"from the container"'*) ;; *) fail "create_project: $rpc" ;; esac
page=$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/")
[ "$page" = 200 ] || fail "the frontend answered $page"
rm -f "$jar"

podman stop -t 15 "$NAME" >/dev/null
status=$(podman inspect -f '{{.State.ExitCode}}' "$NAME")
[ "$status" = 0 ] || fail "exited with $status on SIGTERM"
echo "container: $IMAGE ready, signup, login, create_project, frontend, health check, clean stop"
