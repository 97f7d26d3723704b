#!/usr/bin/env python3
"""memgrep.py PID NEEDLE...: search every readable mapping of a live process (/proc/PID/mem, needs root or
CAP_SYS_PTRACE: the daemon is not dumpable) for each needle. Prints one line per hit (needle, mapping, offset)
and exits 1 when any needle was found, 0 when none. Mappings of files (the binary, libraries, locale data) are
searched too: a value must not be anywhere."""
import re
import sys

pid = int(sys.argv[1])
needles = [n.encode() for n in sys.argv[2:]]
overlap = max(len(n) for n in needles) - 1
CHUNK = 8 << 20
# AddressSanitizer's shadow memory is a terabyte-sized NORESERVE mapping of zeros: mappings this large are not
# heap and are skipped (and counted); a normal build has none
HUGE = 1 << 30
hits = 0
scanned = skipped = 0
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)", line)
        start, end, perms, name = int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4)
        if perms[0] != "r" or name in ("[vvar]", "[vsyscall]"):
            continue
        if end - start >= HUGE:
            skipped += end - start
            continue
        pos, tail = start, b""
        while pos < end:
            try:
                mem.seek(pos)
                data = mem.read(min(CHUNK, end - pos))
            except OSError:
                break
            if not data:
                break
            buf = tail + data
            base = pos - len(tail)
            for n in needles:
                i = buf.find(n)
                while i >= 0:
                    hits += 1
                    print(f"hit: {n.decode()!r} in {name or '[anon]'} {perms} at +0x{base + i - start:x} (0x{base + i:x})")
                    i = buf.find(n, i + 1)
            scanned += len(data)
            tail = buf[-overlap:] if overlap > 0 else b""
            # a hit inside the overlap is found again in the next chunk only if it ends there: drop duplicates
            tail = tail if all(tail.find(n) < 0 for n in needles) else b""
            pos += len(data)
print(f"scanned {scanned} bytes of process {pid}" + (f" (skipped {skipped} bytes of huge mappings)" if skipped else ""),
      file=sys.stderr)
sys.exit(1 if hits else 0)
