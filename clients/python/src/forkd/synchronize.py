"""Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition and Barrier as forkd's server-held
primitives, with the threading API. Each is known by a name and pickles as that name, so it can be
passed to children. A lock is owned by the holder's forkd session: if the holder dies, the lock passes
to the next waiter instead of staying locked forever.
"""
import threading
import time
import uuid

from forkd import _lifecycle, _wire
from forkd._rpc import ForkdError


def _wait_time(block, timeout):
    if not block:
        return 0.0
    if timeout is None or timeout < 0:
        return None
    return timeout


class _Primitive:
    _kind = None

    def __init__(self, name=None, **settings):
        self._name = name or "py-%s-%s" % (self._kind.lower().replace("_", "-"), uuid.uuid4().hex[:16])
        _wire.create_sync(self._name, self._kind, **settings)
        _lifecycle.own(lambda n=self._name: _wire.delete_sync(n))

    def __reduce__(self):
        return _attach, (type(self), self._name, self._state())

    def _state(self):
        return None

    def _restore(self, state):
        pass

    @property
    def forkd_name(self):
        """The name on the server (e.g. for `forkd lock status NAME`)."""
        return self._name

    def __repr__(self):
        return "<%s(%s)>" % (type(self).__name__, self._name)


def _attach(cls, name, state):
    obj = cls.__new__(cls)
    obj._name = name
    obj._restore(state)
    return obj


class _Acquirable(_Primitive):
    def acquire(self, block=True, timeout=None):
        acquired, _ = _wire.acquire(self._name, self._kind, _wait_time(block, timeout))
        return acquired

    def release(self):
        try:
            _wire.release(self._name)
        except ForkdError as e:
            if e.code == "FAILED_PRECONDITION":
                raise self._release_error(e) from None
            raise

    def _release_error(self, e):
        return ValueError("semaphore or lock released too many times")

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


class Lock(_Acquirable):
    _kind = "LOCK"

    def __init__(self, *, ctx=None):
        super().__init__()

    def locked(self):
        return bool(_wire.sync_info(self._name)["holder"])


class RLock(_Acquirable):
    _kind = "RLOCK"

    def __init__(self, *, ctx=None):
        super().__init__()

    def _release_error(self, e):
        return AssertionError("attempt to release recursive lock not owned by thread")


class Semaphore(_Acquirable):
    _kind = "SEMAPHORE"

    def __init__(self, value=1, *, ctx=None):
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        super().__init__(value=value)

    def get_value(self):
        return _wire.sync_info(self._name)["value"]


class BoundedSemaphore(Semaphore):
    _kind = "BOUNDED_SEMAPHORE"


class Event(_Primitive):
    _kind = "EVENT"

    def __init__(self, *, ctx=None):
        super().__init__()

    def is_set(self):
        return _wire.wait_event(self._name, 0)

    def set(self):
        _wire.set_event(self._name)

    def clear(self):
        _wire.clear_event(self._name)

    def wait(self, timeout=None):
        return _wire.wait_event(self._name, timeout if timeout is None else max(0.0, timeout))


class Condition(_Primitive):
    _kind = "CONDITION"

    def __init__(self, lock=None, *, ctx=None):
        self._lock = lock if lock is not None else RLock()
        super().__init__(lock=self._lock._name)

    def _state(self):
        return self._lock

    def _restore(self, lock):
        self._lock = lock

    def acquire(self, block=True, timeout=None):
        return self._lock.acquire(block, timeout)

    def release(self):
        self._lock.release()

    def __enter__(self):
        return self._lock.__enter__()

    def __exit__(self, *exc):
        return self._lock.__exit__(*exc)

    def wait(self, timeout=None):
        try:
            return _wire.wait_condition(self._name, self._lock._name,
                                        timeout if timeout is None else max(0.0, timeout))
        except ForkdError as e:
            if e.code == "FAILED_PRECONDITION":
                raise RuntimeError("cannot wait on un-acquired lock") from None
            raise

    def wait_for(self, predicate, timeout=None):
        result = predicate()
        end = None if timeout is None else time.monotonic() + timeout
        while not result:
            if end is not None:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self.wait(left)
            else:
                self.wait()
            result = predicate()
        return result

    def notify(self, n=1):
        try:
            _wire.notify_condition(self._name, self._lock._name, n, False)
        except ForkdError as e:
            if e.code == "FAILED_PRECONDITION":
                raise RuntimeError("cannot notify on un-acquired lock") from None
            raise

    def notify_all(self):
        try:
            _wire.notify_condition(self._name, self._lock._name, 0, True)
        except ForkdError as e:
            if e.code == "FAILED_PRECONDITION":
                raise RuntimeError("cannot notify on un-acquired lock") from None
            raise


class Barrier(_Primitive):
    """threading.Barrier across processes. The action, if any, runs in the party that arrived first,
    once all have arrived (threading runs it in one of the parties too, before releasing them)."""
    _kind = "BARRIER"

    def __init__(self, parties, action=None, timeout=None, *, ctx=None):
        if parties < 1:
            raise ValueError("parties must be > 0")
        self._parties = parties
        self._action = action
        self._timeout = timeout
        super().__init__(parties=parties)

    def _state(self):
        return self._parties, self._action, self._timeout

    def _restore(self, state):
        self._parties, self._action, self._timeout = state

    def wait(self, timeout=None):
        if timeout is None:
            timeout = self._timeout
        index, broken = _wire.wait_barrier(self._name, self._parties, timeout)
        if broken:
            raise threading.BrokenBarrierError
        if index == 0 and self._action is not None:
            try:
                self._action()
            except BaseException:
                self.abort()
                raise
        return index

    def reset(self):
        _wire.reset_barrier(self._name)

    def abort(self):
        _wire.abort_barrier(self._name)

    @property
    def parties(self):
        return self._parties

    @property
    def n_waiting(self):
        return _wire.sync_info(self._name)["arrived"]

    @property
    def broken(self):
        return _wire.sync_info(self._name)["broken"]
