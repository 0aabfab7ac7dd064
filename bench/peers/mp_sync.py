#!/usr/bin/env python3
"""Peer figures for forkd's sync/shared benchmark, standard library only.

Measures, across processes on this machine:
  - multiprocessing.Lock acquire+release per second, 1 process and N contending processes;
  - multiprocessing.Value increments per second under its lock (`with v.get_lock(): v.value += 1`),
    1 process and N processes;
  - Manager().dict() proxy operations per second (a get, and a locked read-modify-write of one key).
Prints one JSON line per figure, like bench/sync/SyncBench.java.

    python3 bench/peers/mp_sync.py [--seconds 3] [--procs 4]
"""
import argparse
import json
import multiprocessing as mp
import time


def _lock_loop(lock, seconds, start, counter):
    start.wait()
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        lock.acquire()
        lock.release()
        n += 1
    with counter.get_lock():
        counter.value += n


def _value_loop(value, seconds, start, counter):
    start.wait()
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        with value.get_lock():
            value.value += 1
        n += 1
    with counter.get_lock():
        counter.value += n


def _dict_get_loop(d, seconds, start, counter):
    start.wait()
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        d["k"]
        n += 1
    with counter.get_lock():
        counter.value += n


def _dict_incr_loop(d, lock, seconds, start, counter):
    start.wait()
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        with lock:
            d["n"] = d["n"] + 1
        n += 1
    with counter.get_lock():
        counter.value += n


def run(name, target, args, procs, seconds):
    start = mp.Barrier(procs + 1)
    counter = mp.Value("q", 0)
    ps = [mp.Process(target=target, args=args + (seconds, start, counter)) for _ in range(procs)]
    for p in ps:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    for p in ps:
        p.join()
    elapsed = time.perf_counter() - t0
    print(json.dumps({"bench": name, "clients": procs, "seconds": round(elapsed, 2),
                      "ops": counter.value, "ops_per_s": round(counter.value / elapsed)}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--procs", type=int, default=4)
    a = ap.parse_args()
    lock = mp.Lock()
    run("mp_lock_acquire_release", _lock_loop, (lock,), 1, a.seconds)
    run("mp_lock_acquire_release_contended", _lock_loop, (lock,), a.procs, a.seconds)
    value = mp.Value("q", 0)
    run("mp_value_locked_increment", _value_loop, (value,), 1, a.seconds)
    run("mp_value_locked_increment", _value_loop, (value,), a.procs, a.seconds)
    with mp.Manager() as m:
        d = m.dict()
        d["k"] = 1
        d["n"] = 0
        run("mp_manager_dict_get", _dict_get_loop, (d,), 1, a.seconds)
        run("mp_manager_dict_get", _dict_get_loop, (d,), a.procs, a.seconds)
        mlock = m.Lock()
        run("mp_manager_dict_locked_increment", _dict_incr_loop, (d, mlock), 1, a.seconds)
        run("mp_manager_dict_locked_increment", _dict_incr_loop, (d, mlock), a.procs, a.seconds)


if __name__ == "__main__":
    main()
