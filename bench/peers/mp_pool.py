#!/usr/bin/env python3
"""Peer figures for forkd's pool benchmark: multiprocessing.Pool and ProcessPoolExecutor, 2 workers.

Standard library only. Prints one JSON line per figure:
  mp_map_per_s              Pool(2).map(f, items) with its default chunks, f(x) = x * 2
  mp_imap_unordered_per_s   Pool(2).imap_unordered(f, items, chunksize=1)
  ppe_map_per_s             ProcessPoolExecutor(2).map(f, items)
  mp_cpu_speedup            Pool(2).map(burn, ...) against the same calls in one process
Pool start-up is inside the timing, as forkd's pool creation is.
"""
import json
import multiprocessing as mp
import sys
import time
from concurrent.futures import ProcessPoolExecutor

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
CPU_TASKS = int(sys.argv[2]) if len(sys.argv) > 2 else 8
CPU_LOOP = int(sys.argv[3]) if len(sys.argv) > 3 else 2_000_000


def double(x):
    return x * 2


def burn(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def figure(name, value):
    print(json.dumps({"figure": name, "value": value}), flush=True)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    items = range(N)
    with mp.Pool(2) as p:
        pass  # warm the import of the worker module once, outside the figures
    figure("mp_map_per_s", N / timed(lambda: _pool(lambda p: p.map(double, items))))
    small = range(min(N // 5, 20_000))
    figure("mp_imap_unordered_per_s",
           len(small) / timed(lambda: _pool(lambda p: list(p.imap_unordered(double, small, chunksize=1)))))
    figure("ppe_map_per_s", len(small) / timed(lambda: _ppe(lambda e: list(e.map(double, small)))))
    work = [CPU_LOOP] * CPU_TASKS
    serial = timed(lambda: [burn(n) for n in work])
    parallel = timed(lambda: _pool(lambda p: p.map(burn, work, chunksize=1)))
    figure("mp_cpu_speedup", serial / parallel)


def _pool(fn):
    with mp.Pool(2) as p:
        r = fn(p)
    return r


def _ppe(fn):
    with ProcessPoolExecutor(2) as e:
        return fn(e)


if __name__ == "__main__":
    main()
