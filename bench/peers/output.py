#!/usr/bin/env python3
"""Peer figures for forkd's output benchmark: how fast a child's stdout reaches a reader.

  output.py readinto SIZE   a Python parent reads `head -c SIZE /dev/zero` from a pipe with readinto
  output.py cat SIZE        `head -c SIZE /dev/zero | cat > /dev/null`: the pipe itself

Each prints {"figure": "mb_per_s", "value": ...} (MB = 10^6 bytes), timed from the start of the child
to its exit, like forkd's figure (spawn request to the end of the watch).
"""
import json
import subprocess
import sys
import time


def emit(name, value):
    print(json.dumps({"figure": name, "value": value}))


def readinto(size):
    buf = bytearray(256 * 1024)
    view = memoryview(buf)
    got = 0
    t0 = time.perf_counter()
    p = subprocess.Popen(["head", "-c", str(size), "/dev/zero"], stdout=subprocess.PIPE, bufsize=0)
    while True:
        n = p.stdout.readinto(view)
        if not n:
            break
        got += n
    p.wait()
    dt = time.perf_counter() - t0
    if got != size or p.returncode != 0:
        raise SystemExit("read %d of %d, exit %s" % (got, size, p.returncode))
    emit("mb_per_s", got / 1e6 / dt)


def cat(size):
    t0 = time.perf_counter()
    subprocess.run(["sh", "-c", "head -c %d /dev/zero | cat > /dev/null" % size], check=True)
    emit("mb_per_s", size / 1e6 / (time.perf_counter() - t0))


def main():
    mode, size = sys.argv[1], int(sys.argv[2])
    {"readinto": readinto, "cat": cat}[mode](size)


if __name__ == "__main__":
    main()
