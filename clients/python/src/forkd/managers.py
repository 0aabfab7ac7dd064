"""multiprocessing.Manager() whose proxies are forkd's server-held dicts, lists and values.

There is no manager process: the forkd server holds the objects, and every proxy operation is a server
call. Values are pickled. A dict keeps insertion order, as a Python dict does: each entry carries the
order it was first inserted in (a counter on the server). A manager deletes the objects it made when it
shuts down (at the end of a `with` block), as multiprocessing's manager does when its process ends.
"""
import base64
import pickle
import uuid

from forkd import _wire, queues, sharedctypes, synchronize
from forkd._rpc import ForkdError

_PROTOCOL = 4  # fixed, so equal keys encode to equal server keys in every process


def _dumps(obj):
    return pickle.dumps(obj, protocol=_PROTOCOL)


def _key(k):
    """A server key for a Python key: a str as itself (readable by other languages), else pickled."""
    if type(k) is str:
        return "s" + k
    return "p" + base64.b64encode(_dumps(k)).decode("ascii")


def _unkey(s):
    return s[1:] if s[0] == "s" else pickle.loads(base64.b64decode(s[1:]))


def _missing(e):
    return isinstance(e, ForkdError) and e.code == "NOT_FOUND"


class _Proxy:
    def __init__(self, name):
        self._name = name

    def __reduce__(self):
        return type(self), (self._name,)

    @property
    def forkd_name(self):
        return self._name


class DictProxy(_Proxy):
    def _entries(self):
        try:
            raw = _wire.list_dict(self._name)
        except ForkdError as e:
            if _missing(e):
                return []
            raise
        entries = [(pickle.loads(v), _unkey(k)) for k, v in raw]
        entries.sort(key=lambda e: e[0][0])
        return [(k, seq_value[1]) for seq_value, k in entries]

    def _get(self, key):
        try:
            return _wire.get_dict_item(self._name, key)
        except ForkdError as e:
            if _missing(e):
                return None
            raise

    def __setitem__(self, k, v):
        key = _key(k)
        while True:
            old = self._get(key)
            if old is not None:
                seq = pickle.loads(old)[0]
            else:
                seq = _wire.add_value(self._name + ".order", "int64", 1)
            if _wire.cas_dict_item(self._name, key, old, _dumps((seq, v))):
                return

    def __getitem__(self, k):
        raw = self._get(_key(k))
        if raw is None:
            raise KeyError(k)
        return pickle.loads(raw)[1]

    def __delitem__(self, k):
        try:
            old = _wire.delete_dict_item(self._name, _key(k))
        except ForkdError as e:
            if not _missing(e):
                raise
            old = None
        if old is None:
            raise KeyError(k)

    def __contains__(self, k):
        return self._get(_key(k)) is not None

    def get(self, k, default=None):
        raw = self._get(_key(k))
        return default if raw is None else pickle.loads(raw)[1]

    def pop(self, k, *default):
        try:
            old = _wire.delete_dict_item(self._name, _key(k))
        except ForkdError as e:
            if not _missing(e):
                raise
            old = None
        if old is None:
            if default:
                return default[0]
            raise KeyError(k)
        return pickle.loads(old)[1]

    def setdefault(self, k, default=None):
        key = _key(k)
        while True:
            old = self._get(key)
            if old is not None:
                return pickle.loads(old)[1]
            seq = _wire.add_value(self._name + ".order", "int64", 1)
            if _wire.cas_dict_item(self._name, key, None, _dumps((seq, default))):
                return default

    def update(self, other=(), **kw):
        for k, v in (other.items() if hasattr(other, "items") else other):
            self[k] = v
        for k, v in kw.items():
            self[k] = v

    def keys(self):
        return [k for k, _ in self._entries()]

    def values(self):
        return [v for _, v in self._entries()]

    def items(self):
        return self._entries()

    def copy(self):
        return dict(self._entries())

    def clear(self):
        for k in self.keys():
            self.pop(k, None)

    def __len__(self):
        return len(self._entries())

    def __iter__(self):
        return iter(self.keys())

    def __eq__(self, other):
        return self.copy() == (other.copy() if isinstance(other, DictProxy) else other)

    def __str__(self):
        return str(self.copy())

    def __repr__(self):
        return "<DictProxy object, typeid 'dict' %s>" % self._name


