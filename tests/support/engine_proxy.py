#!/usr/bin/env python3
"""A small Engine API proxy on a unix socket, for tests.

    engine_proxy.py LISTEN_SOCKET UPSTREAM_SOCKET LOG_FILE [--drop PATH_PREFIX]...
                    [--die-at PATH_PREFIX] [--hold-inspect GATE_FILE]

Each client connection carries one request: the proxy reads the request head, forwards it to
the engine with "Connection: close", relays the whole answer and closes. Every request is logged
as "<verdict> <method> <path>" in LOG_FILE:
  * a method other than GET or HEAD is refused with 403 ("refused"): the tool must only read;
  * a path starting with a --drop prefix gets the connection closed without an answer
    ("dropped"), as when the engine dies in the middle of a scan;
  * from the first request whose path starts with the --die-at prefix on, every connection is
    accepted and closed at once without an answer ("closed"), as when the engine stops in the
    middle of a scan and its socket is left behind;
  * a container inspect (GET /containers/{id}/json) waits until the --hold-inspect file exists
    (at most 60 s) before it is forwarded ("held" when the wait starts), so a test can change the
    engine between the listing and the inspects;
  * everything else is forwarded ("forwarded").
"""
import os
import re
import socket
import sys
import threading
import time

INSPECT = re.compile(r"^/containers/[^/]+/json$")


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def api_path(path):
    """The request path without query and without the /vX.Y version prefix."""
    p = path.split("?")[0]
    parts = p.split("/", 2)
    if len(parts) > 2 and parts[1][:1] == "v" and parts[1][1:2].isdigit():
        p = "/" + parts[2]
    return p


def handle(conn, upstream, log, opts):
    try:
        head, rest = read_head(conn)
        if head is None:
            return
        lines = head.split(b"\r\n")
        method, path, _ = lines[0].decode("latin-1").split(" ", 2)
        target = api_path(path)
        with opts["lock"]:
            if opts["die_at"] and target.startswith(opts["die_at"]):
                opts["dead"] = True
            dead = opts["dead"]
        if dead:
            log(f"closed {method} {path}")
            return
        if method not in ("GET", "HEAD"):
            log(f"refused {method} {path}")
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        if any(target.startswith(d) for d in opts["drops"]):
            log(f"dropped {method} {path}")
            return
        gate = opts["hold_inspect"]
        if gate and INSPECT.match(target):
            log(f"held {method} {path}")
            deadline = time.monotonic() + 60
            while not os.path.exists(gate) and time.monotonic() < deadline:
                time.sleep(0.05)
        log(f"forwarded {method} {path}")
        headers = [l for l in lines[1:] if not l.lower().startswith(b"connection:")]
        request = b"\r\n".join([lines[0]] + headers + [b"Connection: close", b"", b""]) + rest
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        up.connect(upstream)
        up.sendall(request)
        while True:
            chunk = up.recv(65536)
            if not chunk:
                break
            conn.sendall(chunk)
        up.close()
    except OSError:
        pass
    finally:
        conn.close()


def main():
    listen, upstream, log_path = sys.argv[1:4]
    opts = {"drops": [], "die_at": None, "hold_inspect": None, "dead": False,
            "lock": threading.Lock()}
    args = sys.argv[4:]
    while args:
        if args[0] == "--drop" and len(args) > 1:
            opts["drops"].append(args[1])
        elif args[0] == "--die-at" and len(args) > 1:
            opts["die_at"] = args[1]
        elif args[0] == "--hold-inspect" and len(args) > 1:
            opts["hold_inspect"] = args[1]
        else:
            sys.exit(f"unknown argument {args[0]}")
        args = args[2:]
    lock = threading.Lock()

    def log(line):
        with lock, open(log_path, "a") as f:
            f.write(line + "\n")

    if os.path.exists(listen):
        os.unlink(listen)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(listen)
    server.listen(64)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn, upstream, log, opts), daemon=True).start()


if __name__ == "__main__":
    main()
