"""multiprocessing.Process as a forkd process: the object is pickled (by reference, as the spawn start
method does) and run by `python -m forkd._bootstrap` with this interpreter, working directory,
environment and sys.path; its output is relayed to this process's stdout and stderr."""
import binascii
import itertools
import os
import pickle
import signal
import sys
import threading

from forkd import _lifecycle

PAYLOAD_VARIABLE = "FORKD_PY_PROCESS"
# What a child must not inherit from its parent's environment: forkd gives each child its own.
_PRIVATE_VARIABLES = ("FORKD_SESSION", "FORKD_TOKEN", "FORKD_PROCESS_ID", PAYLOAD_VARIABLE, "FORKD_PY_POOL")
# Environment strings above this size are refused by exec (MAX_ARG_STRLEN is 128 KiB).
_MAX_PAYLOAD = 120 * 1024

_children = set()
_children_lock = threading.Lock()


def _server():
    """forkd._wire, imported on first use: a child that only runs its target never loads it (nor the
    client behind it), so its start costs what a spawn child's does."""
    from forkd import _wire
    return _wire


_warm = []


def _warm_starts():
    """This process's WarmStarts (forkd._warm), made on the first start."""
    if not _warm:
        from forkd import _warm as warm
        _warm.append(warm.WarmStarts(_server()))
    return _warm[0]


def child_environment(extra=None):
    """The environment a forkd child of this process gets: this one's, with this package importable
    first, minus forkd's per-process variables (the server sets its own)."""
    env = {k: v for k, v in os.environ.items() if k not in _PRIVATE_VARIABLES}
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if os.isatty(1):
        env.setdefault("PYTHONUNBUFFERED", "1")  # on a terminal, a child's lines come as they are printed
    if extra:
        env.update(extra)
    return env


def preparation_data(name):
    """What a child needs to find the parent's code: sys.path, cwd and the main module (which the child
    imports as __mp_main__, as spawn does), from the standard library's own spawn support."""
    import multiprocessing.spawn
    data = multiprocessing.spawn.get_preparation_data(name)
    data.pop("authkey", None)
    data.pop("start_method", None)
    return data


