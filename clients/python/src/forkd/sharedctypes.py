"""multiprocessing.Value and Array on forkd's server-held values and arrays.

A typecode ('i', 'd', 'c', ... or a ctypes type) chooses the server's scalar type: integers are
int64, 'f' and 'd' double, '?' bool, 'c' one byte, 'u' one character. Each read or write of .value or
of an element is one atomic server call; `v.value += 1` is a read and a write, so, as with
multiprocessing, hold get_lock() around it.
"""
import uuid

from forkd import _lifecycle, _wire
from forkd.synchronize import RLock

_INT = set("bBhHiIlLqQnN")


def _scalar_kind(typecode_or_type):
    code = getattr(typecode_or_type, "_type_", typecode_or_type)
    if not isinstance(code, str):
        raise TypeError("forkd shares scalars only: %r is not a typecode or a ctypes scalar type" % (typecode_or_type,))
    if code in _INT:
        return "int64", code
    if code in ("f", "d", "g"):
        return "double", code
    if code == "?":
        return "bool", code
    if code == "c":
        return "bytes", code
    if code == "u":
        return "string", code
    raise TypeError("unsupported typecode %r" % code)


_ZERO = {"int64": 0, "double": 0.0, "bool": False, "bytes": b"\x00", "string": "\x00"}


def _convert(kind, v):
    if kind == "int64":
        return int(v)
    if kind == "double":
        return float(v)
    if kind == "bool":
        return bool(v)
    if kind == "bytes":
        if isinstance(v, int):
            v = bytes([v])
        if not isinstance(v, bytes) or len(v) != 1:
            raise TypeError("one character bytes, bytearray or integer expected")
        return v
    if not isinstance(v, str) or len(v) != 1:
        raise TypeError("unicode string of length 1 expected")
    return v


def _lock_for(lock, name):
    if lock is True or lock is None:
        return RLock()
    if lock is False:
        return None
    if not hasattr(lock, "acquire"):
        raise AttributeError("%r has no method 'acquire'" % lock)
    return lock


class _Shared:
    def _lock_ops(self):
        if self._lock is None:
            raise AttributeError("a RawValue or RawArray has no lock")
        return self._lock

    def get_lock(self):
        return self._lock_ops()

    def get_obj(self):
        return self

    def acquire(self, *args):
        return self._lock_ops().acquire(*args)

    def release(self):
        return self._lock_ops().release()

    def __enter__(self):
        return self._lock_ops().__enter__()

    def __exit__(self, *exc):
        return self._lock_ops().__exit__(*exc)

    @property
    def forkd_name(self):
        return self._name


class SynchronizedValue(_Shared):
    def __init__(self, typecode_or_type, *args, lock=True, ctx=None):
        self._kind, self._typecode = _scalar_kind(typecode_or_type)
        self._name = "py-value-" + uuid.uuid4().hex[:16]
        self._lock = _lock_for(lock, self._name)
        _wire.set_value(self._name, self._kind, _convert(self._kind, args[0]) if args else _ZERO[self._kind])
        _lifecycle.own(lambda n=self._name: _wire.delete_shared(n))

    def __reduce__(self):
        return _attach, (type(self), {"_kind": self._kind, "_typecode": self._typecode, "_name": self._name,
                                      "_lock": self._lock})

    @property
    def value(self):
        return _wire.get_value(self._name)

    @value.setter
    def value(self, v):
        _wire.set_value(self._name, self._kind, _convert(self._kind, v))

    def __repr__(self):
        return "<Synchronized wrapper for c_%s(%r)>" % (self._typecode, self.value)


class SynchronizedArray(_Shared):
    def __init__(self, typecode_or_type, size_or_initializer, *, lock=True, ctx=None):
        self._kind, self._typecode = _scalar_kind(typecode_or_type)
        if isinstance(size_or_initializer, int):
            items = [_ZERO[self._kind]] * size_or_initializer
        else:
            items = [_convert(self._kind, v) for v in size_or_initializer]
        self._length = len(items)
        self._name = "py-array-" + uuid.uuid4().hex[:16]
        self._lock = _lock_for(lock, self._name)
        _wire.create_array(self._name, self._kind, items)
        _lifecycle.own(lambda n=self._name: _wire.delete_shared(n))

    def __reduce__(self):
        return _attach, (type(self), {"_kind": self._kind, "_typecode": self._typecode, "_name": self._name,
                                      "_lock": self._lock, "_length": self._length})

    def __len__(self):
        return self._length

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(self._length)
            if step == 1:
                return _wire.get_array(self._name, start, stop)[0] if start < stop else []
            return _wire.get_array(self._name)[0][i]
        if i < -self._length or i >= self._length:
            raise IndexError("invalid index")
        return _wire.get_array(self._name, index=i)[0][0]

    def __setitem__(self, i, v):
        if isinstance(i, slice):
            start, stop, step = i.indices(self._length)
            values = [_convert(self._kind, x) for x in v]
            indices = range(start, stop, step)
            if len(values) != len(indices):
                raise ValueError("Can only assign sequence of same size")
            if step == 1:
                if values:
                    _wire.set_array(self._name, self._kind, start, values)
                return
            for index, x in zip(indices, values):
                _wire.set_array(self._name, self._kind, index, [x])
            return
        if i < -self._length or i >= self._length:
            raise IndexError("invalid index")
        _wire.set_array(self._name, self._kind, i, [_convert(self._kind, v)])

    def __iter__(self):
        return iter(self[:])

    @property
    def value(self):
        if self._kind != "bytes":
            raise AttributeError("value")
        return b"".join(self[:]).split(b"\x00", 1)[0]

    @property
    def raw(self):
        if self._kind != "bytes":
            raise AttributeError("raw")
        return b"".join(self[:])

    def __repr__(self):
        return "<SynchronizedArray wrapper for %r>" % (self[:],)


def _attach(cls, state):
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj


def Value(typecode_or_type, *args, lock=True, ctx=None):
    return SynchronizedValue(typecode_or_type, *args, lock=lock)


def Array(typecode_or_type, size_or_initializer, *, lock=True, ctx=None):
    return SynchronizedArray(typecode_or_type, size_or_initializer, lock=lock)


def RawValue(typecode_or_type, *args):
    return SynchronizedValue(typecode_or_type, *args, lock=False)


def RawArray(typecode_or_type, size_or_initializer):
    return SynchronizedArray(typecode_or_type, size_or_initializer, lock=False)
