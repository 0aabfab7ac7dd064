"""multiprocessing.Queue, JoinableQueue and SimpleQueue on forkd's server-held queues.

Items are pickled. A Queue passed to another process (in a Process's args, through another queue...)
pickles as a reference to the same server queue. put() hands the item to a feeder thread that streams
batches to the server over one Produce stream, as multiprocessing.Queue's feeder writes to its pipe;
a bounded queue (maxsize > 0) puts synchronously instead, so that block/timeout/queue.Full are exact.
"""
import collections
import pickle
import queue as _queue
import sys
import threading
import time

from forkd import _lifecycle, _wire
from forkd._rpc import ForkdError

# A feeder batch stays well under gRPC's 4 MiB message limit and the server's batch limit.
_BATCH_ITEMS = 512
_BATCH_BYTES = 1 << 20


class _Feeder:
    """Streams this process's puts to one queue, in order, over a Produce stream opened by a put and
    ended (with its thread) once nothing was put for IDLE_END seconds."""

    IDLE_END = 2.0

    def __init__(self, queue_id):
        self._queue_id = queue_id
        self._cond = threading.Condition()
        self._buffer = collections.deque()
        self._submitted = 0
        self._acked = 0
        self._closing = False
        self._error = None
        self._started = False

    def put(self, data):
        with self._cond:
            if self._error is not None:
                raise self._error
            self._buffer.append(data)
            self._submitted += 1
            if not self._started:
                self._start()
            self._cond.notify_all()

    @property
    def queue_id(self):
        return self._queue_id

    def pending(self):
        with self._cond:
            return self._submitted - self._acked

    def _batches(self):
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: self._buffer or self._closing or self._error is not None,
                                           self.IDLE_END):
                    return  # nothing to put for a while: end the stream and its thread; a put opens another
                if not self._buffer or self._error is not None:
                    return
                batch, size = [], 0
                while self._buffer and len(batch) < _BATCH_ITEMS and size < _BATCH_BYTES:
                    item = self._buffer.popleft()
                    batch.append(item)
                    size += len(item)
            yield batch

    def _run(self):
        with self._cond:
            before = self._acked  # a stream's acks count its own items only
        try:
            for ack in _wire.produce(self._queue_id, self._batches()):
                with self._cond:
                    self._acked = before + ack
                    self._cond.notify_all()
        except Exception as e:  # the queue was deleted or the server went away
            from forkd._rpc import client
            with self._cond:
                self._error = client().wrap(e)
                self._cond.notify_all()
        finally:
            with self._cond:
                self._started = False
                if self._buffer and self._error is None:
                    self._start()  # a put came as the idle stream ended

    def _start(self):
        self._started = True
        threading.Thread(target=self._run, name="forkd-feeder-" + self._queue_id, daemon=True).start()

    def flush(self, timeout=None):
        """Waits until every item put so far is in the server's queue."""
        with self._cond:
            self._cond.wait_for(lambda: self._acked >= self._submitted or self._error is not None, timeout)
            if self._error is not None and self._acked < self._submitted:
                raise self._error

    def close(self):
        with self._cond:
            self._closing = True
            self._cond.notify_all()


class _Stream:
    """One Consume stream's own messages to send; ending it sends them, then half-closes."""

    def __init__(self):
        self.requests = collections.deque()
        self.ending = False
        self.open = True


