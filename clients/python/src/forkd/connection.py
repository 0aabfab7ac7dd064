"""multiprocessing.Pipe and Connection on forkd's server-held pipes.

A Connection is one end of a pipe; it pickles as a reference to that end. close() closes the end on the
server, unless this process handed the end to another process (pickled it) and did not use it: then,
like closing an inherited descriptor in multiprocessing, only this process lets go of it. Ends a
process still holds open when it exits are closed then, so the other end sees end-of-file.
"""
import pickle

from forkd import _lifecycle, _wire
from forkd._rpc import ForkdError

_open_ends = []


@_lifecycle.at_exit(_lifecycle.CLOSE_ENDS)
def _close_open_ends():
    for conn in list(_open_ends):
        if not conn._closed and not conn._handed_off:
            conn.close()


class Connection:
    def __init__(self, end, readable=True, writable=True):
        if not readable and not writable:
            raise ValueError("at least one of `readable` and `writable` must be True")
        self._end = end
        self._readable = readable
        self._writable = writable
        self._closed = False
        self._handed_off = False
        _open_ends.append(self)

    def __reduce__(self):
        self._handed_off = True
        return Connection, (self._end, self._readable, self._writable)

    def __repr__(self):
        return "<Connection %s%s>" % (self._end, " closed" if self._closed else "")

    @property
    def closed(self):
        return self._closed

    @property
    def readable(self):
        return self._readable

    @property
    def writable(self):
        return self._writable

    @property
    def forkd_id(self):
        """The server's id of this end (e.g. for `forkd pipe recv ID`)."""
        return self._end

    def fileno(self):
        raise OSError("a forkd Connection has no file descriptor")

    def _check(self, reading):
        if self._closed:
            raise OSError("handle is closed")
        if reading and not self._readable:
            raise OSError("connection is write-only")
        if not reading and not self._writable:
            raise OSError("connection is read-only")
        self._handed_off = False  # used here: this process holds it

    def send_bytes(self, buf, offset=0, size=None):
        self._check(False)
        m = memoryview(buf).cast("B")
        if offset < 0:
            raise ValueError("offset is negative")
        if len(m) < offset:
            raise ValueError("buffer length < offset")
        if size is None:
            size = len(m) - offset
        if size < 0:
            raise ValueError("size is negative")
        if offset + size > len(m):
            raise ValueError("buffer length < offset + size")
        self._send(bytes(m[offset:offset + size]))

    def send(self, obj):
        self._check(False)
        self._send(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))

    def _send(self, data):
        try:
            _wire.send(self._end, [data])
        except ForkdError as e:
            if e.code == "FAILED_PRECONDITION":
                raise BrokenPipeError(32, "Broken pipe: " + e.message) from None
            raise

    def _recv(self, timeout=None):
        messages, timed_out, eof = _wire.recv(self._end, timeout)
        if eof:
            raise EOFError
        return messages[0]

    def recv_bytes(self, maxlength=None):
        self._check(True)
        if maxlength is not None and maxlength < 0:
            raise ValueError("negative maxlength")
        data = self._recv()
        if maxlength is not None and len(data) > maxlength:
            raise OSError("bad message length")
        return data

    def recv_bytes_into(self, buf, offset=0):
        self._check(True)
        m = memoryview(buf).cast("B")
        if offset < 0 or offset > len(m):
            raise ValueError("offset out of bounds")
        data = self._recv()
        if len(data) > len(m) - offset:
            from multiprocessing import BufferTooShort
            raise BufferTooShort(data)
        m[offset:offset + len(data)] = data
        return len(data)

    def recv(self):
        self._check(True)
        return pickle.loads(self._recv())

    def poll(self, timeout=0.0):
        self._check(True)
        return _wire.poll(self._end, timeout)

    def close(self):
        if self._closed:
            return
        self._closed = True
        if not self._handed_off:
            try:
                _wire.close_end(self._end)
            except ForkdError as e:
                if e.code != "NOT_FOUND":
                    raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def Pipe(duplex=True):
    """Two connected Connections; with duplex=False the first only receives and the second only sends."""
    first, second = _wire.create_pipe(duplex)
    pipe_id = first.rsplit(".", 1)[0]
    _lifecycle.own(lambda: _wire.delete_pipe(pipe_id))
    if duplex:
        return Connection(first), Connection(second)
    return Connection(first, writable=False), Connection(second, readable=False)
