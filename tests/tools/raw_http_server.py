#!/usr/bin/python3
"""raw_http_server.py - a raw socket HTTP/1.1 server for odd answers (test_http_h2.c).

Prints "port=N" once listening. The request path picks the answer:
  /continue-503   "100 Continue", then 503 with Retry-After: 7 (the final answer counts)
  /cut-status     half a status line, then the connection is closed
  /cut-headers    a status line and half a header, then the connection is closed
  /slow-headers   one header byte every 100 ms (the client's timeout must end it)
  /close          204 with Connection: close (the next request needs a new connection)
  /date-429       429 with an HTTP-date Retry-After one hour ahead
anything else: 204. Connections counted; a line on stdin prints "connections=N". Exits when
stdin closes. One thread per connection; every socket is closed on exit."""
import email.utils
import socket
import sys
import threading
import time

conns = 0
lock = threading.Lock()


def read_request(c):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    n = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            n = int(v.strip())
    while len(rest) < n:
        chunk = c.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return lines[0].split(" ")[1]


def serve(c):
    global conns
    with lock:
        conns += 1
    try:
        while True:
            path = read_request(c)
            if path is None:
                return
            if path == "/continue-503":
                c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n"
                          b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\n"
                          b"Content-Length: 0\r\n\r\n")
            elif path == "/cut-status":
                c.sendall(b"HTTP/1.1 2")
                return
            elif path == "/cut-headers":
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Len")
                return
            elif path == "/slow-headers":
                for b in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 100:
                    c.sendall(bytes([b]))
                    time.sleep(0.1)
                return
            elif path == "/close":
                c.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                return
            elif path == "/date-429":
                d = email.utils.formatdate(time.time() + 3600, usegmt=True)
                c.sendall(("HTTP/1.1 429 Too Many Requests\r\nRetry-After: %s\r\n"
                           "Content-Length: 0\r\n\r\n" % d).encode())
            else:
                c.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
    except OSError:
        pass
    finally:
        c.close()


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    print("port=%d" % s.getsockname()[1], flush=True)

    def accept():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    for _ in sys.stdin:
        with lock:
            print("connections=%d" % conns, flush=True)
    s.close()


if __name__ == "__main__":
    main()
