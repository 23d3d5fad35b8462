#!/usr/bin/env python3
"""A minimal MDP/0.1 client (ZeroMQ RFC 7, MDP/Client), written from the RFC text.

Usage: mdp_client.py ENDPOINT SERVICE [BODY-FRAME...] [--dealer] [--timeout-ms N]

Sends one REQUEST and prints the REPLY as one JSON line:
    {"service": "...", "body": ["frame", ...]}
With a REQ socket (default) the empty frame 0 is added and removed by ZeroMQ; with --dealer the
client writes and checks it itself, as RFC 7 requires of DEALER clients.
Exit codes: 0 reply printed, 1 no reply within the timeout, 2 bad usage, 3 malformed reply.
"""
import json
import sys

import zmq

MDPC01 = b"MDPC01"


def main(argv):
    dealer = "--dealer" in argv
    timeout_ms = 5000
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == "--dealer":
            pass
        elif argv[i] == "--timeout-ms":
            i += 1
            timeout_ms = int(argv[i])
        else:
            args.append(argv[i])
        i += 1
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    endpoint, service, body = args[0], args[1].encode(), [frame.encode() for frame in args[2:]]

    context = zmq.Context()
    socket = context.socket(zmq.DEALER if dealer else zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(endpoint)

    # REQUEST: Frame 0 empty, Frame 1 "MDPC01", Frame 2 service name, Frames 3+ request body.
    request = [MDPC01, service] + body
    socket.send_multipart(([b""] if dealer else []) + request)

    if not socket.poll(timeout_ms, zmq.POLLIN):
        print(f"no reply from {endpoint} within {timeout_ms} ms", file=sys.stderr)
        return 1
    reply = socket.recv_multipart()
    if dealer:
        if not reply or reply[0] != b"":
            print(f"reply without the empty frame 0: {reply!r}", file=sys.stderr)
            return 3
        reply = reply[1:]
    # REPLY: Frame 0 empty (removed by REQ), Frame 1 "MDPC01", Frame 2 service name, Frames 3+ body.
    if len(reply) < 3 or reply[0] != MDPC01 or reply[1] != service:
        print(f"malformed reply: {reply!r}", file=sys.stderr)
        return 3
    print(json.dumps({"service": reply[1].decode(), "body": [frame.decode("utf-8", "replace") for frame in reply[2:]]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
