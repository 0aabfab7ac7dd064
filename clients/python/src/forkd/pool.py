"""multiprocessing.Pool on a forkd pool of persistent workers.

Each worker is one Python interpreter (`python -m forkd._pool_worker`) running a loop over pickled
calls, so no interpreter starts per task. map/imap/imap_unordered/starmap stream their chunks through
one PoolService.Map stream; apply/apply_async are single Apply calls. A worker that dies mid-task has
its task run again on another worker (up to MAX_RETRIES times); after that the task raises TaskFailed
in the caller: a map never hangs.
"""
import itertools
import os
import pickle
import sys
import threading
# The class multiprocessing raises, so `except multiprocessing.TimeoutError` catches ours too.
from multiprocessing import TimeoutError

from forkd import _lifecycle, _wire
from forkd.process import child_environment, encode, preparation_data

MAX_RETRIES = 2
RUN, CLOSE, TERMINATE = "RUN", "CLOSE", "TERMINATE"




class TaskFailed(Exception):
    """A task whose worker died (or was terminated) on every attempt."""


def _dumps(obj):
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def _decode(outcome):
    if outcome.failure is not None:
        raise TaskFailed(outcome.failure)
    status, value, printed_out, printed_err = pickle.loads(outcome.output)
    # What the task printed, printed here, as a multiprocessing worker's prints reach the terminal.
    if printed_out:
        sys.stdout.write(printed_out)
        sys.stdout.flush()
    if printed_err:
        sys.stderr.write(printed_err)
        sys.stderr.flush()
    if status == "err":
        raise value
    return value


class ApplyResult:
    """multiprocessing's AsyncResult: get, wait, ready, successful; callbacks run when it is ready."""

    def __init__(self, callback=None, error_callback=None):
        self._event = threading.Event()
        self._callback = callback
        self._error_callback = error_callback
        self._success = None
        self._value = None

    def _set(self, success, value):
        self._success, self._value = success, value
        try:
            if success and self._callback is not None:
                self._callback(value)
            if not success and self._error_callback is not None:
                self._error_callback(value)
        finally:
            self._event.set()

    def ready(self):
        return self._event.is_set()

    def successful(self):
        if not self.ready():
            raise ValueError("{0!r} not ready".format(self))
        return self._success

    def wait(self, timeout=None):
        self._event.wait(timeout)

    def get(self, timeout=None):
        if not self._event.wait(timeout):
            raise TimeoutError
        if self._success:
            return self._value
        raise self._value


AsyncResult = ApplyResult
MapResult = ApplyResult


