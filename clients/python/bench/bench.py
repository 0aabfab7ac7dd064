#!/usr/bin/env python3
"""forkd's Python package beside multiprocessing, on this machine, in one run.

    /usr/bin/python3 clients/python/bench/bench.py [--quick]

Each figure is the median of 3 timed runs after a warm-up run. Starts a forkd server of its own (the repository's ./forkd launcher, on a private socket) unless
FORKD_ADDRESS names one, and prints one JSON object per figure and a table of ratios (forkd / peer;
higher is better for forkd). The issue's targets are printed beside the ratios; they are not asserts.
"""
import concurrent.futures
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

import forkd  # noqa: E402


def trivial(x):
    return x


def cpu_bound(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def nothing():
    pass


def produce(q, n):
    for i in range(n):
        q.put(b"item-%d" % i)
    q.put(None)


ROUNDS = 3


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def rate(count, fn):
    """count per second: one untimed warm-up run, then the median of ROUNDS timed runs."""
    fn()
    return statistics.median(count / timed(fn) for _ in range(ROUNDS))


def drain(q):
    n = 0
    while q.get() is not None:
        n += 1
    return n


def main():
    quick = "--quick" in sys.argv
    items = 20_000 if quick else 100_000
    starts = 10 if quick else 30
    queue_items = 5_000 if quick else 20_000
    cpu_items, cpu_n = (8, 200_000) if quick else (16, 1_000_000)
    rows = []
    load_before = os.getloadavg()
    started = time.time()

    def figure(name, value, unit, peer):
        rows.append((name, value, unit, peer))
        print(json.dumps({"figure": name, "value": round(value, 1), "unit": unit, "peer": peer}), flush=True)

    spawn = multiprocessing.get_context("spawn")

    # Pool(2).map of a trivial function.
    with forkd.Pool(2) as p:
        figure("pool_map_trivial", rate(items, lambda: p.map(trivial, range(items))), "items/s", "forkd")
    with spawn.Pool(2) as p:
        figure("pool_map_trivial_chunksize1", rate(items, lambda: p.map(trivial, range(items), chunksize=1)),
               "items/s", "multiprocessing")
        figure("pool_map_trivial_default", rate(items, lambda: p.map(trivial, range(items))), "items/s",
               "multiprocessing")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=spawn) as ex:
        figure("pool_map_trivial_executor", rate(items, lambda: list(ex.map(trivial, range(items)))), "items/s",
               "ProcessPoolExecutor")

    # Process start + join.
    def start_join(ctx):
        for _ in range(starts):
            p = ctx.Process(target=nothing)
            p.start()
            p.join()
    figure("process_start_join", rate(starts, lambda: start_join(forkd)), "processes/s", "forkd")
    figure("process_start_join", rate(starts, lambda: start_join(spawn)), "processes/s", "multiprocessing spawn")

    # Queue of small objects, producer process -> this process.
    def queue_run(ctx):
        q = ctx.Queue()
        p = ctx.Process(target=produce, args=(q, queue_items))
        t = time.perf_counter()
        p.start()
        got = drain(q)
        dt = time.perf_counter() - t
        p.join()
        assert got == queue_items
        return queue_items / dt
    figure("queue_items", statistics.median(queue_run(forkd) for _ in range(ROUNDS)), "items/s", "forkd")
    figure("queue_items", statistics.median(queue_run(spawn) for _ in range(ROUNDS)), "items/s", "multiprocessing")

    # CPU-bound speed-up of two workers over one.
    def cpu(ctx, n):
        with ctx.Pool(n) as p:
            p.map(trivial, range(4))
            return statistics.median(timed(lambda: p.map(cpu_bound, [cpu_n] * cpu_items, chunksize=1))
                                     for _ in range(ROUNDS))
    figure("cpu_speedup_2_workers", cpu(forkd, 1) / cpu(forkd, 2), "x", "forkd")
    figure("cpu_speedup_2_workers", cpu(spawn, 1) / cpu(spawn, 2), "x", "multiprocessing")

    v = {(n, peer): value for n, value, _, peer in rows}
    ratios = [
        ("Pool(2).map vs mp map(chunksize=1)", v[("pool_map_trivial", "forkd")] / v[("pool_map_trivial_chunksize1", "multiprocessing")], ">= 1"),
        ("Pool(2).map vs mp map (default chunks)", v[("pool_map_trivial", "forkd")] / v[("pool_map_trivial_default", "multiprocessing")], ">= 0.3"),
        ("Pool(2).map vs ProcessPoolExecutor(2).map", v[("pool_map_trivial", "forkd")] / v[("pool_map_trivial_executor", "ProcessPoolExecutor")], ">= 3"),
        ("Process start+join vs spawn", v[("process_start_join", "forkd")] / v[("process_start_join", "multiprocessing spawn")], ">= 1"),
        ("Queue vs multiprocessing.Queue", v[("queue_items", "forkd")] / v[("queue_items", "multiprocessing")], ">= 0.5"),
        ("CPU-bound Pool(2) speed-up", v[("cpu_speedup_2_workers", "forkd")], ">= 1.8"),
    ]
    print()
    print("python bench: %s, %d cores, Python %s, %s, took %.0f s; load average (1/5/15 min) %s at start, %s at end"
          % (time.strftime("%Y-%m-%dT%H:%M", time.gmtime(started)), os.cpu_count(), sys.version.split()[0],
             "--quick" if quick else "full", time.time() - started,
             " ".join("%.2f" % x for x in load_before), " ".join("%.2f" % x for x in os.getloadavg())))
    for name, value, unit, peer in rows:
        print("%-28s %-22s %14.1f %s" % (name, peer, value, unit))
    print()
    for name, ratio, target in ratios:
        print("%-44s %6.2fx   target %s" % (name, ratio, target))


if __name__ == "__main__":
    if os.environ.get("FORKD_ADDRESS"):
        main()
    else:
        from conftest import start_server, stop_server
        with tempfile.TemporaryDirectory(prefix="forkd-bench-py-") as state:
            server = start_server(state, "--listen", "unix:" + os.path.join(state, "forkd.sock"))
            os.environ["FORKD_ADDRESS"] = "unix:" + os.path.join(state, "forkd.sock")
            try:
                main()
            finally:
                from forkd import _lifecycle
                _lifecycle.run()
                stop_server(server)
