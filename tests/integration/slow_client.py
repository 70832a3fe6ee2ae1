#!/usr/bin/env python3
"""Hostile HTTP client for tests: slowloris connections that trickle header lines.

slow_client.py HOST PORT SOURCES COUNT INTERVAL HOLD
  opens COUNT connections to HOST:PORT spread over the source addresses SOURCES
  (comma-separated, e.g. 127.0.0.2,127.0.0.3), sends a request line, then one header
  line every INTERVAL seconds, never the blank line that ends the headers, for HOLD
  seconds. Prints one line: "opened N refused R closed C longest S" where C counts the
  connections the server closed and S is the longest time (seconds) a connection stayed
  open (HOLD when one was never closed). Prints "ready" on stderr once all are open.
"""
import select
import socket
import sys
import time


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    sources = sys.argv[3].split(",")
    count, interval, hold = int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
    conns = {}  # socket -> time opened
    refused = 0
    start = time.monotonic()
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((sources[i % len(sources)], 0))
            s.settimeout(2)
            s.connect((host, port))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            s.setblocking(False)
            conns[s] = time.monotonic()
        except OSError:
            refused += 1
            s.close()
    sys.stderr.write("ready\n")
    sys.stderr.flush()
    opened = len(conns)
    closed = 0
    longest = 0.0
    next_send = time.monotonic() + interval
    n = 0
    while conns and time.monotonic() - start < hold:
        timeout = max(0.0, min(next_send, start + hold) - time.monotonic())
        r, _, _ = select.select(list(conns), [], [], timeout)
        for s in r:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:  # the server closed it (or answered and closed)
                longest = max(longest, time.monotonic() - conns.pop(s))
                closed += 1
                s.close()
        if time.monotonic() >= next_send:
            n += 1
            for s in list(conns):
                try:
                    s.send(b"X-Slow-%d: 1\r\n" % n)
                except OSError:
                    longest = max(longest, time.monotonic() - conns.pop(s))
                    closed += 1
                    s.close()
            next_send += interval
    if conns:
        longest = max(longest, hold)
    for s in conns:
        s.close()
    print("opened %d refused %d closed %d longest %.1f" % (opened, refused, closed, longest))


if __name__ == "__main__":
    main()
