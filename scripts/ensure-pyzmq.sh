#!/usr/bin/env bash
# Installs pyzmq for the Python MDP interop peers of the tests (Tests/Interop) when python3 cannot
# import it: with pip first, then Debian's python3-zmq when pip is refused (PEP 668) or offline.
set -euo pipefail
if python3 -c 'import zmq' >/dev/null 2>&1; then
    exit 0
fi
echo "pyzmq not found: installing it for the MDP interop tests" >&2
if python3 -m pip install --quiet pyzmq && python3 -c 'import zmq' >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: pip could not install pyzmq and there is no apt-get; install pyzmq for python3 by hand" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-zmq >/dev/null
python3 -c 'import zmq' || { echo "error: python3-zmq installed but python3 cannot import zmq" >&2; exit 1; }
