#!/usr/bin/env python3
"""An Alertmanager webhook receiver for the tests: each POSTed JSON body is appended to
OUT as one line {"received": UNIX_TIME, "body": ...}. Binds 127.0.0.1 on a free port
and writes the port to PORTFILE once it listens.

Usage: webhook_receiver.py PORTFILE OUT
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

MAX_BODY = 1 << 20


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0)
        if n > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(n)
        try:
            doc = json.loads(body)
        except ValueError:
            self.send_error(400)
            return
        with open(sys.argv[2], 'a', encoding='utf-8') as f:
            f.write(json.dumps({'received': time.time(), 'body': doc}) + '\n')
        self.send_response(200)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


def main():
    server = HTTPServer(('127.0.0.1', 0), Handler)
    with open(sys.argv[1] + '.tmp', 'w', encoding='utf-8') as f:
        f.write('%d\n' % server.server_address[1])
    import os
    os.rename(sys.argv[1] + '.tmp', sys.argv[1])
    server.serve_forever()


if __name__ == '__main__':
    main()
