"""Every forkd RPC the package makes, as a function of plain Python values.

The only module that knows the protos' field names: when the API changes, this file changes and the
rest of the package does not. Timeouts are seconds (None: wait as long as it takes); a timeout is a
result here too, never an exception.
"""
import math
import os

from forkd._rpc import ForkdError, client

# How much longer than the server-side timeout a blocking call's own gRPC deadline is.
_DEADLINE_MARGIN = 30.0


def _duration(seconds):
    from google.protobuf import duration_pb2
    if seconds is None:
        return None
    seconds = max(0.0, float(seconds))
    whole = math.floor(seconds)
    return duration_pb2.Duration(seconds=int(whole), nanos=int((seconds - whole) * 1e9))


def _deadline(timeout):
    return None if timeout is None else max(0.0, timeout) + _DEADLINE_MARGIN


def _fields(**kw):
    return {k: v for k, v in kw.items() if v is not None}


# ---- processes ------------------------------------------------------------------------------------

class ProcessState:
    """What the package needs of a ProcessInfo."""
    __slots__ = ("id", "pid", "alive", "ended", "exit_code", "failure")

    def __init__(self, info):
        from forkd.v1 import types_pb2
        s = info.state
        self.id = info.id
        self.pid = info.pid or None
        self.alive = info.is_alive
        self.ended = s in (types_pb2.PROCESS_STATE_EXITED, types_pb2.PROCESS_STATE_SIGNALED,
                           types_pb2.PROCESS_STATE_FAILED_TO_START, types_pb2.PROCESS_STATE_LOST,
                           types_pb2.PROCESS_STATE_FATAL)
        self.exit_code = info.exit_code if self.ended else None
        if s == types_pb2.PROCESS_STATE_FAILED_TO_START:
            self.exit_code = 1
        elif s == types_pb2.PROCESS_STATE_LOST and not info.HasField("exit_code"):
            self.exit_code = -9  # its agent died: the child was killed with it
        self.failure = info.failure


def spawn(argv, env, cwd, daemon, labels, stdin_pipe=False):
    """Starts a process whose output is held until a watcher attaches; its stdin is /dev/null, or a
    pipe (stdin_pipe) that a StdinHold writes to."""
    from forkd.v1 import types_pb2
    r = client().call("ProcessService.Spawn", argv=argv, env=env, cwd=cwd, daemon=daemon, labels=labels,
                      hold_output=True,
                      stdin_mode=types_pb2.STDIN_MODE_PIPE if stdin_pipe else types_pb2.STDIN_MODE_NONE)
    return ProcessState(r.process)


class StdinHold:
    """A WriteStdin call held open on a child's stdin pipe, with close_on_cancel: if this process dies
    (or the server stops) before give(), the server closes the pipe and the child reads end-of-file."""

    def __init__(self, process_id):
        import queue
        c = client()
        self._next = queue.SimpleQueue()
        self.handed = False  # whether give()'s data went to gRPC (so it may have reached the child)

        def requests():
            yield c.request("ProcessService.WriteStdin", name=process_id, close_on_cancel=True)
            data = self._next.get()
            if data is not None:
                self.handed = True
                yield c.request("ProcessService.WriteStdin", data=data, close=True)
        self._call = c.stream_future("ProcessService.WriteStdin", requests())

    def ended(self):
        """Whether the call has ended (before give(): it broke, and the pipe may be left open)."""
        return self._call.done()

    def when_ended(self, fn):
        """Calls fn() (on gRPC's thread) once the call has ended, however it ended."""
        self._call.add_done_callback(lambda _call: fn())

    def give(self, data, timeout):
        """Writes data, closes the pipe and ends the call; answers once the child's agent wrote it."""
        self._next.put(data)
        try:
            r = self._call.result(timeout=timeout)
        except Exception as e:
            raise client().wrap(e) from None
        if r.bytes_written != len(data) or not r.closed:
            raise ForkdError("DATA_LOSS", "", "wrote %d of %d bytes to the child's stdin" % (r.bytes_written, len(data)))

    def cancel(self):
        """Ends the call unfinished: the server closes the child's stdin (close_on_cancel)."""
        self._call.cancel()
        self._next.put(None)  # lets the request generator (on gRPC's thread) end


