"""WarmStarts' decisions, with a stand-in for forkd._wire: which failures of a hand-over let a start
fall back to a fresh child (the spare never got the process) and which must fail the start (it may
have got it, and a fresh child would run the process twice)."""
import threading

import pytest

from forkd import _warm
from forkd._rpc import ForkdError

FIT = ("/usr/bin/python3", {"A": "1"}, "/", False)


class Hold:
    def __init__(self, error=None, hand=True, ended=False):
        self.error, self.hand, self._ended = error, hand, ended
        self.on_end = None
        self.handed = False
        self.given = None
        self.cancelled = False

    def ended(self):
        return self._ended

    def when_ended(self, fn):
        self.on_end = fn

    def end(self):
        """The call breaks (as when the supervisor crashes)."""
        self._ended = True
        self.on_end()

    def give(self, data, timeout):
        self.handed = self.hand
        self.given = data
        if self.error is not None:
            raise self.error

    def cancel(self):
        self.cancelled = True


class State:
    def __init__(self, pid):
        self.id, self.pid, self.ended = "p-%d" % pid, pid, True


class Wire:
    """Spawns spares in order (each with the next Hold of `holds`) and records what was asked."""

    def __init__(self, *holds):
        self.holds = list(holds)
        self.spawned, self.killed, self.deleted = [], [], []
        self.deleted_event = threading.Event()

    def spawn(self, argv, env, cwd, daemon, labels, stdin_pipe=False):
        assert argv[1:] == ["-m", "forkd._bootstrap", "--spare"] and stdin_pipe
        self.spawned.append((env, cwd, daemon))
        return State(100 + len(self.spawned))

    def StdinHold(self, process_id):
        return self.holds.pop(0)

    no_agent = 0  # how many kills are refused NO_AGENT first (its agent is not back yet)

    def signal_process(self, process_id, kill):
        if self.no_agent > 0:
            self.no_agent -= 1
            raise ForkdError("UNAVAILABLE", "NO_AGENT", "waiting for its agent to come back")
        self.killed.append(process_id)

    def join_process(self, process_id, timeout):
        return State(int(process_id[2:]))

    def delete_process(self, process_id):
        self.deleted.append(process_id)
        self.deleted_event.set()


def _with_spare(wire):
    warm = _warm.WarmStarts(wire, environ={})
    warm.started(FIT)
    warm.started(FIT)  # the second start keeps a spare
    assert warm.ready_spare(10) == "p-101"
    return warm


def test_the_first_start_keeps_no_spare_and_the_second_does():
    wire = Wire(Hold())
    warm = _warm.WarmStarts(wire, environ={})
    warm.started(FIT)
    assert warm.ready_spare(0) is None and wire.spawned == []
    warm.started(FIT)
    assert warm.ready_spare(10) == "p-101"
    assert wire.spawned == [({"A": "1"}, "/", False)]


def test_starts_that_each_give_their_child_another_environment_keep_no_spare():
    wire = Wire()
    warm = _warm.WarmStarts(wire, environ={})
    for i in range(4):
        fit = ("/usr/bin/python3", {"WORKER": str(i)}, "/", False)
        assert warm.take(fit, b"payload") is None
        warm.started(fit)
    assert warm.ready_spare(0) is None and wire.spawned == []


def test_a_fitting_start_hands_the_process_to_the_spare():
    hold = Hold()
    warm = _with_spare(Wire(hold))
    state = warm.take(FIT, b"payload")
    assert state.id == "p-101" and hold.given == b"payload"


def test_a_start_that_does_not_fit_spawns_fresh_and_the_spare_is_ended_and_deleted():
    hold = Hold()
    wire = Wire(hold)
    warm = _with_spare(wire)
    assert warm.take(("/usr/bin/python3", {"A": "2"}, "/", False), b"payload") is None
    assert wire.deleted_event.wait(10)
    assert hold.cancelled and hold.given is None and wire.deleted == ["p-101"]


def test_a_spare_that_has_ended_is_replaced_by_a_fresh_child_and_deleted_at_once():
    wire = Wire(Hold(error=ForkdError("FAILED_PRECONDITION", "PROCESS_NOT_RUNNING", "not running")))
    warm = _with_spare(wire)
    assert warm.take(FIT, b"payload") is None
    assert wire.deleted == ["p-101"]


def test_a_hand_over_that_never_left_this_process_falls_back_to_a_fresh_child():
    wire = Wire(Hold(error=ForkdError("UNAVAILABLE", "", "server gone"), hand=False))
    warm = _with_spare(wire)
    assert warm.take(FIT, b"payload") is None


def test_a_hand_over_that_may_have_reached_the_spare_fails_the_start_and_the_spare_is_killed():
    wire = Wire(Hold(error=ForkdError("UNAVAILABLE", "", "server gone"), hand=True, ended=False))
    warm = _with_spare(wire)
    with pytest.raises(ForkdError, match="server gone"):
        warm.take(FIT, b"payload")
    assert wire.deleted_event.wait(10)


def test_a_spare_whose_hold_broke_is_killed_not_used():
    hold = Hold(ended=True)
    wire = Wire(hold)
    warm = _with_spare(wire)
    assert warm.take(FIT, b"payload") is None
    assert wire.deleted_event.wait(10)
    assert wire.killed == ["p-101"] and hold.given is None


def test_an_idle_spare_whose_hold_breaks_is_killed_and_deleted_at_once():
    hold = Hold()
    wire = Wire(hold)
    warm = _with_spare(wire)
    hold.end()
    assert wire.deleted_event.wait(10)
    assert wire.killed == ["p-101"] and wire.deleted == ["p-101"]
    assert warm.ready_spare(0) is None
    assert warm.take(FIT, b"payload") is None


def test_a_spare_whose_agent_is_not_back_yet_is_killed_once_it_is():
    hold = Hold()
    wire = Wire(hold)
    wire.no_agent = 3
    warm = _with_spare(wire)
    hold.end()
    assert wire.deleted_event.wait(30)
    assert wire.no_agent == 0 and wire.killed == ["p-101"]


def test_a_hold_that_ends_because_its_spare_was_taken_does_not_discard_it():
    hold = Hold()
    wire = Wire(hold)
    warm = _with_spare(wire)
    assert warm.take(FIT, b"payload").id == "p-101"
    hold.end()  # give() completed the call
    assert wire.killed == [] and wire.deleted == []


def test_warm_starts_off_keep_no_spare():
    wire = Wire()
    warm = _warm.WarmStarts(wire, environ={"FORKD_PY_WARM": "0"})
    for _ in range(3):
        warm.started(FIT)
    assert warm.ready_spare(0) is None and wire.spawned == []
