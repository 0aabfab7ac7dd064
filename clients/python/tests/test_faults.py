"""What multiprocessing gets wrong and forkd must not: a lock whose holder died, the daemon children of a
killed parent. (A worker SIGKILLed mid-map is in test_pool.)"""
import os
import signal

import forkd
import helpers
from forkd import _wire

WAIT = 60


def test_a_lock_whose_holder_is_sigkilled_passes_to_the_next_waiter():
    lock, event = forkd.Lock(), forkd.Event()
    holder = forkd.Process(target=helpers.hold_lock_and_signal, args=(lock, event))
    holder.start()
    assert event.wait(WAIT)
    assert not lock.acquire(block=False)
    os.kill(holder.pid, signal.SIGKILL)  # as an OOM killer would: no cleanup in the holder
    assert lock.acquire(timeout=WAIT), "the dead holder's lock was never released"
    lock.release()
    holder.join(WAIT)
    assert holder.exitcode == -signal.SIGKILL


def test_the_daemon_child_of_a_sigkilled_parent_is_terminated():
    q = forkd.Queue()
    parent = forkd.Process(target=helpers.spawn_daemon_and_wait, args=(q,))
    parent.start()
    daemon_id = q.get(timeout=WAIT)
    assert _wire.get_process(daemon_id).alive
    os.kill(parent.pid, signal.SIGKILL)
    parent.join(WAIT)
    assert parent.exitcode == -signal.SIGKILL
    state = _wire.join_process(daemon_id, WAIT)
    assert state.ended, "the daemon child outlived its killed parent"
    assert not state.alive


def test_a_child_killed_while_consuming_does_not_take_the_queue_with_it():
    q = forkd.Queue()
    consumer = forkd.Process(target=helpers.get_and_put, args=(q, forkd.Queue()))
    consumer.start()
    consumer.kill()
    consumer.join(WAIT)
    q.put("still works")
    assert q.get(timeout=WAIT) == "still works"
