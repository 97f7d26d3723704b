#!/usr/bin/env python3
"""memgrep.py PID NEEDLE...: search every readable mapping of a live process (/proc/PID/mem, needs root or
CAP_SYS_PTRACE: the daemon is not dumpable) for each needle. Prints one line per hit (needle, mapping, offset)
and exits 1 when any needle was found, 0 when none. Mappings of files (the binary, libraries, locale data) are
searched too: a value must not be anywhere."""
import re
import sys

pid = int(sys.argv[1])
needles = [n.encode() for n in sys.argv[2:]]
hits = 0
scanned = 0
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)", line)
        start, end, perms, name = int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4)
        if perms[0] != "r" or name in ("[vvar]", "[vsyscall]"):
            continue
        try:
            mem.seek(start)
            data = mem.read(end - start)
        except OSError:
            continue
        scanned += len(data)
        for n in needles:
            i = data.find(n)
            while i >= 0:
                hits += 1
                print(f"hit: {n.decode()!r} in {name or '[anon]'} {perms} at +0x{i:x} (0x{start + i:x})")
                i = data.find(n, i + 1)
print(f"scanned {scanned} bytes of process {pid}", file=sys.stderr)
sys.exit(1 if hits else 0)
