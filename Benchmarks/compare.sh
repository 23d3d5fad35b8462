#!/usr/bin/env bash
# Side-by-side RPC benchmark: minimal C/libzmq reference vs. ZGrid.
#
# Runs, in this order, over tcp loopback: C, ZGrid, C, ZGrid (two rounds, to
# show noise). Each run = broker + 2 echo workers (background) + one client
# that prints a single key=value line. Then prints the ratio table.
#
# Environment (defaults):
#   SYNC_CALLS=20000 PIPELINED_CALLS=200000 SIZE=64 PIPELINE=200
#   ZGRID=.build/release/zgrid   (built with `swift build -c release --product zgrid` if missing)
#   ZGRID_ONLY_C=1               run only the C side (no zgrid build/run, no ratios)
#   ZGRID_CONCURRENCY=128        each zgrid worker's concurrency (credit)
#   ZGRID_CALLERS="each pool"    how zgrid makes the pipelined calls, one zgrid run per word (see
#                                `zgrid bench rpc --help`): each = one GridClient.callEach run (the
#                                API for many calls of one function); pool = 200 tasks calling
#                                GridClient.call in a loop; client = the same tasks on the client's executor
#   ROUNDS=2                     number of rounds
#   STARTUP_WAIT=0.5             seconds between starting broker/workers and the client
#   RUN_TIMEOUT=600              seconds before a client run is considered hung (failure)
#   CC=cc
#
# Exit status: 0 when every run produced its line (even if targets are missed;
# this is a report), non-zero if a build or a run failed.
set -euo pipefail

ORIG_PWD=$PWD
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

