import queue
import textwrap
import time

import pytest

import forkd
import helpers
from conftest import run_program

WAIT = 60


def test_put_and_get_pickled_objects_in_order():
    q = forkd.Queue()
    items = [1, "two", (3,), {"four": 4}, None, b"six" * 1000]
    for i in items:
        q.put(i)
    assert [q.get(timeout=WAIT) for _ in items] == items


def test_get_times_out_with_queue_empty_and_nowait_too():
    q = forkd.Queue()
    t = time.monotonic()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.3)
    assert time.monotonic() - t >= 0.25
    with pytest.raises(queue.Empty):
        q.get_nowait()
    with pytest.raises(queue.Empty):
        q.get(block=False)


def test_bounded_queue_raises_full_and_reports_size():
    q = forkd.Queue(2)
    q.put(1)
    q.put_nowait(2)
    assert q.full() and q.qsize() == 2 and not q.empty()
    with pytest.raises(queue.Full):
        q.put(3, timeout=0.2)
    with pytest.raises(queue.Full):
        q.put_nowait(3)
    assert q.get() == 1
    assert not q.full()


def test_qsize_and_empty_count_puts_not_yet_streamed():
    q = forkd.Queue()
    assert q.empty()
    for i in range(100):
        q.put(i)
    assert q.qsize() == 100
    assert not q.empty()


def test_close_refuses_further_puts_here_and_join_thread_flushes():
    q = forkd.Queue()
    q.put("last")
    q.close()
    with pytest.raises(ValueError):
        q.put("more")
    q.join_thread()
    other = _reattach(q)
    assert other.get(timeout=WAIT) == "last"


def _reattach(q):
    import pickle
    return pickle.loads(pickle.dumps(q))


def test_a_queue_passed_to_children_is_the_same_queue():
    q, out = forkd.Queue(), forkd.Queue()
    producer = forkd.Process(target=helpers.put_range, args=(q, 1000))
    producer.start()
    got = [q.get(timeout=WAIT) for _ in range(1000)]
    producer.join(WAIT)
    assert got == list(range(1000))
    assert producer.exitcode == 0
    q.put(21)
    doubler = forkd.Process(target=helpers.get_and_put, args=(q, out))
    doubler.start()
    assert out.get(timeout=WAIT) == 42
    doubler.join(WAIT)


def test_joinable_queue_task_done_and_join():
    q, results = forkd.JoinableQueue(), forkd.Queue()
    consumer = forkd.Process(target=helpers.consume_joinable, args=(q, results))
    consumer.start()
    for i in range(20):
        q.put(i)
    q.put(None)
    q.join()
    consumer.join(WAIT)
    assert sorted(results.get(timeout=WAIT) for _ in range(20)) == list(range(1, 21))
    with pytest.raises(ValueError):
        q.task_done()


def test_simple_queue():
    q = forkd.SimpleQueue()
    assert q.empty()
    q.put({"a": 1})
    assert not q.empty()
    assert q.get() == {"a": 1}
    other = _reattach(q)
    other.put(5)
    assert q.get() == 5
    q.close()


def test_other_languages_see_the_server_queue_by_id():
    q = forkd.Queue()
    assert q.forkd_id
    q.put("x")
    q.close()
    q.join_thread()
    from forkd import _wire
    assert _wire.queue_size(q.forkd_id)[0] == 1


def test_items_pushed_ahead_to_an_idle_consumer_go_back_to_others():
    q, out = forkd.Queue(), forkd.Queue()
    for i in range(10):
        q.put(i)
    assert q.get(timeout=WAIT) == 0  # this process now has the other items pushed ahead
    child = forkd.Process(target=helpers.get_and_put, args=(q, out))
    child.start()
    assert out.get(timeout=WAIT) == 2  # it got item 1: this process handed back what it was not using
    child.join(WAIT)
    assert [q.get(timeout=WAIT) for _ in range(8)] == list(range(2, 10))


def test_nothing_is_lost_or_duplicated_between_competing_consumers():
    q, out = forkd.Queue(), forkd.Queue()
    n = 3000
    consumers = [forkd.Process(target=helpers.drain_into, args=(q, out)) for _ in range(2)]
    for c in consumers:
        c.start()
    for i in range(n):
        q.put(i)
    for _ in consumers:
        q.put(None)
    got = []
    for _ in consumers:
        got.extend(out.get(timeout=WAIT))
    for c in consumers:
        c.join(WAIT)
    assert sorted(got) == list(range(n))


def test_streams_and_their_threads_end_when_a_queue_is_left_alone():
    import threading
    before = {t.name for t in threading.enumerate()}
    queues = [forkd.Queue() for _ in range(5)]
    for q in queues:
        q.put("x")
        assert q.get(timeout=WAIT) == "x"
    during = [t.name for t in threading.enumerate() if t.name.startswith("forkd-") and t.name not in before]
    assert during, "puts and gets stream on threads of their own"
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:  # the feeder ends after 2 s idle: no event to wait on from outside
        left = [t for t in threading.enumerate() if t.name.startswith(("forkd-feeder-", "forkd-consume"))
                and t.name not in before]
        if not left:
            break
        left[0].join(deadline - time.monotonic())
    assert not left, [t.name for t in left]
    q = queues[0]
    q.put("again")  # a put and a get after that open new streams
    assert q.get(timeout=WAIT) == "again"


def test_a_durable_queue_is_a_queue_the_server_stores():
    from forkd._rpc import client
    q = forkd.JoinableQueue(durable=True)
    assert client().call("QueueService.Get", name=q.forkd_id).queue.durable
    for i in range(100):
        q.put(i)
    assert [q.get(timeout=WAIT) for _ in range(100)] == list(range(100))
    for _ in range(100):
        q.task_done()
    q.join()
    plain = forkd.Queue()
    assert not client().call("QueueService.Get", name=plain.forkd_id).queue.durable


def test_puts_that_never_reach_their_queue_are_said_and_fail_the_child(capfd):
    # The child's put goes to its feeder, whose stream the server refuses (the queue is gone): at
    # exit the child says so on stderr and exits 1, not 0 as if its items had been delivered.
    q = forkd.Queue()
    p = forkd.Process(target=helpers.put_to_deleted_queue, args=(q,))
    p.start()
    p.join(WAIT)
    assert p.exitcode == 1
    err = capfd.readouterr().err
    assert "forkd: 1 item(s) put to queue %s by this process never reached it: NOT_FOUND" % q.forkd_id in err, err


def test_a_program_whose_puts_never_reach_their_queue_says_so(tmp_path):
    program = tmp_path / "prog.py"
    program.write_text(textwrap.dedent("""
        import forkd as multiprocessing
        from forkd import _wire

        if __name__ == '__main__':
            q = multiprocessing.Queue()
            _wire.delete_queue(q.forkd_id)
            q.put('lost')
            q.put('lost too')
            print('put', q.forkd_id)
    """))
    done = run_program(str(program))
    out, err = done.stdout.decode(), done.stderr.decode()
    queue_id = out.split()[-1]
    assert "forkd: 2 item(s) put to queue %s by this process never reached it" % queue_id in err, err
