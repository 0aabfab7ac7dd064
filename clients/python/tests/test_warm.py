"""Warm starts (forkd._warm): from a parent's second start on, Process.start() hands the process to a
spare interpreter started before it. The child must be the one a fresh start gives (environment, cwd,
daemon flag, stdin), and a spare must never outlive its parent nor run anything it was not given."""
import os
import signal
import textwrap

import forkd
import helpers
from forkd import _wire, process
from forkd._rpc import client

WAIT = 60


def _labels(process_id):
    return dict(client().call("ProcessService.Get", name=process_id).process.labels)


def _spare_after_two_starts():
    """Starts (and joins) two processes, so that a spare is kept; answers its id."""
    for _ in range(2):
        p = forkd.Process(target=helpers.exit_with, args=(0,))
        p.start()
        p.join(WAIT)
    spare = process._warm_starts().ready_spare(WAIT)
    assert spare is not None, "no spare was started after the second start"
    return spare


def test_the_next_start_runs_in_the_spare_and_the_child_is_what_a_fresh_start_gives():
    spare = _spare_after_two_starts()
    spare_pid = _wire.get_process(spare).pid
    assert _wire.get_process(spare).alive
    q = forkd.Queue()
    p = forkd.Process(target=helpers.put_start_info, args=(q,))
    p.start()
    info = q.get(timeout=WAIT)
    p.join(WAIT)
    assert p.exitcode == 0
    assert (p.forkd_id, p.pid, info["pid"]) == (spare, spare_pid, spare_pid)
    assert _labels(spare)["forkd.python.warm"] == "true"
    assert info["cwd"] == os.getcwd()
    assert info["stdin"] == "", "a warm child's stdin must be /dev/null, as a fresh child's is"
    assert not info["payload_variable"]


def test_a_start_after_the_environment_or_cwd_changed_gets_them_and_not_the_spares(monkeypatch, tmp_path):
    spare = _spare_after_two_starts()
    monkeypatch.setenv("FORKD_TEST_MARK", "changed after the spare started")
    monkeypatch.chdir(tmp_path)
    q = forkd.Queue()
    p = forkd.Process(target=helpers.put_start_info, args=(q,))
    p.start()
    info = q.get(timeout=WAIT)
    p.join(WAIT)
    assert p.forkd_id != spare
    assert info["env"] == "changed after the spare started"
    assert info["cwd"] == str(tmp_path)
    # The spare that did not fit is gone (ended and deleted). A start unlike the one before keeps no
    # spare; once two in a row are alike, the next one runs in a spare that fits them.
    state = _wire.join_process(spare, WAIT) if _exists(spare) else None
    assert state is None or state.ended
    assert process._warm_starts().ready_spare(0) is None
    seen = []
    for _ in range(2):
        r = forkd.Process(target=helpers.put_start_info, args=(q,))
        r.start()
        seen.append(q.get(timeout=WAIT))
        r.join(WAIT)
    fitting = process._warm_starts().ready_spare(WAIT)
    assert fitting not in (None, spare)
    r = forkd.Process(target=helpers.put_start_info, args=(q,))
    r.start()
    seen.append(q.get(timeout=WAIT))
    r.join(WAIT)
    assert r.forkd_id == fitting
    assert {(i["env"], i["cwd"]) for i in seen} == {("changed after the spare started", str(tmp_path))}


def _exists(process_id):
    try:
        _wire.get_process(process_id)
        return True
    except forkd.ForkdError as e:
        assert e.reason == "PROCESS_NOT_FOUND", e
        return False


def test_a_daemon_start_never_takes_a_spare_started_for_a_non_daemon_one():
    spare = _spare_after_two_starts()
    p = forkd.Process(target=helpers.exit_with, args=(0,), daemon=True)
    p.start()
    p.join(WAIT)
    assert p.forkd_id != spare
    assert client().call("ProcessService.Get", name=p.forkd_id).process.daemon


def test_a_spare_killed_before_its_start_is_replaced_by_a_fresh_child():
    spare = _spare_after_two_starts()
    _wire.signal_process(spare, kill=True)
    assert _wire.join_process(spare, WAIT).ended
    p = forkd.Process(target=helpers.exit_with, args=(7,))
    p.start()
    p.join(WAIT)
    assert p.exitcode == 7
    assert p.forkd_id != spare
    assert not _exists(spare), "the dead spare's record was left behind"


PROGRAM = textwrap.dedent("""
    import os, signal, sys
    import forkd
    from forkd import process

    def nothing():
        pass

    if __name__ == '__main__':
        for _ in range(3):
            p = forkd.Process(target=nothing)
            p.start()
            p.join()
            print(p.forkd_id, flush=True)
        print(process._warm_starts().ready_spare(60), flush=True)
        if sys.argv[1:] == ['--die']:
            os.kill(os.getpid(), signal.SIGKILL)
        if sys.argv[1:] == ['--wait']:  # for a line on stdin, then says whether it still has a spare
            sys.stdin.readline()
            print("spare now", process._warm_starts().ready_spare(0), flush=True)
""")


def _run(tmp_path, *args, env=None):
    """Runs PROGRAM: three start+joins, then it prints its children's ids and its spare's (None: none).
    (test_restart runs it with --wait.)"""
    import subprocess
    import sys
    program = tmp_path / "prog.py"
    program.write_text(PROGRAM)
    done = subprocess.run([sys.executable, str(program), *args], capture_output=True, timeout=180,
                          cwd=str(tmp_path), env=dict(os.environ, **(env or {})))
    lines = done.stdout.decode().split()
    assert len(lines) == 4, done
    return done, lines[:3], lines[3]


def test_the_spare_of_a_parent_that_exits_is_ended_and_deleted(tmp_path):
    done, children, spare = _run(tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert [("forkd.python.warm" in _labels(c)) for c in children] == [False, False, True]
    assert spare.startswith("p-")
    assert not _exists(spare)


def test_the_spare_of_a_sigkilled_parent_reads_end_of_file_and_exits_without_running_anything(tmp_path):
    done, _, spare = _run(tmp_path, "--die")
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    state = _wire.join_process(spare, WAIT)
    assert state.ended, "the spare of a killed parent was left waiting"
    assert state.exit_code == 0
    _wire.delete_process(spare)


def test_warm_starts_can_be_turned_off(tmp_path):
    done, children, spare = _run(tmp_path, env={"FORKD_PY_WARM": "0"})
    assert done.returncode == 0, done.stderr.decode()
    assert spare == "None"
    for c in children:
        assert "forkd.python.warm" not in _labels(c)
        assert _labels(c)["forkd.python.name"].startswith("Process-")