def watch(process_id, on_output, on_state):
    """Follows a process's output and states until it ends, in a stream; calls on_output(is_stderr, bytes)
    and on_state(ProcessState). Returns the call, which can be cancelled."""
    from forkd.v1 import types_pb2
    c = client()
    call = c.stream("ProcessService.Watch", c.request("ProcessService.Watch", name=process_id, follow=True,
                                                       hold_output=True))

    def run():
        for event in call:
            which = event.WhichOneof("event")
            if which == "output":
                on_output(event.output.stream == types_pb2.OUTPUT_STREAM_STDERR, event.output.data)
            elif which == "state":
                on_state(ProcessState(event.state))
    return call, run


def get_process(process_id):
    return ProcessState(client().call("ProcessService.Get", name=process_id).process)


def join_process(process_id, timeout):
    r = client().call("ProcessService.Join", deadline=_deadline(timeout), **_fields(name=process_id,
                                                                                   timeout=_duration(timeout)))
    return ProcessState(r.process)


def signal_process(process_id, kill):
    from forkd.v1 import process_pb2
    kind = process_pb2.SIGNAL_KIND_KILL if kill else process_pb2.SIGNAL_KIND_TERMINATE
    return ProcessState(client().call("ProcessService.Signal", name=process_id, kind=kind).process)


def delete_process(process_id):
    client().call("ProcessService.Delete", name=process_id)


# ---- queues ---------------------------------------------------------------------------------------

def create_queue(maxsize):
    return client().call("QueueService.Create", maxsize=maxsize).queue.id


def delete_queue(queue):
    client().call("QueueService.Delete", name=queue)


def close_queue(queue):
    client().call("QueueService.Close", name=queue)


def put(queue, items, timeout):
    """Puts a batch of byte items, all or none; answers False when the timeout passed first."""
    r = client().call("QueueService.Put", deadline=_deadline(timeout),
                      **_fields(name=queue, items=[{"data": d} for d in items], timeout=_duration(timeout)))
    return not r.timed_out


def produce(queue, batches):
    """Puts batches (lists of bytes) in order over one Produce stream; `batches` is an iterator that
    ends the stream when it ends. Answers an iterator of acks: the items of this stream in the queue."""
    c = client()
    first = [True]

    def requests():
        for batch in batches:
            if first[0]:
                first[0] = False
                yield c.request("QueueService.Produce", name=queue, items=[{"data": d} for d in batch])
            else:
                yield c.request("QueueService.Produce", items=[{"data": d} for d in batch])
    return (r.put for r in c.stream("QueueService.Produce", requests()))


def consume(queue, requests):
    """A Consume stream. `requests` yields (credit, ack_through) pairs; ending it ends the stream, and
    what was delivered and not acked goes back to the head of the queue. Answers the call (which can be
    cancelled) and an iterator of (deliveries as [(tag, bytes)], closed)."""
    c = client()

    def messages():
        first = True
        for credit, ack_through in requests:
            yield c.request("QueueService.Consume", **_fields(name=queue if first else None, credit=credit or None,
                                                              ack_through=ack_through or None))
            first = False
    call = c.stream("QueueService.Consume", messages())

    def responses():
        for r in call:
            yield [(d.tag, d.item.data) for d in r.deliveries], r.closed
    return call, responses()


def take(queue, timeout, max_items=1):
    """Answers (items, timed_out, closed)."""
    r = client().call("QueueService.Take", deadline=_deadline(timeout),
                      **_fields(name=queue, timeout=_duration(timeout), max_items=max_items))
    return [i.data for i in r.items], r.timed_out, r.closed


