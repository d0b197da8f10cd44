#!/usr/bin/env bash
# The API's self-description (issue 17), end to end:
#   1. the OpenRPC document, as the server binary prints it, generates the TypeScript client
#      (clients/ts), which must build, and whose types must accept and refuse what
#      test/types.check.ts says;
#   2. the frontend's ES modules type-check against those types (clients/ts/tsconfig.frontend.json);
#   3. the document validates against the OpenRPC meta-schema, its examples and every request
#      in docs/api.md conform to it, its examples run against a live server on a freshly seeded
#      database with results of the documented shape, and the client works against it.
#
#   SERVER_BIN  server binary (default target/debug/web-server; build it first)
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER_BIN=${SERVER_BIN:-target/debug/web-server}

if [ ! -d clients/ts/node_modules/typescript ]; then
  (cd clients/ts && npm ci --no-audit --no-fund)
fi
mkdir -p target
"$SERVER_BIN" openrpc > target/openrpc.json

(
  cd clients/ts
  node generate.mjs ../../target/openrpc.json
  npx tsc -p .
  npx tsc -p test
  npx tsc -p tsconfig.frontend.json
)

# A database of its own, reset and seeded by e2e/run.sh: the examples run as demo1 on it.
OPENRPC_DOC=$PWD/target/openrpc.json \
DATABASE_URL=${OPENRPC_DATABASE_URL:-postgres://postgres:welcome@localhost:5432/app_openrpc} \
SERVER_BIN=$SERVER_BIN \
  bash e2e/run.sh clients/ts/test/document.test.mjs clients/ts/test/live.test.mjs
