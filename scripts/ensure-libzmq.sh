#!/usr/bin/env bash
# Installs libzmq's development files (Debian: libzmq3-dev) and pkg-config when they are missing.
set -euo pipefail
if pkg-config --exists libzmq 2>/dev/null; then
    exit 0
fi
echo "libzmq development files not found: installing libzmq3-dev and pkg-config" >&2
if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: no apt-get here; install libzmq (4.3 or later, with its pkg-config file) by hand" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libzmq3-dev pkg-config >/dev/null
pkg-config --exists libzmq || { echo "error: libzmq3-dev installed but pkg-config cannot find libzmq" >&2; exit 1; }
