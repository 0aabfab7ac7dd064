#!/usr/bin/env python3
"""Peer figures for forkd's sync benchmark (the `sync` scenario), standard library only.

Each figure is operations per second done by 1 or N processes in a fixed window, started together
(a Barrier) and counted until the last one has exited, as the forkd side does with its clients:

  mp_lock_1_per_s       multiprocessing.Lock acquire+release, 1 process
  mp_lock_own_per_s     the same, N processes each on its own Lock (total)
  mp_lock_one_per_s     the same, N processes on one Lock (total)
  mp_value_1_per_s      `with v.get_lock(): v.value += 1` on one multiprocessing.Value, 1 process
  mp_value_n_per_s      the same, N processes (total)
  mp_dict_get_1_per_s   Manager().dict() proxy `d["k"]`, 1 process
  mp_dict_incr_1_per_s  `with lock: d["n"] = d["n"] + 1` on a Manager().dict() under a
                        multiprocessing.Lock (two proxy calls), 1 process
  mp_dict_incr_n_per_s  the same, N processes (total)

Counters are checked: the Value and the dict entry must equal the increments counted.
Prints one JSON object per figure and line.

    python3 bench/peers/mp_sync.py [--seconds 1] [--procs 4]
"""
import argparse
import json
import multiprocessing as mp
import time


def lock_pair(lock):
    if lock is None:  # each process on its own lock: made in the child
        lock = mp.Lock()
    while True:
        lock.acquire()
        lock.release()
        yield


def value_incr(value):
    while True:
        with value.get_lock():
            value.value += 1
        yield


def dict_get(d):
    while True:
        d["k"]
        yield


def dict_incr(d, lock):
    while True:
        with lock:
            d["n"] = d["n"] + 1
        yield


def _worker(op, args, seconds, start, counter):
    ops = op(*args)
    start.wait()
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        next(ops)
        n += 1
    with counter.get_lock():
        counter.value += n


def rate(op, args, procs, seconds):
    """Operations per second of `procs` processes each running `op` for `seconds`; and the count."""
    start = mp.Barrier(procs + 1)
    counter = mp.Value("q", 0)
    ps = [mp.Process(target=_worker, args=(op, args, seconds, start, counter)) for _ in range(procs)]
    for p in ps:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    for p in ps:
        p.join()
    elapsed = time.perf_counter() - t0
    for p in ps:
        if p.exitcode != 0:
            raise SystemExit(f"a {op.__name__} process exited {p.exitcode}")
    return counter.value / elapsed, counter.value


def emit(name, value):
    print(json.dumps({"figure": name, "value": round(value, 1), "unit": "ops/s",
                      "peer": "python-multiprocessing"}), flush=True)


def check(what, got, want):
    if got != want:
        raise SystemExit(f"{what} is {got} after {want} increments")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--procs", type=int, default=4)
    a = ap.parse_args()
    s, n = a.seconds, a.procs

    emit("mp_lock_1_per_s", rate(lock_pair, (mp.Lock(),), 1, s)[0])
    emit("mp_lock_own_per_s", rate(lock_pair, (None,), n, s)[0])
    emit("mp_lock_one_per_s", rate(lock_pair, (mp.Lock(),), n, s)[0])

    for procs, figure in ((1, "mp_value_1_per_s"), (n, "mp_value_n_per_s")):
        value = mp.Value("q", 0)
        per_s, count = rate(value_incr, (value,), procs, s)
        check("the Value", value.value, count)
        emit(figure, per_s)

    with mp.Manager() as m:
        d = m.dict()
        d["k"] = 1
        emit("mp_dict_get_1_per_s", rate(dict_get, (d,), 1, s)[0])
        lock = mp.Lock()
        for procs, figure in ((1, "mp_dict_incr_1_per_s"), (n, "mp_dict_incr_n_per_s")):
            d["n"] = 0
            per_s, count = rate(dict_incr, (d, lock), procs, s)
            check('d["n"]', d["n"], count)
            emit(figure, per_s)


if __name__ == "__main__":
    main()
