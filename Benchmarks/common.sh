# Shared by compare.sh and syscalls.sh (sourced, not run): where the zgrid binary and the C
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