class Pool:
    def __init__(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None, context=None):
        if processes is None:
            processes = os.cpu_count() or 1
        if processes < 1:
            raise ValueError("Number of processes must be at least 1")
        if maxtasksperchild is not None and (not isinstance(maxtasksperchild, int) or maxtasksperchild <= 0):
            raise ValueError("maxtasksperchild must be a positive int or None")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        self._processes = processes
        env = child_environment({"FORKD_PY_POOL": encode((preparation_data("PoolWorker"),
                                                          _dumps((initializer, tuple(initargs)))))})
        self._id, _ = _wire.create_pool(processes, [sys.executable, "-m", "forkd._pool_worker"], env,
                                        os.getcwd(), maxtasksperchild, MAX_RETRIES)
        self._state = RUN
        self._pending = set()
        self._pending_lock = threading.Lock()
        _lifecycle.own(self._finalize)

    def __reduce__(self):
        raise NotImplementedError("pool objects cannot be passed between processes or pickled")

    def __repr__(self):
        return "<forkd.pool.Pool state=%s pool_size=%d %s>" % (self._state, self._processes, self._id)

    @property
    def forkd_id(self):
        return self._id

    def _check_running(self):
        if self._state != RUN:
            raise ValueError("Pool not running")

    def _chunksize(self, n, chunksize):
        if chunksize is None:
            chunksize, extra = divmod(n, self._processes * 4)
            if extra:
                chunksize += 1
        if chunksize < 1:
            raise ValueError("Chunksize must be 1+, not {0:n}".format(chunksize))
        return max(1, chunksize)

    def _stream(self, kind, func, chunks, ordered):
        """Yields (chunk index, results of the chunk), cancelling the stream if the caller stops early."""
        from forkd._rpc import client
        call, results = _wire.map_stream(self._id, (_dumps((kind, func, c)) for c in chunks), ordered)
        try:
            while True:
                try:
                    outcomes = next(results)
                except StopIteration:
                    return
                except client().rpc_error as e:
                    raise client().wrap(e) from None
                for o in outcomes:
                    yield o.index, _decode(o)
        finally:
            call.cancel()

    def _map(self, kind, func, iterable, chunksize):
        items = list(iterable)
        if not items:
            return []
        cs = self._chunksize(len(items), chunksize)
        chunks = [items[i:i + cs] for i in range(0, len(items), cs)]
        out = [None] * len(chunks)
        for index, values in self._stream(kind, func, chunks, True):
            out[index] = values
        return list(itertools.chain.from_iterable(out))

    def map(self, func, iterable, chunksize=None):
        self._check_running()
        return self._map("map", func, iterable, chunksize)

    def starmap(self, func, iterable, chunksize=None):
        self._check_running()
        return self._map("starmap", func, iterable, chunksize)

    def _lazy(self, func, iterable, chunksize, ordered):
        self._check_running()
        if chunksize < 1:
            raise ValueError("Chunksize must be 1+, not {0:n}".format(chunksize))
        it = iter(iterable)
        chunks = iter(lambda: list(itertools.islice(it, chunksize)), [])

        def results():
            for _, values in self._stream("map", func, chunks, ordered):
                yield from values
        return results()

    def imap(self, func, iterable, chunksize=1):
        return self._lazy(func, iterable, chunksize, True)

    def imap_unordered(self, func, iterable, chunksize=1):
        return self._lazy(func, iterable, chunksize, False)

    def apply(self, func, args=(), kwds=None):
        return self.apply_async(func, args, kwds).get()

    def apply_async(self, func, args=(), kwds=None, callback=None, error_callback=None):
        self._check_running()
        result = ApplyResult(callback, error_callback)
        future, decode = _wire.apply_future(self._id, _dumps(("apply", func, (tuple(args), dict(kwds or {})))))
        self._track(result)

        def done(f):
            try:
                response = f.result()
            except BaseException as e:
                self._untrack(result)
                result._set(False, _wire_error(e))
                return
            try:
                value, success = _decode(decode(response)), True
            except BaseException as e:
                value, success = e, False
            self._untrack(result)
            result._set(success, value)
        future.add_done_callback(done)
        return result

    def _async(self, kind, func, iterable, chunksize, callback, error_callback):
        self._check_running()
        result = ApplyResult(callback, error_callback)
        self._track(result)
        items = list(iterable)

        def run():
            try:
                value, success = self._map(kind, func, items, chunksize), True
            except BaseException as e:
                value, success = e, False
            self._untrack(result)
            result._set(success, value)
        threading.Thread(target=run, name="forkd-map-async", daemon=True).start()
        return result

    def map_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        return self._async("map", func, iterable, chunksize, callback, error_callback)

    def starmap_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        return self._async("starmap", func, iterable, chunksize, callback, error_callback)

    def _track(self, result):
        with self._pending_lock:
            self._pending.add(result)

    def _untrack(self, result):
        with self._pending_lock:
            self._pending.discard(result)

    def close(self):
        if self._state == RUN:
            self._state = CLOSE
            _wire.close_pool(self._id)

    def terminate(self):
        if self._state != TERMINATE:
            self._state = TERMINATE
            _wire.terminate_pool(self._id)

    def join(self):
        if self._state == RUN:
            raise ValueError("Pool is still running")
        with self._pending_lock:
            pending = list(self._pending)
        for result in pending:
            result.wait()
        _wire.join_pool(self._id)

    def _finalize(self):
        try:
            if self._state != TERMINATE:
                self.terminate()
            _wire.join_pool(self._id, 30)
        finally:
            _wire.delete_pool(self._id)

    def __enter__(self):
        self._check_running()
        return self

    def __exit__(self, *exc):
        self.terminate()


def _wire_error(e):
    from forkd._rpc import client
    return client().wrap(e)
