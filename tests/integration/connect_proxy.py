#!/usr/bin/env python3
"""A minimal HTTP CONNECT proxy for the proxy tests: prints "port N" once it
listens on 127.0.0.1, appends each tunnel's target ("CONNECT host:port") to the
log file given as argv[1], and refuses anything but CONNECT with 405."""
import os
import socket
import sys
import threading


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(client, log):
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = client.recv(4096)
        if not chunk:
            client.close()
            return
        head += chunk
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    method, target = (line.split(" ") + ["", ""])[:2]
    with open(log, "a") as f:
        f.write("%s %s\n" % (method, target))
    if method != "CONNECT":
        client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
        client.close()
        return
    host, _, port = target.rpartition(":")
    try:
        upstream = socket.create_connection((host, int(port)), timeout=10)
        upstream.settimeout(None)
    except (OSError, ValueError):
        client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        client.close()
        return
    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
    pipe(upstream, client)


def main():
    log = sys.argv[1]
    parent = os.getppid()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.5)
    print("port %d" % srv.getsockname()[1], flush=True)
    while os.getppid() == parent:  # exits when the test that started it is gone
        try:
            client, _ = srv.accept()
        except socket.timeout:
            continue
        threading.Thread(target=handle, args=(client, log), daemon=True).start()


if __name__ == "__main__":
    main()