def queue_size(queue):
    """Answers (size, empty, full, unfinished, closed)."""
    r = client().call("QueueService.Size", name=queue)
    return r.size, r.empty, r.full, r.unfinished, r.closed


def queue_fill(queue):
    """Items waiting plus items delivered to consumers and not yet acked."""
    q = client().call("QueueService.Get", name=queue).queue
    return q.size + q.in_flight


def task_done(queue, count=1):
    client().call("QueueService.TaskDone", name=queue, count=count)


def join_queue(queue, timeout=None):
    r = client().call("QueueService.Join", deadline=_deadline(timeout),
                      **_fields(name=queue, timeout=_duration(timeout)))
    return not r.timed_out


# ---- pipes ----------------------------------------------------------------------------------------

def create_pipe(duplex):
    """Answers the two end ids (end 0 receives when one-way, end 1 sends)."""
    r = client().call("PipeService.Create", duplex=duplex)
    return r.pipe.ends[0].id, r.pipe.ends[1].id


def send(end, messages, timeout=None):
    r = client().call("PipeService.Send", deadline=_deadline(timeout),
                      **_fields(name=end, messages=messages, timeout=_duration(timeout)))
    return not r.timed_out


def recv(end, timeout=None):
    """Answers (messages, timed_out, eof)."""
    r = client().call("PipeService.Recv", deadline=_deadline(timeout),
                      **_fields(name=end, timeout=_duration(timeout)))
    return list(r.messages), r.timed_out, r.eof


def poll(end, timeout):
    r = client().call("PipeService.Poll", deadline=_deadline(timeout), **_fields(name=end, timeout=_duration(timeout)))
    return r.ready


def close_end(end):
    client().call("PipeService.CloseEnd", name=end)


def delete_pipe(pipe):
    client().call("PipeService.Delete", name=pipe)


# ---- sync -----------------------------------------------------------------------------------------

def _sync_kind(kind):
    from forkd.v1 import sync_pb2
    return getattr(sync_pb2, "SYNC_KIND_" + kind)


def create_sync(name, kind, value=None, parties=None, lock=None):
    client().call("SyncService.Create", **_fields(name=name, kind=_sync_kind(kind), value=value,
                                                  parties=parties, lock=lock))


def sync_info(name):
    """Answers a dict of the primitive's state (value, depth, is_set, waiters, arrived, broken, holder)."""
    i = client().call("SyncService.Get", name=name).info
    return {"value": i.value, "depth": i.depth, "is_set": i.is_set, "waiters": i.waiters,
            "arrived": i.arrived, "broken": i.broken, "holder": i.holder_session, "parties": i.parties}


def delete_sync(name):
    client().call("SyncService.Delete", name=name)


def acquire(name, kind, timeout, value=None):
    """Answers (acquired, abandoned).

    A wait given up on (KeyboardInterrupt, the call's own deadline, a lost connection) may have been
    granted just before: it is undone on the server by its wait id (CancelAcquire), so a grant this
    program never saw is not left held by its session."""
    wait_id = os.urandom(16).hex()
    try:
        r = client().call("SyncService.Acquire", deadline=_deadline(timeout),
                          **_fields(name=name, kind=_sync_kind(kind), timeout=_duration(timeout), value=value,
                                    wait_id=wait_id))
    except ForkdError as e:
        if e.code in ("DEADLINE_EXCEEDED", "CANCELLED", "UNAVAILABLE"):
            _undo_acquire(name, wait_id)
        raise
    except BaseException:
        _undo_acquire(name, wait_id)
        raise
    return r.acquired, r.abandoned


def _undo_acquire(name, wait_id):
    try:
        client().call("SyncService.CancelAcquire", deadline=_DEADLINE_MARGIN, name=name, wait_id=wait_id)
    except ForkdError:
        pass  # the server is gone: whatever the session was granted comes back when it ends


def release(name):
    client().call("SyncService.Release", name=name)


