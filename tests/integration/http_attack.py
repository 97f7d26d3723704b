#!/usr/bin/env python3
"""Hostile HTTP clients for tests/integration/http_hostile.sh (standard library only).

  http_attack.py malformed HOST PORT        malformed requests, huge headers, odd methods, path traversal;
                                            prints one line per case: name, status (or "closed"), and "LEAK" if the
                                            answer holds a byte of a file outside the endpoint (/etc/passwd)
  http_attack.py slowloris HOST PORT N SECONDS [SRC_IP | SRCS]
                                            N connections sending a request header one line per second for SECONDS,
                                            from SRC_IP or spread over SRCS source addresses 127.0.0.2..;
                                            prints how many were accepted and how many the server closed
  http_attack.py concurrent HOST PORT N [SRC_IPS]
                                            N simultaneous GET /metrics (source addresses spread over SRC_IPS
                                            127.0.0.x, default 1); prints the count of each status
"""
import socket
import sys
import threading
import time
from collections import Counter


def connect(host, port, src=None, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def exchange(host, port, raw, timeout=10, src=None):
    """Send raw bytes, read until the server closes or times out. Returns (status or None, body bytes)."""
    try:
        s = connect(host, port, src, timeout)
    except OSError:
        return "refused", b""
    data = b""
    try:
        s.sendall(raw)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if len(data) > 4 << 20:
                break
    except OSError:
        pass
    finally:
        s.close()
    if not data.startswith(b"HTTP/"):
        return "closed", data
    try:
        return data.split(b" ", 2)[1].decode(), data
    except IndexError:
        return "garbled", data


def malformed(host, port):
    big = b"X-Big: " + b"a" * (1 << 20) + b"\r\n"
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(20000))
    cases = [
        ("garbage", b"\x00\x01\x02\xff\xfe garbage\r\n\r\n"),
        ("no-version", b"GET /metrics\r\n\r\n"),
        ("bad-version", b"GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n"),
        ("http0.9", b"GET /metrics\n"),
        ("no-host-1.1", b"GET /metrics HTTP/1.1\r\n\r\n"),
        ("header-no-colon", b"GET /metrics HTTP/1.1\r\nHost: x\r\nbroken header line\r\n\r\n"),
        ("1MB-header", b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n"),
        ("20000-headers", b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"),
        ("64KB-url", b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("negative-length", b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
        ("huge-length", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\nx"),
        ("bad-chunked", b"POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n"),
        ("nul-in-path", b"GET /metrics\x00/../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("lf-only", b"GET /metrics HTTP/1.1\nHost: x\n\n"),
        ("pipelined-100", b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 100),
    ]
    for m in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "BREW", "G\x01T"]:
        cases.append(("method-" + m.encode("unicode_escape").decode(),
                      m.encode("latin-1") + b" /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"))
    for p in ["/../../../../etc/passwd", "/metrics/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
              "/..%2f..%2f..%2fetc%2fpasswd", "//etc/passwd", "/metrics%00", "/metrics?x=../../etc/passwd",
              "/./metrics/./", "/metrics/", "/METRICS", "/etc/passwd", "/%00", "/metrics#frag",
              "http://127.0.0.1/../../etc/passwd", "*"]:
        cases.append(("path " + p, b"GET " + p.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n"))
    for name, raw in cases:
        if name != "pipelined-100":  # answered requests would otherwise idle until the server's timeout
            raw = raw.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n", 1)
        status, data = exchange(host, port, raw)
        leak = " LEAK" if b"root:" in data or b"/bin/" in data else ""
        print(f"{name}\t{status}{leak}", flush=True)


def slowloris(host, port, n, seconds, src=None):
    socks, accepted = [], 0
    for i in range(n):
        try:
            a = src if src is None or "." in src else f"127.0.0.{2 + i % int(src)}"
            s = connect(host, port, a, timeout=1)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
            accepted += 1
        except OSError:
            pass
    closed = set()
    end = time.time() + seconds
    i = 0
    while time.time() < end:
        for k, s in enumerate(socks):
            if k in closed:
                continue
            try:
                s.sendall(b"X-a%d: b\r\n" % i)
            except OSError:
                closed.add(k)
        i += 1
        time.sleep(1)
    for s in socks:
        s.close()
    print(f"opened {accepted} closed_by_server {len(closed)}", flush=True)


def concurrent(host, port, n, nsrc=1):
    results = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(n, timeout=60)

    def one(i):
        src = f"127.0.0.{1 + i % nsrc}"
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        status, data = exchange(host, port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                timeout=30, src=src)
        if status == "200" and b"pii_audit_build_info" not in data:
            status = "200-incomplete"
        with lock:
            results[status] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(" ".join(f"{k}={v}" for k, v in sorted(results.items())), flush=True)


if __name__ == "__main__":
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "malformed":
        malformed(host, port)
    elif cmd == "slowloris":
        slowloris(host, port, int(sys.argv[4]), float(sys.argv[5]), sys.argv[6] if len(sys.argv) > 6 else None)
    elif cmd == "concurrent":
        concurrent(host, port, int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    else:
        sys.exit(__doc__)
