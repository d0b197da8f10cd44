#!/usr/bin/env bash
# What tracing costs get_task (issue 13): the same binary with no OTLP endpoint (A) and with every
# request's spans exported to a local sink that answers 200 (B, bench/otlp-sink.py), through
# bench/ab.sh (alternating rounds, the same data set).
#
#   bash bench/traces.sh [BINARY]    # default target/release/web-server; AB_* as for bench/ab.sh
#                                    # TRACES_LOG=info: both sides log every request (RUST_LOG=info,
#                                    # LOG_FORMAT=json), as a server does with its defaults; unset,
#                                    # neither logs requests (RUST_LOG=warn, as bench/run.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/web-server}
SINK_PORT=${SINK_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
python3 bench/otlp-sink.py "$SINK_PORT" &
SINK_PID=$!
trap 'kill $SINK_PID 2>/dev/null || true' EXIT
# Every request sampled: the SDK's default, spelled out.
# The exporter's own messages (failing, working again) are logged either way.
if [ "${TRACES_LOG:-warn}" = info ]; then
    LOG="RUST_LOG=info LOG_FORMAT=json"
else
    LOG="RUST_LOG=warn,web_server::telemetry=info"
fi
AB_OLD_ENV="${AB_OLD_ENV:-} $LOG" \
AB_NEW_ENV="${AB_NEW_ENV:-} OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$SINK_PORT OTEL_TRACES_SAMPLER=always_on $LOG" \
    bash bench/ab.sh "$BIN" "$BIN"
