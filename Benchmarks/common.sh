# Shared by compare.sh, syscalls.sh and cpu.sh (sourced, not run): where the zgrid binary and the C
# reference program are, and how they are built. The sourcing script sets ROOT (the repository),
# ORIG_PWD (where it was started) and CC, and defines log() and fail() first.

# The zgrid binary: $ZGRID (relative to where the script was started), or the release build.
if [[ -n "${ZGRID:-}" ]]; then
    [[ "$ZGRID" == /* ]] || ZGRID="$ORIG_PWD/$ZGRID"
else
    ZGRID="$ROOT/.build/release/zgrid"
fi

REF_SRC="$ROOT/Benchmarks/reference/zmq_reference.c"
REF_BIN="$ROOT/.build/reference/zmq_reference"

# Builds the C reference into $REF_BIN.
build_reference() {
    mkdir -p "$(dirname "$REF_BIN")"
    log "building C reference -> ${REF_BIN#"$ROOT"/}"
    "$CC" -std=c11 -O2 -Wall -Wextra -o "$REF_BIN" "$REF_SRC" -lzmq -lpthread \
        || fail "building the C reference failed"
}

# Builds zgrid in release mode when $ZGRID is missing.
ensure_zgrid() {
    if [[ ! -x "$ZGRID" ]]; then
        log "$ZGRID not found; running swift build -c release --product zgrid"
        swift build -c release --product zgrid || fail "swift build failed"
        [[ -x "$ZGRID" ]] || fail "$ZGRID still missing after swift build"
    fi
}

# Prints a free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_side c|zgrid ENDPOINT LOGDIR [ZGRID-WORKER-OPTIONS...] : starts that side's broker and two
# echo workers in the background, logging into LOGDIR; sets PIDS to (broker worker1 worker2) and
# CLIENT to the side's client command, to be given its benchmark options.
start_side() {
    local side=$1 endpoint=$2 logdir=$3
    shift 3
    if [[ $side == c ]]; then
        "$REF_BIN" broker "$endpoint" >"$logdir/$side-broker.log" 2>&1 &
        PIDS=("$!")
        "$REF_BIN" worker "$endpoint" >"$logdir/$side-w1.log" 2>&1 &
        PIDS+=("$!")
        "$REF_BIN" worker "$endpoint" >"$logdir/$side-w2.log" 2>&1 &
        PIDS+=("$!")
        CLIENT=("$REF_BIN" client "$endpoint")
    else
        "$ZGRID" broker --bind "$endpoint" --log-level warning >"$logdir/$side-broker.log" 2>&1 &
        PIDS=("$!")
        sleep 0.5
        "$ZGRID" worker --connect "$endpoint" --function echo --log-level warning "$@" >"$logdir/$side-w1.log" 2>&1 &
        PIDS+=("$!")
        "$ZGRID" worker --connect "$endpoint" --function echo --log-level warning "$@" >"$logdir/$side-w2.log" 2>&1 &
        PIDS+=("$!")
        CLIENT=("$ZGRID" bench rpc --connect "$endpoint" --callers "$ZGRID_CALLERS")
    fi
}

# stop_side: stops the processes in PIDS (SIGINT, then SIGKILL a second later) and empties it.
stop_side() {
    local pid
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -INT "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait "${PIDS[@]+"${PIDS[@]}"}" 2>/dev/null || true
    PIDS=()
}

# set_up_work_dir NAME : makes WORK, a temporary folder named after NAME; when the script exits, the
# processes in PIDS are stopped and WORK is removed.
set_up_work_dir() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    PIDS=()
    trap clean_up_work_dir EXIT
}

clean_up_work_dir() {
    local rc=$?
    stop_side
    wait 2>/dev/null || true
    rm -rf "$WORK"
    exit "$rc"
}