def set_event(name):
    client().call("SyncService.SetEvent", name=name)


def clear_event(name):
    client().call("SyncService.ClearEvent", name=name)


def wait_event(name, timeout):
    r = client().call("SyncService.WaitEvent", deadline=_deadline(timeout),
                      **_fields(name=name, timeout=_duration(timeout)))
    return r.is_set


def wait_condition(name, lock, timeout):
    r = client().call("SyncService.WaitCondition", deadline=_deadline(timeout),
                      **_fields(name=name, lock=lock, timeout=_duration(timeout)))
    return r.notified


def notify_condition(name, lock, n, all_):
    client().call("SyncService.NotifyCondition", name=name, lock=lock, n=n, all=all_)


def wait_barrier(name, parties, timeout):
    """Answers (index, broken)."""
    r = client().call("SyncService.WaitBarrier", deadline=_deadline(timeout),
                      **_fields(name=name, parties=parties, timeout=_duration(timeout)))
    return r.index, r.broken


def abort_barrier(name):
    client().call("SyncService.AbortBarrier", name=name)


def reset_barrier(name):
    client().call("SyncService.ResetBarrier", name=name)


# ---- shared state ---------------------------------------------------------------------------------

SCALAR_TYPES = ("int64", "double", "bool", "string", "bytes")


def _scalar(kind, v):
    return {kind + "_value": v}


def _unscalar(s):
    which = s.WhichOneof("kind")
    return None if which is None else getattr(s, which)


def get_value(name):
    return _unscalar(client().call("SharedService.GetValue", name=name).value)


def set_value(name, kind, v):
    client().call("SharedService.SetValue", name=name, value=_scalar(kind, v))


def add_value(name, kind, delta):
    return _unscalar(client().call("SharedService.AddValue", name=name, delta=_scalar(kind, delta)).value)


def create_array(name, kind, items):
    from forkd.v1 import shared_pb2
    client().call("SharedService.CreateArray", name=name, type=getattr(shared_pb2, "SCALAR_TYPE_" + kind.upper()),
                  length=len(items), items=[_scalar(kind, v) for v in items])


def get_array(name, start=None, stop=None, index=None):
    """Answers (items, length)."""
    r = client().call("SharedService.GetArray", **_fields(name=name, start=start, stop=stop, index=index))
    return [_unscalar(s) for s in r.items], r.length


def set_array(name, kind, start, items):
    client().call("SharedService.SetArray", name=name, start=start, items=[_scalar(kind, v) for v in items])


def get_dict_item(name, key):
    """Answers the bytes stored under key, or None."""
    r = client().call("SharedService.GetDictItem", name=name, key=key)
    return _unscalar(r.value) if r.found else None


def set_dict_items(name, items):
    """items: {key: bytes}."""
    client().call("SharedService.SetDictItems", name=name,
                  items=[{"key": k, "value": _scalar("bytes", v)} for k, v in items.items()])


def cas_dict_item(name, key, expected, value):
    """Sets key to value if it holds `expected` (None: absent). Answers whether it did."""
    r = client().call("SharedService.CompareAndSetDictItem", **_fields(
        name=name, key=key, expected=None if expected is None else _scalar("bytes", expected),
        value=_scalar("bytes", value)))
    return r.swapped


def delete_dict_item(name, key):
    """Answers the bytes it held, or None when absent."""
    r = client().call("SharedService.DeleteDictItem", name=name, key=key)
    return _unscalar(r.value) if r.found else None


def list_dict(name):
    """Answers [(key, bytes)], all pages."""
    out, token = [], ""
    while True:
        r = client().call("SharedService.ListDictItems", name=name, page_token=token)
        out.extend((i.key, _unscalar(i.value)) for i in r.items)
        token = r.next_page_token
        if not token:
            return out


def append_list(name, items):
    return client().call("SharedService.AppendList", name=name,
                         items=[_scalar("bytes", v) for v in items]).length