SYNC_CALLS=${SYNC_CALLS:-20000}
PIPELINED_CALLS=${PIPELINED_CALLS:-200000}
SIZE=${SIZE:-64}
PIPELINE=${PIPELINE:-200}
ROUNDS=${ROUNDS:-2}
STARTUP_WAIT=${STARTUP_WAIT:-0.5}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
ZGRID_ONLY_C=${ZGRID_ONLY_C:-0}
# Each zgrid worker's credit: the C reference has no credit limit, so give the two workers enough
# to hold the whole pipeline (2 x 128 >= 200), or the broker queues what the C broker forwards.
ZGRID_CONCURRENCY=${ZGRID_CONCURRENCY:-128}
# How zgrid makes the pipelined calls: one zgrid run per word, each compared with the same round's C run.
read -r -a ZGRID_MODES <<<"${ZGRID_CALLERS:-each pool}"
(( ${#ZGRID_MODES[@]} > 0 )) || { echo "compare.sh: ZGRID_CALLERS is empty" >&2; exit 2; }
CC=${CC:-cc}

log() { echo "compare.sh: $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

# shellcheck source=Benchmarks/common.sh
source "$ROOT/Benchmarks/common.sh"

# --- background process bookkeeping ----------------------------------------
BG_PIDS=()
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/zgrid-compare.XXXXXX")

stop_bg() {
    local pid
    for pid in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do
        # Give each process up to ~3 s to exit cleanly, then SIGKILL it.
        local i
        for i in $(seq 1 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    BG_PIDS=()
}

cleanup() {
    local rc=$?
    stop_bg
    rm -rf "$LOGDIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_bg LOGFILE CMD ARGS... : start a background process and remember it.
start_bg() {
    local logfile=$1
    shift
    "$@" >>"$logfile" 2>&1 &
    BG_PIDS+=("$!")
}

dump_logs() {
    local f
    for f in "$LOGDIR"/*.log; do
        [[ -s "$f" ]] || continue
        log "---- $(basename "$f") (last lines) ----"
        tail -n 20 "$f" >&2 || true
    done
}

check_bg_alive() {
    local pid
    for pid in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            dump_logs
            fail "$1: background process $pid exited early"
        fi
    done
}

# --- ports ------------------------------------------------------------------
read -r PORT_C PORT_Z < <(python3 -c '
import socket
a = socket.socket(); a.bind(("127.0.0.1", 0))
b = socket.socket(); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])
a.close(); b.close()
') || fail "could not pick free ports (python3 missing?)"
EP_C="tcp://127.0.0.1:$PORT_C"
EP_Z="tcp://127.0.0.1:$PORT_Z"

# --- builds -----------------------------------------------------------------
build_reference
[[ "$ZGRID_ONLY_C" == 1 ]] || ensure_zgrid

# --- runs -------------------------------------------------------------------
CLIENT_ARGS=(--size "$SIZE" --sync "$SYNC_CALLS" --pipeline "$PIPELINE" --pipelined-calls "$PIPELINED_CALLS")

# run_client TAG CMD ARGS... : run the client with a time limit, stdout to
# $LOGDIR/TAG-client.out. It runs in the background and is waited for, so a
# signal to this script is handled at once (the EXIT trap kills it too).
run_client() {
    local tag=$1 pid rc=0
    shift
    timeout "$RUN_TIMEOUT" "$@" >"$LOGDIR/$tag-client.out" 2>>"$LOGDIR/$tag-client.log" &
    pid=$!
    BG_PIDS+=("$pid")
    wait "$pid" || rc=$?
    return "$rc"
}

# run_side c|zgrid ROUND [CALLERS] : runs one side, sets RESULT_LINE to the client's
# key=value line. Runs in the main shell (not in $(...)) so that the EXIT trap
# sees every background pid.
RESULT_LINE=

run_side() {
    local impl=$1 round=$2 callers=${3:-} line= rc=0
    local tag="$impl${callers:+-$callers}-r$round"
    if [[ "$impl" == c ]]; then
        start_bg "$LOGDIR/$tag-broker.log" "$REF_BIN" broker "$EP_C"
        sleep 0.1
        start_bg "$LOGDIR/$tag-worker1.log" "$REF_BIN" worker "$EP_C"
        start_bg "$LOGDIR/$tag-worker2.log" "$REF_BIN" worker "$EP_C"
        sleep "$STARTUP_WAIT"
        check_bg_alive "$tag"
        run_client "$tag" "$REF_BIN" client "$EP_C" "${CLIENT_ARGS[@]}" || rc=$?
    else
        start_bg "$LOGDIR/$tag-broker.log" "$ZGRID" broker --bind "$EP_Z" --log-level warning
        sleep 0.1
        local w
        for w in 1 2; do
            start_bg "$LOGDIR/$tag-worker$w.log" "$ZGRID" worker --connect "$EP_Z" \
                --function echo --concurrency "$ZGRID_CONCURRENCY" --log-level warning
        done
        sleep "$STARTUP_WAIT"
        check_bg_alive "$tag"
        run_client "$tag" "$ZGRID" bench rpc --connect "$EP_Z" --callers "$callers" "${CLIENT_ARGS[@]}" || rc=$?
    fi
    if [[ $rc -ne 0 ]]; then
        dump_logs
        [[ $rc -eq 124 ]] && fail "$tag: client timed out after ${RUN_TIMEOUT}s"
        fail "$tag: client exited with status $rc"
    fi
    # Keep only the result line (tolerate extra chatter on stdout).
    line=$(grep -E "^impl=$impl " "$LOGDIR/$tag-client.out" | tail -n 1) || true
    if [[ -z "$line" ]]; then
        dump_logs
        fail "$tag: client printed no 'impl=$impl ...' line"
    fi
    stop_bg
    RESULT_LINE=$line
}

log "params: SIZE=$SIZE SYNC_CALLS=$SYNC_CALLS PIPELINE=$PIPELINE PIPELINED_CALLS=$PIPELINED_CALLS ROUNDS=$ROUNDS"
declare -a C_LINES=() Z_LINES=() Z_ROUNDS=()
for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round (zgrid workers: concurrency $ZGRID_CONCURRENCY, callers: ${ZGRID_MODES[*]})"
    run_side c "$round"
    echo "$RESULT_LINE"
    C_LINES+=("$RESULT_LINE")
    if [[ "$ZGRID_ONLY_C" != 1 ]]; then
        for mode in "${ZGRID_MODES[@]}"; do
            run_side zgrid "$round" "$mode"
            echo "$RESULT_LINE"
            Z_LINES+=("$RESULT_LINE")
            Z_ROUNDS+=("$round")
        done
    fi
done

if [[ "$ZGRID_ONLY_C" == 1 ]]; then
    echo
    echo "ZGRID_ONLY_C=1: zgrid side skipped, no ratios."
    exit 0
fi

# --- ratio table ------------------------------------------------------------
echo
printf '%-6s %-36s %12s %12s %8s %7s\n' round metric c zgrid zgrid/c result
for i in "${!Z_LINES[@]}"; do
    round=${Z_ROUNDS[$i]}
    printf '%s\n%s\n' "${C_LINES[$((round - 1))]}" "${Z_LINES[$i]}" | awk -v round="$round" '
        function kv(line, arr,   n, i, f, p) {
            n = split(line, f, " ")
            for (i = 1; i <= n; i++) {
                p = index(f[i], "=")
                if (p > 0) arr[substr(f[i], 1, p - 1)] = substr(f[i], p + 1)
            }
        }
        function row(metric, cv, zv, target, cmp,   r, res) {
            if (cv + 0 == 0) { r = "n/a"; res = "-" }
            else {
                r = sprintf("%.2f", zv / cv)
                if (cmp == "<=") res = (zv / cv <= target) ? "PASS" : "MISS"
                else if (cmp == ">=") res = (zv / cv >= target) ? "PASS" : "MISS"
                else res = "-"
                if (cmp != "") metric = metric " (" cmp sprintf("%.2f", target) ")"
            }
            printf "%-6s %-36s %12.2f %12.2f %8s %7s\n", round, metric " [" z["callers"] "]", cv, zv, r, res
        }
        NR == 1 { kv($0, c) }
        NR == 2 { kv($0, z) }
        END {
            row("sync p50 us", c["sync_p50_us"], z["sync_p50_us"], 1.30, "<=")
            row("sync mean us", c["sync_mean_us"], z["sync_mean_us"], 0, "")
            row("pipelined calls/s", c["pipelined_cps"], z["pipelined_cps"], 0.60, ">=")
        }'
done
exit 0
