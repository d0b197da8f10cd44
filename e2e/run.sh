#!/usr/bin/env bash
# End-to-end tests: start the built server on a free port against the e2e
# database, drive the web frontend with headless Chromium, stop the server.
#
#   SERVER_BIN   server binary (default target/debug/web-server; build it first)
#   DATABASE_URL default postgres://postgres:welcome@localhost:5432/app_e2e
#                (the server creates the database and migrates it in development)
#
# Screenshots land in target/e2e-screenshots/, the server's log in target/e2e-server.log.
# Exits with the test runner's status.
#
# Arguments, when given, are the test files to run, relative to the repository root (default:
# all of e2e/tests), e.g.
#   SERVER_BIN=... bash e2e/run.sh e2e/tests/sharing.test.mjs
#
# Against a server that is already running:
#   E2E_BASE_URL=http://127.0.0.1:8080 node --test --test-concurrency=1 e2e/tests/*.test.mjs
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
if [ "$#" -gt 0 ]; then TESTS=("$@"); else TESTS=(e2e/tests/*.test.mjs); fi

SERVER_BIN=${SERVER_BIN:-target/debug/web-server}
DATABASE_URL=${DATABASE_URL:-postgres://postgres:welcome@localhost:5432/app_e2e}
READY_TIMEOUT_SEC=${READY_TIMEOUT_SEC:-60}
SERVER_LOG=$ROOT/target/e2e-server.log

if [ ! -x /usr/bin/chromium ]; then
  echo "e2e: installing Debian's chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends chromium
fi

if [ ! -d e2e/node_modules/playwright-core ]; then
  (cd e2e && npm ci --no-audit --no-fund)
fi

if [ ! -x "$SERVER_BIN" ]; then
  echo "e2e: server binary '$SERVER_BIN' not found; build it (cargo build -p web-server) or set SERVER_BIN" >&2
  exit 2
fi

free_port() {
  node -e '
    const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
PORT=$(free_port)
BASE_URL="http://127.0.0.1:$PORT"
# The admin listener (metrics, the diagnostics dashboard), for dashboard.test.mjs.
ADMIN_PORT=$(free_port)
export E2E_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"

mkdir -p "$ROOT/target"
# A fresh database every run, so earlier runs' rows and login counters cannot matter.
APP_ENV=development DATABASE_URL="$DATABASE_URL" RUST_LOG=warn "$SERVER_BIN" reset-dev-db

echo "e2e: starting $SERVER_BIN on $BASE_URL (log: $SERVER_LOG)" >&2
# Every browser of the suite signs up from 127.0.0.1: more than one address's default allowance.
APP_ENV=development \
SIGNUPS_PER_ADDR=500 \
LISTEN_ADDR="127.0.0.1:$PORT" \
ADMIN_LISTEN_ADDR="127.0.0.1:$ADMIN_PORT" \
DATABASE_URL="$DATABASE_URL" \
WEB_FOLDER=web-folder \
  "$SERVER_BIN" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

stop_server() {
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    # Graceful shutdown is bounded by the server; do not wait forever for it.
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Wait for /health/ready, giving up early if the server has already exited.
if ! SERVER_PID=$SERVER_PID node -e '
  const url = process.argv[1] + "/health/ready";
  const deadline = Date.now() + Number(process.argv[2]) * 1000;
  const alive = () => { try { process.kill(Number(process.env.SERVER_PID), 0); return true; } catch { return false; } };
  (async () => {
    while (Date.now() < deadline) {
      if (!alive()) { console.error("e2e: the server exited before it was ready"); process.exit(1); }
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) process.exit(0);
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 200));
    }
    console.error("e2e: the server was not ready within " + process.argv[2] + " s");
    process.exit(1);
  })();' "$BASE_URL" "$READY_TIMEOUT_SEC"; then
  echo "---- last lines of $SERVER_LOG ----" >&2
  tail -n 50 "$SERVER_LOG" >&2 || true
  exit 1
fi

set +e
E2E_BASE_URL=$BASE_URL node --test --test-concurrency=1 "${TESTS[@]}"
STATUS=$?
set -e
if [ "$STATUS" != 0 ]; then
  echo "---- last lines of $SERVER_LOG ----" >&2
  tail -n 50 "$SERVER_LOG" >&2 || true
fi
exit "$STATUS"
