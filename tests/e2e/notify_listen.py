#!/usr/bin/env python3
"""A NOTIFY_SOCKET for tests: binds a Unix datagram socket and appends every sd_notify message to a file, one
message per line (newlines inside a message become '|')."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)
with open(out, "a", buffering=1) as f:
    while True:
        data = s.recv(65536)
        f.write(data.decode("utf-8", "replace").replace("\n", "|") + "\n")
