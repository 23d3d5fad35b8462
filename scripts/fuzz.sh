#!/usr/bin/env bash
# Fuzzes a local broker: starts `zgrid broker` (with a job store in a temporary directory, so the
# fuzzed SUBMIT, ENQUEUE, JOB and JOBS commands reach it) and `zgrid worker --function echo`, then
# runs `zgrid fuzz` against them and prints what it checked. Exits with zgrid fuzz's status.
#
# Settings through the environment: ZGRID (the zgrid executable, default .build/release/zgrid),
# MESSAGES (default 1000000), SEED (default 1), PORT (default 47555), RSS_SLACK_MIB (default 64).
set -euo pipefail
cd "$(dirname "$0")/.."

zgrid=${ZGRID:-.build/release/zgrid}
messages=${MESSAGES:-1000000}
seed=${SEED:-1}
port=${PORT:-47555}
endpoint="tcp://127.0.0.1:$port"
work=$(mktemp -d)
broker=""
worker=""

cleanup() {
    [ -n "$worker" ] && kill "$worker" 2>/dev/null || true
    [ -n "$broker" ] && kill "$broker" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Short heartbeats and grace period, so that the fuzzer's peers and calls are forgotten within
# seconds; a 1 MiB frame limit, so that frames just under and over it stay cheap to send.
cat > "$work/fuzz.conf" <<CONF
[broker]
bind = ["$endpoint"]
heartbeat_ms = 250
liveness = 4
unknown_function_grace_ms = 500
default_timeout_ms = 5000
max_message_bytes = 1048576

[jobs]
store = "$work/jobs.sqlite"
CONF

"$zgrid" broker --config "$work/fuzz.conf" --log-level error &
broker=$!
"$zgrid" worker --config "$work/fuzz.conf" --connect "$endpoint" --function echo --concurrency 16 --log-level error &
worker=$!

"$zgrid" fuzz --config "$work/fuzz.conf" --connect "$endpoint" --messages "$messages" --seed "$seed" \
    --broker-pid "$broker" --rss-slack-mib "${RSS_SLACK_MIB:-64}"
