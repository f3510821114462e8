#!/usr/bin/env python3
"""A small Engine API proxy on a unix socket, for tests.

    engine_proxy.py LISTEN_SOCKET UPSTREAM_SOCKET LOG_FILE [--drop PATH_PREFIX]...

Each client connection carries one request: the proxy reads the request head, forwards it to
the engine with "Connection: close", relays the whole answer and closes. Every request is logged
as "<verdict> <method> <path>" in LOG_FILE:
  * a method other than GET or HEAD is refused with 403 ("refused"): the tool must only read;
  * a path starting with a --drop prefix gets the connection closed without an answer
    ("dropped"), as when the engine dies in the middle of a scan;
  * everything else is forwarded ("forwarded").
"""
import os
import socket
import sys
import threading


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


def handle(conn, upstream, log, drops):
    try:
        head, rest = read_head(conn)
        if head is None:
            return
        lines = head.split(b"\r\n")
        method, path, _ = lines[0].decode("latin-1").split(" ", 2)
        if method not in ("GET", "HEAD"):
            log(f"refused {method} {path}")
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        if any(api_path(path).startswith(d) for d in drops):
            log(f"dropped {method} {path}")
            return
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
    drops = []
    args = sys.argv[4:]
    while args:
        if args[0] == "--drop":
            drops.append(args[1])
            args = args[2:]
        else:
            sys.exit(f"unknown argument {args[0]}")
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
        threading.Thread(target=handle, args=(conn, upstream, log, drops), daemon=True).start()


if __name__ == "__main__":
    main()
