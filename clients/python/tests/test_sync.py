import threading
import time

import pytest

import forkd
import helpers

WAIT = 60


def test_lock_excludes_across_processes_and_times_out():
    lock, event = forkd.Lock(), forkd.Event()
    holder = forkd.Process(target=helpers.hold_lock_and_signal, args=(lock, event))
    holder.start()
    assert event.wait(WAIT)
    assert not lock.acquire(block=False)
    t = time.monotonic()
    assert not lock.acquire(timeout=0.3)
    assert time.monotonic() - t >= 0.25
    assert lock.locked()
    holder.kill()
    holder.join(WAIT)


def test_lock_context_manager_and_release_errors():
    lock = forkd.Lock()
    with lock:
        assert lock.locked()
    assert not lock.locked()
    with pytest.raises(ValueError):
        lock.release()
    r = forkd.RLock()
    with r:
        with r:
            assert r.acquire(timeout=1)
            r.release()
    with pytest.raises(AssertionError):
        r.release()


def test_semaphore_and_bounded_semaphore():
    s = forkd.Semaphore(2)
    assert s.get_value() == 2
    assert s.acquire() and s.acquire(timeout=1)
    assert not s.acquire(block=False)
    s.release()
    assert s.get_value() == 1
    s.release()
    s.release()  # a plain semaphore may go above its initial value
    assert s.get_value() == 3
    b = forkd.BoundedSemaphore(1)
    with b:
        assert b.get_value() == 0
    with pytest.raises(ValueError):
        b.release()


def test_semaphore_starting_at_zero_blocks_until_released():
    s = forkd.Semaphore(0)
    assert s.get_value() == 0
    assert not s.acquire(block=False)
    s.release()
    assert s.get_value() == 1
    assert s.acquire(timeout=1)
    assert not s.acquire(timeout=0.1)


def test_semaphore_across_processes():
    s, q = forkd.Semaphore(1), forkd.Queue()
    s.acquire()
    p = forkd.Process(target=helpers.semaphore_hold, args=(s, q))
    p.start()
    s.release()
    assert q.get(timeout=WAIT) is True
    p.join(WAIT)


def test_event_wakes_a_waiting_child():
    e, q = forkd.Event(), forkd.Queue()
    assert not e.is_set()
    assert not e.wait(0.1)
    p = forkd.Process(target=helpers.wait_event_then_put, args=(e, q))
    p.start()
    e.set()
    assert q.get(timeout=WAIT) is True
    assert e.is_set()
    e.clear()
    assert not e.is_set()
    p.join(WAIT)


def test_condition_notify_wakes_a_child_waiting_on_it():
    cond, ready, q = forkd.Condition(), forkd.Event(), forkd.Queue()
    p = forkd.Process(target=helpers.condition_waiter, args=(cond, ready, q))
    p.start()
    assert ready.wait(WAIT)
    with cond:  # granted once the child's wait released the lock
        cond.notify()
    assert q.get(timeout=WAIT) is True
    p.join(WAIT)
    with cond:
        assert not cond.wait(0.1)
        assert cond.wait_for(lambda: True, 0.1)
        cond.notify_all()
    with pytest.raises(RuntimeError):
        cond.notify()


def test_barrier_releases_parties_across_processes():
    b, q = forkd.Barrier(3), forkd.Queue()
    ps = [forkd.Process(target=helpers.barrier_party, args=(b, q)) for _ in range(2)]
    for p in ps:
        p.start()
    mine = b.wait(WAIT)
    indices = sorted([mine] + [q.get(timeout=WAIT) for _ in ps])
    assert indices == [0, 1, 2]
    for p in ps:
        p.join(WAIT)
    assert b.parties == 3 and b.n_waiting == 0 and not b.broken
    b.abort()
    assert b.broken
    with pytest.raises(threading.BrokenBarrierError):
        b.wait(1)
    b.reset()
    assert not b.broken


def test_barrier_action_runs_once():
    ran = []
    b = forkd.Barrier(1, action=lambda: ran.append(1))
    assert b.wait(WAIT) == 0
    assert ran == [1]


def test_an_interrupted_acquire_leaves_no_waiter_and_takes_nothing():
    # Ctrl-C during a blocking acquire: the wait is undone on the server (CancelAcquire), so no ghost
    # waiter is left to swallow the permit a later release gives back.
    import signal

    from forkd import _wire

    s = forkd.Semaphore(0)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(KeyboardInterrupt):
            s.acquire()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert _wire.sync_info(s.forkd_name)["waiters"] == 0
    s.release()
    assert s.get_value() == 1, "nobody took the permit"
    assert s.acquire(timeout=5)
