"""Warm starts: Process.start() hands its process to an interpreter that is already running.

Once two starts in a row gave their children the same, a spare child is kept ready: `python -m forkd._bootstrap --spare`,
started with what the next child would get (interpreter, environment, working directory, daemon
flag), its imports done, waiting on a stdin pipe. A start whose child would get the same takes the
spare, writes the pickled process to its stdin and closes it; the spare then runs the process as a
fresh child would, and the parent starts the next spare. So the interpreter's start-up, which a
`spawn` child pays on every start, is paid while the previous child runs. A start that does not fit
the spare (the environment changed, another working directory, another daemon flag) spawns a fresh
child, and the spare is replaced by one that fits, if the start after it fits too: a program that
gives each child an environment of its own (os.environ["WORKER"] = str(i)) starts no spares.

An unused spare never outlives its parent: the parent holds its stdin with close_on_cancel, so when
the parent dies (or the server stops) the spare reads end-of-file and exits 0; at a normal exit the
parent closes it and deletes its record. If the hold breaks while the parent lives (a supervisor
crash, which keeps the children), the parent kills and deletes the spare once the server is back.
FORKD_PY_WARM=0 turns warm starts off.
"""
import os
import threading
import time

from forkd import _lifecycle

ENABLED_VARIABLE = "FORKD_PY_WARM"
# How long a claim waits for the spare's agent to have written the process to its stdin.
_CLAIM_TIMEOUT = 60.0
# How long a discard, at this process's exit, waits for the spare to end before deleting its record.
_EXIT_JOIN_TIMEOUT = 10.0
# How long a spare's kill waits for its agent to be back with the next supervisor after a crash.
_AGENT_RETURN_WAIT = 60.0
# Refusals of a claim that prove the spare never got the process: a fresh child may be started instead.
_SPARE_GONE = {"PROCESS_NOT_RUNNING", "STDIN_CLOSED", "STDIN_WRITE_FAILED", "PROCESS_NOT_FOUND"}


class Spare:
    """One spare child: being started (ready not yet set), then waiting for a process, or failed."""

    def __init__(self, fit):
        self.fit = fit  # (executable, environment, cwd, daemon) it was started with
        self.ready = threading.Event()
        self.state = None  # its ProcessState, once spawned
        self.hold = None  # the StdinHold on its stdin, once spawned (None after ready: it failed)


class WarmStarts:
    """The spare of this process, and the claims on it. `wire` is forkd._wire (or a test's stand-in)."""

    def __init__(self, wire, environ=os.environ):
        self._wire = wire
        self._enabled = environ.get(ENABLED_VARIABLE, "1").strip() not in ("0", "false", "no", "off")
        self._lock = threading.Lock()
        self._spare = None
        self._last_fit = None
        self._owner = os.getpid()
        self._exit_registered = False

    def take(self, fit, payload):
        """Runs the pickled process (payload, bytes) in the spare if it fits; answers the spare's
        ProcessState, or None when there is no fitting spare (the caller spawns a fresh child)."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is None or os.getpid() != self._owner:
            return None
        spare.ready.wait()  # its Spawn was sent before this start: waiting costs less than a new one
        if spare.hold is None or spare.fit != fit or spare.hold.ended():
            self._discard_later(spare)
            return None
        try:
            spare.hold.give(payload, _CLAIM_TIMEOUT)
        except Exception as e:
            if getattr(e, "reason", None) in _SPARE_GONE:
                self._discard(spare)  # it has ended: its record goes at once
                return None
            self._discard_later(spare)
            if not spare.hold.handed:
                return None  # it never got the process
            raise  # it may have: the start fails as a Spawn whose answer was lost does
        return spare.state

    def started(self, fit):
        """After a start: if the one before gave its child the same, starts a spare for the next (in the
        background). A start unlike the last one starts none: its successor is not likely to fit it."""
        with self._lock:
            repeated, self._last_fit = fit == self._last_fit, fit
            if not self._enabled or not repeated or self._spare is not None or os.getpid() != self._owner:
                return
            spare = self._spare = Spare(fit)
            if not self._exit_registered:
                self._exit_registered = True
                _lifecycle.at_exit(_lifecycle.JOIN_CHILDREN)(self.close)
        threading.Thread(target=self._start_spare, args=(spare,), name="forkd-spare", daemon=True).start()

    def ready_spare(self, timeout):
        """The id of the spare once it has been started (None: there is none, or it failed)."""
        with self._lock:
            spare = self._spare
        if spare is None or not spare.ready.wait(timeout) or spare.state is None:
            return None
        return spare.state.id

    def _start_spare(self, spare):
        executable, env, cwd, daemon = spare.fit
        try:
            spare.state = self._wire.spawn([executable, "-m", "forkd._bootstrap", "--spare"], dict(env), cwd, daemon,
                                           {"forkd.python": "process", "forkd.python.warm": "true"}, stdin_pipe=True)
            hold = self._wire.StdinHold(spare.state.id)
            hold.when_ended(lambda: self._hold_ended(spare))
            spare.hold = hold
        except Exception:
            if spare.state is not None:
                self._discard_later(spare)
        finally:
            spare.ready.set()

    def _hold_ended(self, spare):
        """The call holding an idle spare's stdin ended: the supervisor went away (a crash keeps the
        children, and the next supervisor knows nothing of the call), so nothing would close the
        spare's stdin if this process died now. It is killed and deleted, once the server is back."""
        with self._lock:
            if self._spare is not spare:
                return  # taken by a start, or by close(): it is theirs
            self._spare = None
        self._discard_later(spare)

    def close(self):
        """At this process's exit: the spare ends (end-of-file on its stdin) and its record is deleted."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None and os.getpid() == self._owner:
            spare.ready.wait(_CLAIM_TIMEOUT)
            self._discard(spare)

    def _kill(self, process_id):
        """Kills a spare. After a supervisor crash its agent dials the next supervisor back by itself,
        and until it has, a Signal is refused with NO_AGENT; no event tells a client when it is back,
        so the kill is tried again, backing off, for up to _AGENT_RETURN_WAIT seconds."""
        give_up = time.monotonic() + _AGENT_RETURN_WAIT
        delay = 0.05
        while True:
            try:
                self._wire.signal_process(process_id, kill=True)
                return
            except Exception as e:
                if getattr(e, "reason", None) != "NO_AGENT" or time.monotonic() + delay > give_up:
                    raise
            time.sleep(delay)
            delay = min(1.0, delay * 2)

    def _discard_later(self, spare):
        threading.Thread(target=self._discard, args=(spare,), name="forkd-spare-discard", daemon=True).start()

    def _discard(self, spare):
        if spare.state is None:
            return
        try:
            if spare.hold is not None and not spare.hold.ended():
                spare.hold.cancel()  # close_on_cancel: it reads end-of-file and exits 0
            else:
                self._kill(spare.state.id)  # nothing holds its stdin any more
        except Exception:
            pass  # it has ended already (or the server is gone)
        try:
            if self._wire.join_process(spare.state.id, _EXIT_JOIN_TIMEOUT).ended:
                self._wire.delete_process(spare.state.id)
        except Exception:
            pass  # the server is gone: an idle spare that reads end-of-file ends by itself
