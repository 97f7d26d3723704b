#!/usr/bin/env python3
"""A stand-in for journald's native socket in tests: binds a Unix datagram socket and appends each datagram
(sd_journal_send's native protocol, KEY=value lines) to a file, entries separated by a line '--'."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
os.makedirs(os.path.dirname(path), exist_ok=True)
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(path)
with open(out, "ab", buffering=0) as f:
    while True:
        data = s.recv(1 << 20)
        f.write(data + b"\n--\n")