def get_list_item(name, index):
    return _unscalar(client().call("SharedService.GetListItem", name=name, index=index).item)


def set_list_item(name, index, v):
    client().call("SharedService.SetListItem", name=name, index=index, item=_scalar("bytes", v))


def pop_list(name, index=None):
    return _unscalar(client().call("SharedService.PopList", **_fields(name=name, index=index)).item)


def slice_list(name, start=None, stop=None):
    """Answers (items, length)."""
    r = client().call("SharedService.SliceList", **_fields(name=name, start=start, stop=stop))
    return [_unscalar(s) for s in r.items], r.length


def delete_shared(name):
    client().call("SharedService.Delete", name=name)


# ---- pools ----------------------------------------------------------------------------------------

class TaskOutcome:
    """A task's result bytes, or why it failed (worker died, timed out, terminated...)."""
    __slots__ = ("index", "output", "failure", "attempts")

    def __init__(self, r):
        self.index = r.index
        self.attempts = r.attempts
        if r.WhichOneof("outcome") == "output":
            self.output, self.failure = r.output, None
        else:
            from forkd.v1 import pool_pb2
            kind = pool_pb2.TaskFailureKind.Name(r.failure.kind).replace("TASK_FAILURE_KIND_", "")
            tail = r.failure.stderr_tail.decode(errors="replace").strip()
            self.output = None
            self.failure = "%s: %s%s" % (kind, r.failure.message, ("\n" + tail) if tail else "")


def create_pool(processes, argv, env, cwd, max_tasks_per_child, max_retries):
    from forkd.v1 import pool_pb2
    r = client().call("PoolService.Create", **_fields(
        processes=processes, max_tasks_per_child=max_tasks_per_child or 0, max_retries=max_retries,
        worker={"kind": pool_pb2.WORKER_KIND_PERSISTENT, "argv": argv, "env": env, "cwd": cwd,
                "framing": pool_pb2.FRAMING_LENGTH_PREFIXED}))
    return r.pool.id, list(r.pool.worker_process_ids)


def pool_workers(pool):
    return list(client().call("PoolService.Get", name=pool).pool.worker_process_ids)


def close_pool(pool):
    client().call("PoolService.Close", name=pool)


def terminate_pool(pool):
    client().call("PoolService.Terminate", name=pool)


def join_pool(pool, timeout=None):
    r = client().call("PoolService.Join", deadline=_deadline(timeout), **_fields(name=pool, timeout=_duration(timeout)))
    return not r.timed_out


def delete_pool(pool):
    client().call("PoolService.Delete", name=pool)


def apply_future(pool, item):
    """Runs one task; answers a grpc future and a function turning its response into a TaskOutcome."""
    return client().future("PoolService.Apply", name=pool, input={"item": item}), \
        lambda response: TaskOutcome(response.result)


def map_stream(pool, items, ordered):
    """Streams items (bytes, an iterator) through the pool; answers the call, whose iterator yields
    lists of TaskOutcome, and which can be cancelled."""
    from forkd.v1 import pool_pb2
    c = client()
    order = pool_pb2.RESULT_ORDER_INPUT if ordered else pool_pb2.RESULT_ORDER_COMPLETION

    def requests():
        yield c.request("PoolService.Map", start={"name": pool, "order": order})
        # Up to 64 items or 64 KiB a message: small items go in few messages, and the first large
        # chunks are on their way to the workers while the next ones are pickled.
        batch, size = [], 0
        for item in items:
            batch.append({"item": item})
            size += len(item)
            if len(batch) >= 64 or size >= 64 << 10:
                yield c.request("PoolService.Map", items=batch)
                batch, size = [], 0
        if batch:
            yield c.request("PoolService.Map", items=batch)
    call = c.stream("PoolService.Map", requests())

    def results():
        for response in call:
            if response.results:
                yield [TaskOutcome(r) for r in response.results]
    return call, results()
