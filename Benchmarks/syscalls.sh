#!/usr/bin/env bash
# System calls per synchronous call: the C reference and ZGrid side by side.
#
# Timings on a shared machine move by tens of percent from run to run; how many system calls a
# round trip makes does not. This runs the same setup as compare.sh (broker and 2 echo workers as
# processes, one client, tcp loopback, 64-byte echo), with SYNC_CALLS synchronous calls, and counts
# each process's system calls with perf's syscall tracepoints. It prints, per process, the calls
# per round trip: poll(2) (mostly libzmq asking a socket's mailbox), getpid(2) (libzmq's fork check
# beside each), and all system calls, then ZGrid's excess over C.
#
# Needs perf (Debian: linux-perf) and access to tracepoints (root, or
# kernel.perf_event_paranoid <= -1). Environment (defaults):
#   SYNC_CALLS=5000  ZGRID=.build/release/zgrid  ZGRID_CALLERS=each  STARTUP_WAIT=1.5  CC=cc
#
# Exit status: 0 when both sides ran, non-zero if perf, a build or a run failed.
set -euo pipefail

ORIG_PWD=$PWD
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

SYNC_CALLS=${SYNC_CALLS:-5000}
ZGRID_CALLERS=${ZGRID_CALLERS:-each}
STARTUP_WAIT=${STARTUP_WAIT:-1.5}
CC=${CC:-cc}
EVENTS=syscalls:sys_enter_poll,syscalls:sys_enter_getpid,raw_syscalls:sys_enter,context-switches

log() { echo "syscalls.sh: $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

# shellcheck source=Benchmarks/common.sh
source "$ROOT/Benchmarks/common.sh"

command -v perf >/dev/null || fail "perf not found (Debian: apt-get install linux-perf)"
perf stat -x, -e "$EVENTS" true >/dev/null 2>&1 || fail "perf cannot read syscall tracepoints here (run as root, or lower kernel.perf_event_paranoid)"

set_up_work_dir zgrid-syscalls

build_reference
ensure_zgrid


# run_side c|zgrid: starts broker and workers, counts while the client runs, stops them.
run_side() {
    local side=$1 endpoint broker w1 w2 counters=()
    endpoint="tcp://127.0.0.1:$(free_port)"
    start_side "$side" "$endpoint" "$WORK"
    broker=${PIDS[0]} w1=${PIDS[1]} w2=${PIDS[2]}
    sleep "$STARTUP_WAIT"
    perf stat -x, -e "$EVENTS" -p "$broker" -o "$WORK/$side-broker.pc" &
    counters+=($!)
    perf stat -x, -e "$EVENTS" -p "$w1,$w2" -o "$WORK/$side-workers.pc" &
    counters+=($!)
    sleep 0.3
    perf stat -x, -e "$EVENTS" -o "$WORK/$side-client.pc" \
        "${CLIENT[@]}" --size 64 --sync "$SYNC_CALLS" --pipeline 1 --pipelined-calls 1 >"$WORK/$side-client.out" \
        || fail "$side client failed: $(tail -n 5 "$WORK/$side-client.out")"
    kill -INT "${counters[@]}"
    wait "${counters[@]}" 2>/dev/null || true
    stop_side
}

run_side c
run_side zgrid

echo "system calls per synchronous round trip ($SYNC_CALLS calls, 64-byte echo; zgrid callers: $ZGRID_CALLERS)"
printf '%-8s %-18s %8s %8s %8s\n' process counter c zgrid excess
for process in broker workers client; do
    awk -F, -v n="$SYNC_CALLS" -v p="$process" '
        # perf stat -x, lines: value,unit,event,...
        /^[0-9]/ {
            name = $3; sub(/^.*:/, "", name); sub(/^sys_enter_/, "", name)
            if (name == "sys_enter") name = "all"
            if (FNR == NR) { c[name] = $1; order[++count] = name } else z[name] = $1
        }
        END {
            for (i = 1; i <= count; i++) {
                name = order[i]
                printf "%-8s %-18s %8.1f %8.1f %+8.1f\n", p, name, c[name] / n, z[name] / n, (z[name] - c[name]) / n
            }
        }' "$WORK/c-$process.pc" "$WORK/zgrid-$process.pc"
done
