"""Targets for children: importable by name (children unpickle them by reference, as spawn does)."""
import os
import signal
import sys
import time


def hello(name):
    print("hello", name)
    print("to stderr", name, file=sys.stderr)


def exit_with(code):
    sys.exit(code)


def boom():
    raise ValueError("boom in the child")


def sleep_forever():
    while True:
        time.sleep(3600)


def put_info(q):
    import forkd
    q.put({"cwd": os.getcwd(), "path": sys.path, "env": os.environ.get("FORKD_TEST_MARK"),
           "name": forkd.current_process().name, "parent_pid": forkd.parent_process().pid,
           "parent_alive": forkd.parent_process().is_alive(), "daemon": forkd.current_process().daemon,
           "identity": forkd.current_process()._identity,
           "exe": sys.executable, "pid": os.getpid()})


def put_range(q, n):
    for i in range(n):
        q.put(i)


def get_and_put(inq, outq):
    outq.put(inq.get() * 2)


def consume_joinable(q, results):
    while True:
        item = q.get()
        if item is None:
            q.task_done()
            return
        results.put(item + 1)
        q.task_done()


def pipe_echo(conn):
    while True:
        try:
            m = conn.recv()
        except EOFError:
            return
        conn.send(("echo", m))


def pipe_send_and_close(conn, items):
    for i in items:
        conn.send(i)
    conn.close()


def hold_lock_and_signal(lock, event):
    lock.acquire()
    event.set()
    sleep_forever()


def increment(value, lock_it, n):
    for _ in range(n):
        if lock_it:
            with value.get_lock():
                value.value += 1
        else:
            value.value += 1


def negate(num, arr):
    num.value = 3.1415927
    for i in range(len(arr)):
        arr[i] = -arr[i]


def wait_event_then_put(event, q):
    q.put(event.wait(60))


def condition_waiter(cond, ready, q):
    with cond:
        ready.set()
        q.put(cond.wait(60))


def barrier_party(barrier, q):
    q.put(barrier.wait(60))


def semaphore_hold(sem, q):
    q.put(sem.acquire(timeout=60))


def manager_child(d, lst, ns, v, q, lock):
    with lock:
        d["child"] = os.getpid()
        d[1] = "one"
        lst.append("from child")
        ns.x = ns.x + 1
        v.value = v.value + 10
        q.put("done")


def square(x):
    return x * x


def mul(a, b):
    return a * b


def worker_pid(_):
    return os.getpid()


def fail_on(x):
    if x == 3:
        raise KeyError("three")
    return x


def slow_square(x):
    time.sleep(0.05)
    return x * x


def kill_once(args):
    """Kills its own worker the first time it sees x == 5 (a marker file remembers), then answers."""
    x, marker = args
    if x == 5 and not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return x * 10


def always_die(x):
    os.kill(os.getpid(), signal.SIGKILL)


_initialized = []


def init_worker(value):
    _initialized.append(value)


def read_initialized(_):
    return list(_initialized)


def spawn_daemon_and_wait(q):
    import forkd
    d = forkd.Process(target=sleep_forever, daemon=True)
    d.start()
    q.put(d.forkd_id)
    sleep_forever()


def print_lines(n):
    for i in range(n):
        print("line", i)


def pipe_send_no_close(conn, items):
    for i in items:
        conn.send(i)


def drain_into(q, out):
    got = []
    while True:
        item = q.get()
        if item is None:
            break
        got.append(item)
    out.put(got)


def chatty_square(x):
    print("squaring", x)
    print("note", x, file=sys.stderr)
    return x * x


def put_to_deleted_queue(q):
    from forkd import _wire
    _wire.delete_queue(q.forkd_id)
    q.put("lost")


def put_start_info(q):
    q.put({"cwd": os.getcwd(), "env": os.environ.get("FORKD_TEST_MARK"), "pid": os.getpid(),
           "stdin": sys.stdin.read(), "payload_variable": "FORKD_PY_PROCESS" in os.environ})
