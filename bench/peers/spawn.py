#!/usr/bin/env python3
"""Peer figures for forkd's spawn benchmarks, Python standard library only.

  spawn.py subprocess N    N x subprocess.run(["/bin/true"]) in a row: spawns_per_s, p50_us, p99_us
  spawn.py mp-fork N       N x multiprocessing.Process(target=noop) start+join, fork start method
  spawn.py mp-spawn N      the same with the spawn start method (a fresh interpreter each)
  spawn.py popen-burst N   N x subprocess.Popen(["/bin/true"]) at once, then wait() each: wall_ms

Prints one JSON object per figure and line: {"figure": ..., "value": ...}.
"""
import json
import math
import multiprocessing as mp
import subprocess
import sys
import time


def noop():
    pass


def emit(name, value):
    print(json.dumps({"figure": name, "value": value}))


def pct(xs, p):
    xs = sorted(xs)
    return xs[max(0, min(len(xs) - 1, math.ceil(p * len(xs)) - 1))]


def sequential(n, once):
    lat = []
    t0 = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        once()
        lat.append((time.perf_counter() - t) * 1e6)
    dt = time.perf_counter() - t0
    emit("spawns_per_s", n / dt)
    emit("p50_us", pct(lat, 0.50))
    emit("p99_us", pct(lat, 0.99))


def run_true():
    if subprocess.run(["/bin/true"]).returncode != 0:
        raise SystemExit("/bin/true failed")


def process_once(ctx):
    def once():
        p = ctx.Process(target=noop)
        p.start()
        p.join()
        if p.exitcode != 0:
            raise SystemExit("child exited %s" % p.exitcode)
    return once


def popen_burst(n):
    t0 = time.perf_counter()
    procs = [subprocess.Popen(["/bin/true"]) for _ in range(n)]
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("/bin/true failed")
    emit("wall_ms", (time.perf_counter() - t0) * 1e3)


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    if mode == "subprocess":
        sequential(n, run_true)
    elif mode == "mp-fork":
        sequential(n, process_once(mp.get_context("fork")))
    elif mode == "mp-spawn":
        sequential(n, process_once(mp.get_context("spawn")))
    elif mode == "popen-burst":
        popen_burst(n)
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