class ListProxy(_Proxy):
    def _all(self):
        try:
            return [pickle.loads(b) for b in _wire.slice_list(self._name)[0]]
        except ForkdError as e:
            if _missing(e):
                return []
            raise

    def __len__(self):
        try:
            return _wire.slice_list(self._name, 0, 0)[1]
        except ForkdError as e:
            if _missing(e):
                return 0
            raise

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._all()[i]
        try:
            return pickle.loads(_wire.get_list_item(self._name, i))
        except ForkdError as e:
            if e.code in ("INVALID_ARGUMENT", "OUT_OF_RANGE", "NOT_FOUND"):
                raise IndexError("list index out of range") from None
            raise

    def __setitem__(self, i, v):
        if isinstance(i, slice):
            items = self._all()
            items[i] = v
            self._replace(items)
            return
        try:
            _wire.set_list_item(self._name, i, _dumps(v))
        except ForkdError as e:
            if e.code in ("INVALID_ARGUMENT", "OUT_OF_RANGE", "NOT_FOUND"):
                raise IndexError("list assignment index out of range") from None
            raise

    def _replace(self, items):
        """Rewrites the whole list (the operations a server list has no single call for)."""
        n = len(self)
        for _ in range(n):
            _wire.pop_list(self._name)
        if items:
            _wire.append_list(self._name, [_dumps(x) for x in items])

    def append(self, v):
        _wire.append_list(self._name, [_dumps(v)])

    def extend(self, values):
        values = [_dumps(v) for v in values]
        if values:
            _wire.append_list(self._name, values)

    def __iadd__(self, values):
        self.extend(values)
        return self

    def pop(self, index=-1):
        try:
            return pickle.loads(_wire.pop_list(self._name, index))
        except ForkdError as e:
            if e.code in ("INVALID_ARGUMENT", "OUT_OF_RANGE", "NOT_FOUND", "FAILED_PRECONDITION"):
                raise IndexError("pop from empty list or index out of range") from None
            raise

    def insert(self, index, v):
        items = self._all()
        items.insert(index, v)
        self._replace(items)

    def remove(self, v):
        items = self._all()
        items.remove(v)
        self._replace(items)

    def reverse(self):
        items = self._all()
        for i, v in enumerate(reversed(items)):
            _wire.set_list_item(self._name, i, _dumps(v))

    def sort(self, key=None, reverse=False):
        items = sorted(self._all(), key=key, reverse=reverse)
        for i, v in enumerate(items):
            _wire.set_list_item(self._name, i, _dumps(v))

    def index(self, v, *args):
        return self._all().index(v, *args)

    def count(self, v):
        return self._all().count(v)

    def __contains__(self, v):
        return v in self._all()

    def __iter__(self):
        return iter(self._all())

    def __eq__(self, other):
        return self._all() == (other._all() if isinstance(other, ListProxy) else other)

    def __str__(self):
        return str(self._all())

    def __repr__(self):
        return "<ListProxy object, typeid 'list' %s>" % self._name


class ValueProxy(_Proxy):
    def get(self):
        return pickle.loads(_wire.get_value(self._name))

    def set(self, value):
        _wire.set_value(self._name, "bytes", _dumps(value))

    value = property(get, set)

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.get())


class Namespace:
    """Attributes on a server dict; names starting with '_' stay local, as in multiprocessing."""

    def __init__(self, name):
        object.__setattr__(self, "_dict", DictProxy(name))

    def __reduce__(self):
        return Namespace, (self._dict._name,)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._dict[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        if name.startswith("_"):
            return object.__setattr__(self, name, value)
        self._dict[name] = value

    def __delattr__(self, name):
        try:
            del self._dict[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self):
        items = [(k, v) for k, v in self._dict.items() if not str(k).startswith("_")]
        return "Namespace(%s)" % ", ".join("%s=%r" % kv for kv in sorted(items))


class SyncManager:
    """What Manager() answers: makes shared objects on the forkd server."""

    def __init__(self, address=None, authkey=None, serializer="pickle", ctx=None, **_):
        self._names = []
        self._started = False

    def start(self, initializer=None, initargs=()):
        if self._started:
            from multiprocessing import ProcessError
            raise ProcessError("Already started server")
        self._started = True
        if initializer is not None:
            initializer(*initargs)

    def connect(self):
        self._started = True

    def shutdown(self):
        if not self._started:
            return
        self._started = False
        for name in reversed(self._names):
            try:
                _wire.delete_shared(name)
            except Exception:
                pass
        self._names.clear()

    join = lambda self, timeout=None: None

    def __enter__(self):
        if not self._started:
            self.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()

    def _new(self, kind):
        name = "py-%s-%s" % (kind, uuid.uuid4().hex[:16])
        self._names.append(name)
        return name

    def dict(self, *args, **kw):
        d = DictProxy(self._new("dict"))
        self._names.append(d._name + ".order")
        if args or kw:
            d.update(dict(*args, **kw))
        return d

    def list(self, sequence=()):
        lst = ListProxy(self._new("list"))
        lst.extend(sequence)
        return lst

    def Value(self, typecode, value, lock=True):
        v = ValueProxy(self._new("value"))
        v.set(value)
        return v

    def Array(self, typecode, sequence, lock=True):
        return sharedctypes.Array(typecode, sequence, lock=lock)

    def Namespace(self, **kw):
        ns = Namespace(self._new("namespace"))
        self._names.append(ns._dict._name + ".order")
        for k, v in kw.items():
            setattr(ns, k, v)
        return ns

    Queue = staticmethod(lambda maxsize=0: queues.Queue(maxsize))
    JoinableQueue = staticmethod(lambda maxsize=0: queues.JoinableQueue(maxsize))
    Lock = staticmethod(lambda: synchronize.Lock())
    RLock = staticmethod(lambda: synchronize.RLock())
    Semaphore = staticmethod(lambda value=1: synchronize.Semaphore(value))
    BoundedSemaphore = staticmethod(lambda value=1: synchronize.BoundedSemaphore(value))
    Condition = staticmethod(lambda lock=None: synchronize.Condition(lock))
    Event = staticmethod(lambda: synchronize.Event())
    Barrier = staticmethod(lambda parties, action=None, timeout=None: synchronize.Barrier(parties, action, timeout))

    def Pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        from forkd.pool import Pool
        return Pool(processes, initializer, initargs, maxtasksperchild)


def Manager(*, ctx=None):
    m = SyncManager()
    m.start()
    return m
