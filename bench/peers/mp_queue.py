#!/usr/bin/env python3
"""Peer figures for forkd's queue benchmark: multiprocessing.Queue and Pipe between two processes.

Standard library only. Prints one JSON line per figure:
  mp_queue_items_per_s     producer process -> consumer process through multiprocessing.Queue
  mp_pipe_roundtrip_p50_us / _p99_us   ping-pong over multiprocessing.Pipe (send, recv the echo)
  mp_queue_roundtrip_p50_us / _p99_us  ping-pong over two multiprocessing.Queues
"""
import json
import multiprocessing as mp
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
PINGS = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000


def producer(q, n):
    for i in range(n):
        q.put(b"item-%d" % i)
    q.put(None)


def echo_pipe(conn):
    while True:
        m = conn.recv_bytes()
        if not m:
            return
        conn.send_bytes(m)


def echo_queue(inq, outq):
    while True:
        m = inq.get()
        if m is None:
            return
        outq.put(m)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def emit(name, value, unit):
    print(json.dumps({"figure": name, "value": round(value, 1), "unit": unit, "peer": "python-multiprocessing"}))


def main():
    q = mp.Queue()
    p = mp.Process(target=producer, args=(q, N))
    t0 = time.perf_counter()
    p.start()
    got = 0
    while q.get() is not None:
        got += 1
    dt = time.perf_counter() - t0
    p.join()
    assert got == N
    emit("mp_queue_items_per_s", N / dt, "items/s")

    a, b = mp.Pipe()
    p = mp.Process(target=echo_pipe, args=(b,))
    p.start()
    rtts = []
    for i in range(PINGS):
        t = time.perf_counter_ns()
        a.send_bytes(b"ping")
        a.recv_bytes()
        rtts.append((time.perf_counter_ns() - t) / 1000)
    a.send_bytes(b"")
    p.join()
    emit("mp_pipe_roundtrip_p50_us", pct(rtts, 0.5), "us")
    emit("mp_pipe_roundtrip_p99_us", pct(rtts, 0.99), "us")

    inq, outq = mp.Queue(), mp.Queue()
    p = mp.Process(target=echo_queue, args=(inq, outq))
    p.start()
    rtts = []
    for i in range(PINGS):
        t = time.perf_counter_ns()
        inq.put(b"ping")
        outq.get()
        rtts.append((time.perf_counter_ns() - t) / 1000)
    inq.put(None)
    p.join()
    emit("mp_queue_roundtrip_p50_us", pct(rtts, 0.5), "us")
    emit("mp_queue_roundtrip_p99_us", pct(rtts, 0.99), "us")


if __name__ == "__main__":
    main()