class _Consumer:
    """This process's gets from one queue, over a Consume stream: the server pushes up to a window of
    items ahead, and get() acks what it returned, in batches (at once when nothing is left here),
    granting as much credit again. What was delivered and not acked goes back to the head of the queue
    when the stream ends, so a process that stops getting for IDLE seconds ends its stream: a busy or
    blocked consumer never keeps from others the items it is not using (a worker's STOP sentinel, a
    task another worker could run). A stream nobody gets from for IDLE_END seconds ends too, with its
    threads; the next get() opens another. A consumer killed between two acks has its last few items
    delivered again (at least once); multiprocessing would lose them with the process.

    The window starts at WINDOW items. A consumer that empties it (it gets faster than credit makes
    the round trip to the server and back) and is then sent a full ack's worth at once doubles it, up
    to MAX_WINDOW items and WINDOW_BYTES of items; one that falls behind (more than half its window
    waiting here when it acks) gives the credit back until it is at WINDOW again. Acks go out every
    eighth of the window (ACK_EVERY at the least)."""

    WINDOW = 128
    MAX_WINDOW = 1024
    WINDOW_BYTES = 4 << 20
    ACK_EVERY = 32
    IDLE = 0.05
    IDLE_END = 2.0

    def __init__(self, queue_id):
        self._queue_id = queue_id
        self._cond = threading.Condition()
        self._buffer = collections.deque()
        self._stream = None  # the current stream; older ones only finish sending their acks
        self._last_get = 0.0
        self._error = None
        self._drained = False
        self._unacked = 0
        self._last_tag = 0
        self._watching = False
        self._waiting = 0
        self._parked = False
        self._window = self.WINDOW
        self._ack_every = self.ACK_EVERY
        self._starved = False  # a get() waited on an empty buffer while the stream was open
        self._item_bytes = 0  # the largest item delivered on this stream

    def _start(self):
        stream = self._stream = _Stream()
        self._error, self._drained, self._unacked = None, False, 0
        self._window, self._ack_every, self._starved, self._item_bytes = self.WINDOW, self.ACK_EVERY, False, 0
        stream.requests.append((self._window, 0))
        _, responses = _wire.consume(self._queue_id, self._messages(stream))
        threading.Thread(target=self._read, args=(stream, responses), name="forkd-consume-" + self._queue_id,
                         daemon=True).start()
        if not self._watching:
            self._watching = True
            threading.Thread(target=self._hand_back_when_idle, name="forkd-consumer-" + self._queue_id,
                             daemon=True).start()

    def _messages(self, stream):
        while True:
            with self._cond:
                self._cond.wait_for(lambda: stream.requests or stream.ending)
                if not stream.requests:
                    return  # everything it owed was sent: the server sees the acks before the end
                message = stream.requests.popleft()
            yield message

    def _read(self, stream, responses):
        try:
            for deliveries, closed in responses:
                with self._cond:
                    if stream is not self._stream or stream.ending:
                        continue  # not acked: back to the queue when this stream ends
                    if self._starved and not self._buffer and len(deliveries) >= self._ack_every:
                        self._grow()  # a full ack's worth waited at the server for our credit
                    self._starved = False
                    self._buffer.extend(deliveries)
                    for _, data in deliveries:
                        if len(data) > self._item_bytes:
                            self._item_bytes = len(data)
                    self._drained = self._drained or closed
                    self._cond.notify_all()
        except Exception as e:
            from forkd._rpc import client
            with self._cond:
                if stream is self._stream and not stream.ending:
                    self._error = client().wrap(e)
        finally:
            with self._cond:
                stream.open = False
                self._cond.notify_all()

    def _grow(self):
        """Doubles the window (credit sent now), within MAX_WINDOW and WINDOW_BYTES."""
        room = min(self.MAX_WINDOW, self.WINDOW_BYTES // max(1, self._item_bytes)) - self._window
        grow = min(self._window, room)
        if grow > 0 and self._stream is not None and not self._stream.ending:
            self._window += grow
            self._ack_every = max(self.ACK_EVERY, self._window // 8)
            self._stream.requests.append((grow, 0))
            self._cond.notify_all()

    def _end_stream(self):
        stream = self._stream
        if stream is None or stream.ending:
            return
        if self._unacked:
            stream.requests.append((0, self._last_tag))
            self._unacked = 0
        stream.ending = True
        self._buffer.clear()
        self._cond.notify_all()

    def _hand_back_when_idle(self):
        with self._cond:
            while True:
                stream = self._stream
                if stream is None or stream.ending or not stream.open:
                    self._watching = False  # lives as long as the stream; the next stream starts another
                    return
                if self._waiting:
                    self._parked = True  # a get() is blocked on this stream: it is in use
                    self._cond.wait()
                    self._parked = False
                    continue
                # Items held here go back soon; an empty stream (credit only) ends after a longer while.
                limit = self.IDLE if self._buffer else self.IDLE_END
                idle = time.monotonic() - self._last_get
                if idle < limit:
                    self._cond.wait(limit - idle)
                    continue
                self._end_stream()

    def close(self, timeout):
        """Ends the stream after its acks, and waits until the server has ended it."""
        with self._cond:
            stream = self._stream
            self._end_stream()
            if stream is not None:
                self._cond.wait_for(lambda: not stream.open, timeout)

    def take_buffered(self):
        """An item already pushed here, or None (never waits, never opens a stream)."""
        with self._cond:
            return self._took(self._buffer.popleft()) if self._buffer else None

    def get(self, timeout):
        """The next item's bytes; raises queue.Empty when `timeout` (None: no limit) passes first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._last_get = time.monotonic()
            while not self._buffer:
                if self._error is not None:
                    error, self._error = self._error, None
                    self._stream = None
                    raise error
                if self._drained:
                    raise _queue.Empty
                if self._stream is None or self._stream.ending or not self._stream.open:
                    self._start()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise _queue.Empty
                self._waiting += 1
                self._starved = True
                try:
                    self._cond.wait(left)
                finally:
                    self._waiting -= 1
                    if self._parked and not self._waiting:
                        self._cond.notify_all()
                self._last_get = time.monotonic()
            data, yield_to_senders = self._took(self._buffer.popleft())
        if yield_to_senders:
            # Let grpc's sending thread take the GIL now and send the credit, so the next items are on
            # their way while this thread goes on (else it waits for the GIL until this one blocks).
            time.sleep(0)
        return data

    def _took(self, delivery):
        tag, data = delivery
        self._unacked += 1
        self._last_tag = tag
        self._last_get = time.monotonic()
        if self._unacked >= self._ack_every or not self._buffer:
            credit = self._unacked
            if self._window > self.WINDOW and len(self._buffer) > self._window // 2:
                # Behind: what it holds outlasts a round trip, so the credit goes back, down to WINDOW.
                shrink = min(credit, self._window - self.WINDOW)
                self._window -= shrink
                self._ack_every = max(self.ACK_EVERY, self._window // 8)
                credit -= shrink
            self._stream.requests.append((credit, tag))
            self._unacked = 0
            self._cond.notify_all()
            yield_to_senders = True
        else:
            yield_to_senders = False
        return data, yield_to_senders


_consumers = []


_feeders = []
# How long a process that ends waits for its puts to reach their queues.
_EXIT_FLUSH_WAIT = 60.0


@_lifecycle.at_exit(_lifecycle.FLUSH_QUEUES)
def _flush_all():
    """Waits until this process's puts are in their queues; puts that cannot get there are said on
    stderr (as multiprocessing's feeder prints its error) and answer False (a child then exits 1)."""
    for consumer in _consumers:
        try:
            consumer.close(timeout=10)
        except Exception:
            pass  # items pushed ahead and not taken go back to the queue with the stream's end
    clean = True
    for feeder in _feeders:
        try:
            feeder.flush(timeout=_EXIT_FLUSH_WAIT)
            error = None
        except Exception as e:  # noqa: BLE001 - the feeder's error, said below
            error = e
        finally:
            feeder.close()
        lost = feeder.pending()
        if lost:
            clean = False
            sys.stderr.write("forkd: %d item(s) put to queue %s by this process never reached it: %s\n"
                             % (lost, feeder.queue_id, error or "not acknowledged after %.0f s" % _EXIT_FLUSH_WAIT))
            sys.stderr.flush()
    return clean


class Queue:
    """multiprocessing.Queue: put/get with block and timeout, queue.Full and queue.Empty."""

    _QSIZE_FLUSH_WAIT = 5.0

    def __init__(self, maxsize=0, *, ctx=None, durable=False):
        """`durable=True` is a forkd extension (multiprocessing's queues live in memory): the server
        keeps the queue and its items in its state store, so they survive a restart or crash of the
        server, and a put is acknowledged only once its items are stored. It needs a server that keeps
        state (not `forkd serve --state-dir none`). The queue still ends with the program that made it."""
        self._maxsize = maxsize if maxsize and maxsize > 0 else 0
        if durable:
            from forkd._rpc import client
            self._id = client().call("QueueService.Create", maxsize=self._maxsize, durable=True).queue.id
        else:
            self._id = _wire.create_queue(self._maxsize)
        self._owner = True
        self._setup()
        _lifecycle.own(lambda qid=self._id: _wire.delete_queue(qid))

    def _setup(self):
        self._closed = False
        self._feeder = None
        self._consumer = None
        self._lock = threading.Lock()

    def __reduce__(self):
        return _rebuild, (type(self), self._id, self._maxsize)

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self._id)

    @property
    def forkd_id(self):
        """The server's queue id, for the CLI (`forkd queue get ID`) or other languages."""
        return self._id

    def _check_closed(self):
        if self._closed:
            raise ValueError("Queue %r is closed" % self)

    def put(self, obj, block=True, timeout=None):
        self._check_closed()
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        if self._maxsize:
            wait = None if block and timeout is None else (max(0.0, timeout) if block else 0.0)
            self._flush()  # keep this process's puts in order
            if not _wire.put(self._id, [data], wait):
                raise _queue.Full
            return
        with self._lock:
            if self._feeder is None:
                self._feeder = _Feeder(self._id)
                _feeders.append(self._feeder)
        self._feeder.put(data)

    def put_nowait(self, obj):
        return self.put(obj, False)

    def get(self, block=True, timeout=None):
        self._check_closed()
        wait = None if block and timeout is None else (max(0.0, timeout) if block else 0.0)
        if self._maxsize or wait == 0:
            # A bounded queue counts items pushed ahead to a consumer as taken room, so it never
            # has any pushed ahead; and a get that may not wait cannot wait for a push.
            data = self._consumer.take_buffered() if self._consumer is not None else None
            if data is None:
                items, _, _ = _wire.take(self._id, wait)
                if not items:
                    raise _queue.Empty
                data = items[0]
            return pickle.loads(data)
        with self._lock:
            if self._consumer is None:
                self._consumer = _Consumer(self._id)
                _consumers.append(self._consumer)
        return pickle.loads(self._consumer.get(wait))

    def get_nowait(self):
        return self.get(False)

    def _flush(self, timeout=None):
        if self._feeder is not None:
            self._feeder.flush(timeout)

    def _pending(self):
        return self._feeder.pending() if self._feeder is not None else 0

    def qsize(self):
        # Items pushed ahead to consumers and not yet gotten are still in the queue, as multiprocessing counts.
        # This process's puts count as soon as put() returns, as multiprocessing's do: wait (briefly) until the
        # feeder's items are in the server's queue, since an item stored but not yet acknowledged would otherwise
        # be counted twice. If the feeder is slow, the count is approximate, as multiprocessing documents.
        if self._feeder is not None:
            try:
                self._feeder.flush(self._QSIZE_FLUSH_WAIT)
            except Exception:  # noqa: BLE001 - kept by the feeder
                pass  # the feeder's error is raised by the next put(), as multiprocessing's feeder reports it
        return _wire.queue_fill(self._id) + self._pending()

    def empty(self):
        return self.qsize() == 0

    def full(self):
        return bool(self._maxsize) and _wire.queue_size(self._id)[2]

    def close(self):
        """No more puts from this process (others may still put); queued puts still reach the queue."""
        self._closed = True
        if self._feeder is not None:
            self._feeder.close()

    def join_thread(self):
        assert self._closed, "Queue {0!r} not closed".format(self)
        self._flush()

    def cancel_join_thread(self):
        pass



def _rebuild(cls, queue_id, maxsize):
    q = cls.__new__(cls)
    q._id = queue_id
    q._maxsize = maxsize
    q._owner = False
    q._setup()
    return q


class JoinableQueue(Queue):
    """multiprocessing.JoinableQueue: task_done() and join(), counted by the server."""

    def task_done(self):
        try:
            _wire.task_done(self._id)
        except ForkdError as e:
            if e.code == "FAILED_PRECONDITION":
                raise ValueError("task_done() called too many times") from None
            raise

    def join(self):
        self._flush()
        _wire.join_queue(self._id)


class SimpleQueue:
    """multiprocessing.SimpleQueue: put, get, empty, close; every put reaches the server before it returns."""

    def __init__(self, *, ctx=None):
        self._id = _wire.create_queue(0)
        self._closed = False
        _lifecycle.own(lambda qid=self._id: _wire.delete_queue(qid))

    def __reduce__(self):
        return _rebuild_simple, (self._id,)

    def put(self, obj):
        _wire.put(self._id, [pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)], None)

    def get(self):
        items, _, _ = _wire.take(self._id, None)
        return pickle.loads(items[0])

    def empty(self):
        return _wire.queue_size(self._id)[1]

    def close(self):
        self._closed = True

    def __repr__(self):
        return "<SimpleQueue %s>" % self._id


def _rebuild_simple(queue_id):
    q = SimpleQueue.__new__(SimpleQueue)
    q._id = queue_id
    q._closed = False
    return q
