#!/usr/bin/env python3
"""How fast a restarted supervisor serves again, with what the issue asks it to carry (issue 13):

    /usr/bin/python3 clients/python/bench/recovery.py [--children N] [--items N] [--keys N]

Starts its own `forkd serve` (this checkout's launcher) on a private socket and state directory; runs
N children (`sleep`), puts N items in a durable queue and N keys in a shared dict; SIGKILLs the
supervisor alone (its agents and children run on), starts a new one on the same state directory, and
reports how long it took to serve again, the supervisor's RSS after recovery, and what came back.
Figures, not asserts; the server is stopped (SIGTERM: children too) at the end.
"""
import concurrent.futures
import os
import re
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from conftest import start_server, stop_server  # noqa: E402


def arg(name, default):
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    children, items, keys = arg("--children", 1000), arg("--items", 100_000), arg("--keys", 10_000)
    state = tempfile.mkdtemp(prefix="forkd-recovery-")
    sock = os.path.join(state, "forkd.sock")
    args = ("--listen", "unix:" + sock, "--state-dir", os.path.join(state, "store"))
    server = start_server(state, *args)
    os.environ["FORKD_ADDRESS"] = "unix:" + sock
    from forkd import _wire
    from forkd._rpc import client
    try:
        t = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda i: _wire.spawn(["sleep", "100000"], {}, "/", False, {"bench": "recovery"}),
                        range(children)))
        spawned = time.perf_counter() - t
        queue = client().call("QueueService.Create", maxsize=0, durable=True).queue.id
        t = time.perf_counter()
        batch = [b"item-%08d" % i for i in range(1000)]
        for _ in range(items // 1000):
            _wire.put(queue, batch, None)
        put_s = time.perf_counter() - t
        for start in range(0, keys, 1000):
            _wire.set_dict_items("recovery", {"key-%06d" % i: b"v" * 16 for i in range(start, min(keys, start + 1000))})
        print("loaded: %d children in %.1f s, %d durable items in %.1f s, %d shared keys" % (
            children, spawned, items, put_s, keys), flush=True)

        os.kill(server.pid, signal.SIGKILL)  # the supervisor alone: agents are in their own group
        server.wait()
        t = time.perf_counter()
        server = start_server(state, *args)
        serving = time.perf_counter() - t
        with open(os.path.join(state, "serve.log"), errors="replace") as f:
            log = f.read()
        running, token = 0, ""
        while True:
            page = client().call("ProcessService.List", page_size=500, page_token=token,
                                 labels={"bench": "recovery"})
            running += sum(1 for p in page.processes if p.state == 2)  # PROCESS_STATE_RUNNING
            token = page.next_page_token
            if not token:
                break
        size = _wire.queue_size(queue)[0]
        kept_keys = len(_wire.list_dict("recovery"))
        print("recovery: serving again %.2f s after `forkd serve` started (JVM start, store load, agents"
              " back, reconcile); supervisor RSS %.0f MiB" % (serving, rss_mib(server.pid)))
        print("recovery: came back: %d of %d children running, queue size %s, %d of %d keys" % (
            running, children, size, kept_keys, keys))
        for line in log.splitlines():
            if "restored" in line:
                print("  log:", line.strip())
            elif "came back" in line:
                # The server's own timing: the agents' return, then reconcile and serve.
                found = re.search(r"\d+ agents? of the previous supervisor.*", line)
                print("recovery:", found.group(0).strip() if found else line.strip())
        print("load average at the end: %.1f %.1f %.1f" % os.getloadavg())
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
