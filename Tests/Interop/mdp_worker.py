#!/usr/bin/env python3
"""A minimal MDP/0.1 worker (ZeroMQ RFC 7, MDP/Worker), written from the RFC text.

Usage: mdp_worker.py ENDPOINT SERVICE [--heartbeat-ms N] [--liveness N] [--busy-ms N]

Serves SERVICE by answering each request with the upper-cased body frames. Prints "ready" once it
has sent READY (again after each reconnect). Heartbeats both ways; if the broker is silent for
liveness heartbeats, or sends DISCONNECT, the worker opens a new socket and sends READY again.
On SIGTERM or SIGINT it sends DISCONNECT and exits.

With --busy-ms N it works N ms on each request before replying, and meanwhile neither reads nor
sends anything, no HEARTBEAT either: as the ZeroMQ guide's reference worker (mdwrkapi), which
heartbeats only while it waits for work. Like mdwrkapi, it counts the broker's silence only
while it waits, so a long request does not make it reconnect.
"""
import signal
import sys
import time

import zmq

MDPW01 = b"MDPW01"
READY, REQUEST, REPLY, HEARTBEAT, DISCONNECT = b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"

stopping = False


def stop(_signum, _frame):
    global stopping
    stopping = True


def connect(context, endpoint, service):
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 1000)
    socket.connect(endpoint)
    # READY: Frame 0 empty, Frame 1 "MDPW01", Frame 2 0x01, Frame 3 service name.
    socket.send_multipart([b"", MDPW01, READY, service])
    print("ready", flush=True)
    return socket


def main(argv):
    options = {"--heartbeat-ms": 1000, "--liveness": 3, "--busy-ms": 0}
    args = []
    i = 0
    while i < len(argv):
        if argv[i] in options:
            options[argv[i]] = int(argv[i + 1])
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    endpoint, service = args[0], args[1].encode()
    interval = options["--heartbeat-ms"] / 1000.0
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A parent may start us with these blocked (the mask is inherited): unblock them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])

    context = zmq.Context()
    socket = connect(context, endpoint, service)
    heard = time.monotonic()
    next_heartbeat = time.monotonic() + interval
    while not stopping:
        if socket.poll(int(interval * 1000 / 2), zmq.POLLIN):
            frames = socket.recv_multipart()
            heard = time.monotonic()  # any command from the broker acts as a heartbeat
            if len(frames) < 3 or frames[0] != b"" or frames[1] != MDPW01:
                print(f"dropped invalid message {frames!r}", file=sys.stderr)
                continue
            command = frames[2]
            if command == REQUEST:
                # REQUEST: Frame 3 client address, Frame 4 empty, Frames 5+ body.
                if len(frames) < 5 or frames[4] != b"":
                    print(f"dropped invalid REQUEST {frames!r}", file=sys.stderr)
                    continue
                address, body = frames[3], frames[5:]
                if options["--busy-ms"] > 0:
                    time.sleep(options["--busy-ms"] / 1000.0)  # silent while busy, as mdwrkapi
                    heard = time.monotonic()  # the broker's silence counts only while waiting
                # REPLY: same envelope, the client address and an empty frame before the body.
                socket.send_multipart([b"", MDPW01, REPLY, address, b""] + [frame.upper() for frame in body])
                next_heartbeat = time.monotonic() + interval  # a command is a heartbeat too
            elif command == HEARTBEAT:
                pass
            elif command == DISCONNECT:
                # The broker does not know us: close, reconnect on a new socket, register again.
                socket.close()
                socket = connect(context, endpoint, service)
            else:
                print(f"dropped unknown command {command!r}", file=sys.stderr)
        now = time.monotonic()
        if now - heard > interval * options["--liveness"]:
            print("broker silent: reconnecting", file=sys.stderr)
            socket.close(linger=0)
            socket = connect(context, endpoint, service)
            heard = now
        if now >= next_heartbeat:
            socket.send_multipart([b"", MDPW01, HEARTBEAT])
            next_heartbeat = now + interval
    socket.send_multipart([b"", MDPW01, DISCONNECT])
    socket.close()
    context.term()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
