import os
import threading

import pytest

import forkd
import helpers

WAIT = 120


@pytest.fixture(scope="module")
def pool():
    with forkd.Pool(2) as p:
        yield p


def test_map_starmap_and_chunksizes(pool):
    assert pool.map(helpers.square, range(10)) == [x * x for x in range(10)]
    assert pool.map(helpers.square, range(100), chunksize=1) == [x * x for x in range(100)]
    assert pool.map(helpers.square, range(1000), 7) == [x * x for x in range(1000)]
    assert pool.map(helpers.square, []) == []
    assert pool.starmap(helpers.mul, [(1, 2), (3, 4)]) == [2, 12]
    with pytest.raises(ValueError):
        pool.map(helpers.square, [1], chunksize=0)


def test_imap_is_ordered_and_lazy_and_imap_unordered_gets_everything(pool):
    assert list(pool.imap(helpers.square, iter(range(50)))) == [x * x for x in range(50)]
    assert list(pool.imap(helpers.square, range(50), chunksize=8)) == [x * x for x in range(50)]
    assert sorted(pool.imap_unordered(helpers.slow_square, range(20))) == sorted(x * x for x in range(20))
    it = pool.imap(helpers.square, range(10 ** 9))  # never materialised
    assert [next(it) for _ in range(5)] == [0, 1, 4, 9, 16]
    it.close()


def test_apply_and_apply_async_with_callbacks(pool):
    assert pool.apply(helpers.mul, (6, 7)) == 42
    assert pool.apply(helpers.mul, (), {"a": 2, "b": 3}) == 6
    got, errors, done = [], [], threading.Event()
    r = pool.apply_async(helpers.square, (20,), callback=lambda v: (got.append(v), done.set()))
    assert r.get(timeout=WAIT) == 400
    assert done.wait(WAIT) and got == [400]
    assert r.ready() and r.successful()
    failed = threading.Event()
    e = pool.apply_async(helpers.fail_on, (3,), error_callback=lambda exc: (errors.append(exc), failed.set()))
    with pytest.raises(KeyError):
        e.get(timeout=WAIT)
    assert failed.wait(WAIT) and isinstance(errors[0], KeyError)
    assert not e.successful()
    slow = pool.apply_async(helpers.slow_square, (3,))
    with pytest.raises(forkd.TimeoutError):
        slow.get(timeout=0.001)
    assert slow.get(timeout=WAIT) == 9


def test_map_async_and_starmap_async(pool):
    got = []
    r = pool.map_async(helpers.square, range(5), callback=got.append)
    assert r.get(WAIT) == [0, 1, 4, 9, 16]
    r.wait(WAIT)
    assert got == [[0, 1, 4, 9, 16]]
    assert pool.starmap_async(helpers.mul, [(2, 2)]).get(WAIT) == [4]
    bad = pool.map_async(helpers.fail_on, range(5))
    with pytest.raises(KeyError):
        bad.get(WAIT)


def test_an_exception_in_a_task_is_raised_by_map_with_the_remote_traceback(pool):
    with pytest.raises(KeyError) as e:
        pool.map(helpers.fail_on, range(10))
    assert "fail_on" in str(e.value.__cause__)
    assert pool.map(helpers.square, [3]) == [9]  # the pool still works


def test_what_a_task_prints_reaches_the_callers_stdout_and_stderr(pool, capsys):
    assert pool.map(helpers.chatty_square, [2, 3], chunksize=1) == [4, 9]
    assert pool.apply(helpers.chatty_square, (4,)) == 16
    out, err = capsys.readouterr()
    assert out.splitlines() == ["squaring 2", "squaring 3", "squaring 4"]
    assert err.splitlines() == ["note 2", "note 3", "note 4"]


def test_workers_are_persistent_no_interpreter_per_task():
    with forkd.Pool(2) as p:
        pids = set(p.map(helpers.worker_pid, range(200), chunksize=1))
        assert 1 <= len(pids) <= 2
        assert os.getpid() not in pids


def test_initializer_runs_in_each_worker_and_maxtasksperchild_replaces_workers():
    with forkd.Pool(2, initializer=helpers.init_worker, initargs=("ready",)) as p:
        assert all(r == ["ready"] for r in p.map(helpers.read_initialized, range(10), chunksize=1))
    with forkd.Pool(1, maxtasksperchild=2) as p:
        pids = p.map(helpers.worker_pid, range(6), chunksize=1)
        assert len(set(pids)) == 3


def test_close_join_terminate_and_argument_checks():
    p = forkd.Pool(1)
    r = p.apply_async(helpers.square, (4,))
    with pytest.raises(ValueError):
        p.join()
    p.close()
    with pytest.raises(ValueError):
        p.map(helpers.square, [1])
    p.join()
    assert r.get(WAIT) == 16
    t = forkd.Pool(1)
    t.terminate()
    t.join()
    with pytest.raises(ValueError):
        forkd.Pool(0)
    with pytest.raises(TypeError):
        forkd.Pool(1, initializer=3)


def test_worker_sigkilled_mid_map_has_its_task_retried(tmp_path):
    marker = str(tmp_path / "killed-once")
    with forkd.Pool(2) as p:
        results = p.map(helpers.kill_once, [(x, marker) for x in range(10)], chunksize=1)
    assert os.path.exists(marker)  # a worker really died mid-map
    assert results == [x * 10 for x in range(10)]


def test_a_task_that_kills_every_worker_raises_instead_of_hanging():
    with forkd.Pool(2) as p:
        with pytest.raises(forkd.TaskFailed) as e:
            p.map(helpers.always_die, range(3))
        assert "WORKER_DIED" in str(e.value)
        with pytest.raises(forkd.TaskFailed):
            p.apply(helpers.always_die, (1,))
        assert p.map(helpers.square, [2]) == [4]
