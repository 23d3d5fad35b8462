#!/usr/bin/env bash
# CPU time per pipelined call: the C reference and ZGrid side by side, per process and thread.
#
# On two shared cores the pipelined rate is capped by how much CPU all four processes spend per
# call together. That too depends on load (a busier machine batches more into each wake-up), so
# compare the two sides within one run.
# This runs the same setup as compare.sh (broker and 2 echo workers as processes, one client, tcp
# loopback, 64-byte echo, PIPELINE calls in flight) for PIPELINED_CALLS calls, reads each thread's
# CPU time from /proc before and after, and prints microseconds of CPU per call: the broker's and
# the workers' own threads ("loop") and libzmq's I/O threads ("libzmq"), the client, and the sum.
#
# Environment (defaults):
#   PIPELINED_CALLS=400000  PIPELINE=200  ZGRID=.build/release/zgrid  ZGRID_CALLERS=each
#   ZGRID_CONCURRENCY=128  STARTUP_WAIT=1.5  CC=cc
#
# Exit status: 0 when both sides ran, non-zero if a build or a run failed.
set -euo pipefail

ORIG_PWD=$PWD
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PIPELINED_CALLS=${PIPELINED_CALLS:-400000}
PIPELINE=${PIPELINE:-200}
ZGRID_CALLERS=${ZGRID_CALLERS:-each}
ZGRID_CONCURRENCY=${ZGRID_CONCURRENCY:-128}
STARTUP_WAIT=${STARTUP_WAIT:-1.5}
CC=${CC:-cc}

log() { echo "cpu.sh: $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

# shellcheck source=Benchmarks/common.sh
source "$ROOT/Benchmarks/common.sh"

set_up_work_dir zgrid-cpu

build_reference
ensure_zgrid

TICKS=$(getconf CLK_TCK)

# threads ROLE PID... : one line per thread, "ROLE KIND TICKS", KIND libzmq for libzmq's I/O
# threads and loop for every other thread (the process's own loop, Swift's pool, the store).
threads() {
    local role=$1 pid task comm
    shift
    for pid in "$@"; do
        for task in /proc/"$pid"/task/*; do
            comm=$(cat "$task/comm" 2>/dev/null) || continue
            [[ $comm == ZMQbg/IO* ]] && kind=libzmq || kind=loop
            # Fields 14 and 15 of stat (user and system time); comm (field 2) may hold spaces.
            echo "$role $kind $(sed 's/^.*) //' "$task/stat" | awk '{ print $12 + $13 }')"
        done
    done
}

# run_side c|zgrid: starts broker and workers, reads their threads' CPU around the client's run,
# and writes "ROLE KIND MICROSECONDS-PER-CALL" lines to $WORK/SIDE.cpu.
run_side() {
    local side=$1 endpoint broker w1 w2 client_seconds
    endpoint="tcp://127.0.0.1:$(free_port)"
    start_side "$side" "$endpoint" "$WORK" --concurrency "$ZGRID_CONCURRENCY"
    broker=${PIDS[0]} w1=${PIDS[1]} w2=${PIDS[2]}
    sleep "$STARTUP_WAIT"
    { threads broker "$broker"; threads workers "$w1" "$w2"; } >"$WORK/$side.before"
    # The client's own CPU time, all its threads, from its rusage as a finished child.
    client_seconds=$(python3 - "${CLIENT[@]}" --size 64 --sync 100 --pipeline "$PIPELINE" --pipelined-calls "$PIPELINED_CALLS" \
        3>"$WORK/$side-client.out" <<'EOF'
import os, resource, subprocess, sys
out = os.fdopen(3, "w")
status = subprocess.run(sys.argv[1:], stdout=out, stderr=subprocess.STDOUT).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_utime + usage.ru_stime if status == 0 else "failed")
EOF
    )
    [[ $client_seconds != failed ]] || fail "$side client failed: $(tail -n 5 "$WORK/$side-client.out")"
    { threads broker "$broker"; threads workers "$w1" "$w2"; } >"$WORK/$side.after"
    grep -o 'pipelined_cps=[0-9.]*' "$WORK/$side-client.out" | cut -d= -f2 >"$WORK/$side.rate"
    # Threads that ended between the readings are left out; the loops' threads all live on.
    awk -v n="$PIPELINED_CALLS" -v hz="$TICKS" -v client="$client_seconds" '
        FNR == NR { before[$1 " " $2] += $3; next }
        { after[$1 " " $2] += $3 }
        END {
            for (key in after) printf "%s %.3f\n", key, (after[key] - before[key]) / hz / n * 1e6
            printf "client all %.3f\n", client / n * 1e6
        }' "$WORK/$side.before" "$WORK/$side.after" >"$WORK/$side.cpu"
    stop_side
}

run_side c
run_side zgrid

echo "CPU microseconds per pipelined call ($PIPELINED_CALLS calls, $PIPELINE in flight, 64-byte echo; zgrid callers: $ZGRID_CALLERS)"
echo "rate: c $(cat "$WORK/c.rate") calls/s, zgrid $(cat "$WORK/zgrid.rate") calls/s"
printf '%-8s %-7s %8s %8s %8s\n' process thread c zgrid zgrid/c
awk '
    FNR == NR { c[$1 " " $2] = $3; next }
    { z[$1 " " $2] = $3 }
    END {
        split("broker loop|broker libzmq|workers loop|workers libzmq|client all", rows, "|")
        for (i = 1; i <= 5; i++) {
            key = rows[i]; split(key, part, " ")
            printf "%-8s %-7s %8.2f %8.2f %8.2f\n", part[1], part[2], c[key], z[key], (c[key] > 0 ? z[key] / c[key] : 0)
            ct += c[key]; zt += z[key]
        }
        printf "%-8s %-7s %8.2f %8.2f %8.2f\n", "all", "", ct, zt, zt / ct
    }' "$WORK/c.cpu" "$WORK/zgrid.cpu"