def encode(obj):
    data = binascii.b2a_base64(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), newline=False).decode("ascii")
    if len(data) > _MAX_PAYLOAD:
        raise ValueError("the pickled process object is %d bytes; forkd passes at most %d to a child"
                         " (pass a Queue or a shared object for large data)" % (len(data), _MAX_PAYLOAD))
    return data


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class BaseProcess:
    """The multiprocessing.Process API."""

    def __init__(self, group=None, target=None, name=None, args=(), kwargs=None, *, daemon=None):
        assert group is None, "group argument must be None for now"
        parent = current_process()
        count = next(_counter_of(parent))
        self._identity = parent._identity + (count,)
        self._target = target
        self._args = tuple(args)
        self._kwargs = dict(kwargs or {})
        self._name = name or type(self).__name__ + "-" + ":".join(str(i) for i in self._identity)
        self._daemonic = parent.daemon if daemon is None else bool(daemon)
        self._parent_pid = os.getpid()
        self._parent_name = parent.name
        self._parent_forkd_id = os.environ.get("FORKD_PROCESS_ID", "")
        self._forkd_id = None
        self._pid = None
        self._exitcode = None
        self._ended = threading.Event()
        self._watch = None
        self._closed = False

    def run(self):
        """What the child runs: the target, unless a subclass overrides it."""
        if self._target:
            self._target(*self._args, **self._kwargs)

    def start(self):
        self._check_closed()
        assert self._forkd_id is None, "cannot start a process twice"
        assert self._parent_pid == os.getpid(), "can only start a process object created by current process"
        assert not current_process().daemon, "daemonic processes are not allowed to have children"
        payload = encode((preparation_data(self._name), pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)))
        env, cwd = child_environment(), os.getcwd()
        fit = (sys.executable, env, cwd, self._daemonic)
        state = _warm_starts().take(fit, payload.encode("ascii"))
        if state is None:
            state = _server().spawn([sys.executable, "-m", "forkd._bootstrap"], dict(env, **{PAYLOAD_VARIABLE: payload}),
                                    cwd, self._daemonic,
                                    {"forkd.python": "process", "forkd.python.name": self._name[:63]})
        _warm_starts().started(fit)
        self._forkd_id = state.id
        self._pid = state.pid
        self._watch, run = _server().watch(state.id, self._on_output, self._on_state)
        threading.Thread(target=self._follow, args=(run,), name="forkd-watch-" + self._name, daemon=True).start()
        with _children_lock:
            _children.add(self)

    def _follow(self, run):
        try:
            run()
        except Exception:
            pass  # the stream broke (server gone, or cancelled at exit): join() asks the server instead
        finally:
            if not self._ended.is_set():
                self._watch = None
            self._ended.set()

    def _on_output(self, is_stderr, data):
        # Straight to the descriptors, as a multiprocessing child writes to the inherited ones.
        try:
            _write_all(2 if is_stderr else 1, data)
        except OSError:
            pass

    def _on_state(self, state):
        if state.pid:
            self._pid = state.pid
        if state.ended:
            self._exitcode = state.exit_code
            self._ended.set()

    def join(self, timeout=None):
        self._check_closed()
        assert self._parent_pid == os.getpid(), "can only join a child process"
        assert self._forkd_id is not None, "can only join a started process"
        if not self._ended.wait(timeout):
            return
        if self._exitcode is None:
            # The watch stream ended without the exit (it broke): the server knows.
            remaining = None if timeout is None else 0
            state = _server().join_process(self._forkd_id, remaining)
            if state.ended:
                self._exitcode = state.exit_code
            else:
                self._ended.clear()
                return
        with _children_lock:
            _children.discard(self)

    def is_alive(self):
        self._check_closed()
        if self is _current or self._forkd_id is None:
            return self is _current
        return not self._ended.is_set()

    def terminate(self):
        self._check_closed()
        if self._forkd_id is not None and not self._ended.is_set():
            _server().signal_process(self._forkd_id, kill=False)

    def kill(self):
        self._check_closed()
        if self._forkd_id is not None and not self._ended.is_set():
            _server().signal_process(self._forkd_id, kill=True)

    def close(self):
        if self._closed:
            return
        if self._forkd_id is not None:
            if not self._ended.is_set():
                raise ValueError("Cannot close a process while it is still running. "
                                 "You should first call join() or terminate().")
            try:
                _server().delete_process(self._forkd_id)
            except Exception:
                pass
        with _children_lock:
            _children.discard(self)
        self._closed = True

    def _check_closed(self):
        if self._closed:
            raise ValueError("process object is closed")

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, name):
        assert isinstance(name, str), "name must be a string"
        self._name = name

    @property
    def daemon(self):
        return self._daemonic

    @daemon.setter
    def daemon(self, daemonic):
        assert self._forkd_id is None, "process has already started"
        self._daemonic = bool(daemonic)

    @property
    def exitcode(self):
        self._check_closed()
        return self._exitcode if self._ended.is_set() else None

    @property
    def pid(self):
        self._check_closed()
        return os.getpid() if self is _current else self._pid

    ident = pid

    @property
    def sentinel(self):
        raise NotImplementedError("forkd processes have no sentinel file descriptor: use join(timeout)")

    @property
    def authkey(self):
        return b""

    @authkey.setter
    def authkey(self, value):
        pass

    @property
    def forkd_id(self):
        """The process's id on the forkd server (as `forkd ps` shows it)."""
        if self is _current:
            return self._forkd_id or os.environ.get("FORKD_PROCESS_ID")
        return self._forkd_id

    def __getstate__(self):
        state = self.__dict__.copy()
        for runtime in ("_ended", "_watch"):
            state.pop(runtime, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._ended = threading.Event()
        self._watch = None

    def __repr__(self):
        if self is _current:
            status = "started"
        elif self._closed:
            status = "closed"
        elif self._forkd_id is None:
            status = "initial"
        elif self._ended.is_set() and self._exitcode is not None:
            status = "stopped" if self._exitcode == 0 else "stopped exitcode=%s" % _exit_text(self._exitcode)
        else:
            status = "started"
        return "<%s name=%r %s%s>" % (type(self).__name__, self._name, status, " daemon" if self._daemonic else "")


def _exit_text(code):
    if code < 0:
        try:
            return "-" + signal.Signals(-code).name
        except ValueError:
            pass
    return str(code)


class Process(BaseProcess):
    pass


class _MainProcess(BaseProcess):
    def __init__(self):
        self._identity = ()
        self._name = "MainProcess"
        self._daemonic = False
        self._parent_pid = None
        self._forkd_id = None
        self._closed = False
        self._ended = threading.Event()
        self._exitcode = None
        self._target = None


class _ParentProcess:
    """The process that started this one, as parent_process() answers it."""

    def __init__(self, name, pid, forkd_id):
        self.name = name
        self.pid = self.ident = pid
        self._forkd_id = forkd_id
        self.daemon = False

    def is_alive(self):
        if self._forkd_id:
            try:
                return _server().get_process(self._forkd_id).alive
            except Exception:
                return False
        try:
            os.kill(self.pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    def join(self, timeout=None):
        if self._forkd_id:
            _server().join_process(self._forkd_id, timeout)

    def __repr__(self):
        return "<_ParentProcess name=%r parent=%s>" % (self.name, self.pid)


_current = _MainProcess()
_parent = None
_counters = {}


def _counter_of(process):
    return _counters.setdefault(id(process), itertools.count(1))


def current_process():
    return _current


def parent_process():
    return _parent


def _become(process):
    """In a child: this process is `process` (what current_process() answers from now on)."""
    global _current, _parent
    _parent = _ParentProcess(process._parent_name, process._parent_pid, process._parent_forkd_id)
    process._forkd_id = os.environ.get("FORKD_PROCESS_ID")
    process._pid = os.getpid()
    _current = process


def active_children():
    """Children started here and still running (ended ones are joined, as in multiprocessing)."""
    with _children_lock:
        children = list(_children)
    for p in children:
        if p._ended.is_set():
            p.join(0)
    with _children_lock:
        return [p for p in _children if not p._ended.is_set()]


@_lifecycle.at_exit(_lifecycle.JOIN_CHILDREN)
def _exit_function():
    # As multiprocessing does at exit: terminate daemonic children, then join the rest.
    with _children_lock:
        children = list(_children)
    for p in children:
        if p._daemonic and not p._ended.is_set():
            try:
                p.terminate()
            except Exception:
                pass
    for p in children:
        try:
            p.join()
        except Exception:
            pass
