#!/usr/bin/env bash
# Scatter/gather benchmark (issue #3's speed targets): one broker and 4 echo workers over tcp
# loopback, each worker holding 4 of the 16 shards; `zgrid bench scatter` times single calls and
# full 16-shard scatters, one at a time and kept in flight, and prints both ratios.
#
# Environment (defaults):
#   CONCURRENCY=16   each worker's concurrency (16: a worker can run its 4 shards of 4 scatters at once)
#   ROUNDS=2         how many times the whole run is repeated, to show noise
#   SECONDS_EACH=3   seconds of each throughput phase
#   ZGRID=.build/release/zgrid
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONCURRENCY=${CONCURRENCY:-16}
ROUNDS=${ROUNDS:-2}
SECONDS_EACH=${SECONDS_EACH:-3}
ZGRID=${ZGRID:-$ROOT/.build/release/zgrid}
[[ -x "$ZGRID" ]] || { echo "scatter.sh: $ZGRID missing: run swift build -c release --product zgrid" >&2; exit 1; }

PIDS=()
stop_all() {
    local pid
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
}
trap stop_all EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ENDPOINT="tcp://127.0.0.1:$PORT"
for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round: 4 workers x 4 shards of 16, concurrency $CONCURRENCY"
    "$ZGRID" broker --bind "$ENDPOINT" --log-level warning >/dev/null &
    PIDS+=("$!")
    sleep 0.2
    for shards in 0-3 4-7 8-11 12-15; do
        "$ZGRID" worker --connect "$ENDPOINT" --function echo --shards "$shards/16" --concurrency "$CONCURRENCY" \
            --log-level warning >/dev/null &
        PIDS+=("$!")
    done
    sleep 0.7
    "$ZGRID" bench scatter --connect "$ENDPOINT" --seconds "$SECONDS_EACH"
    stop_all
done
