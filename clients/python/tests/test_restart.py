"""A server restart under a running program: its session resumes, with what it held."""
import os
import subprocess
import sys
import tempfile
import textwrap

from conftest import PACKAGE_ROOT, start_server, stop_server

HOLDER = textwrap.dedent("""
    import sys
    import time
    import forkd
    from forkd import _rpc
    _rpc._Session.TTL_SECONDS = 2  # a short lease, so that one that is not renewed runs out soon
    lock = forkd.Lock()
    lock.acquire()
    print("held", flush=True)
    sys.stdin.readline()          # the test restarts the server meanwhile
    # Three leases: a session whose stream was not resumed would have ended here, its lock passed on.
    # (Letting a lease run out is what is tested: nothing to wait on but the time.)
    time.sleep(3 * _rpc._Session.TTL_SECONDS)
    lock.release()                # refused if the session (and so the lock) was lost
    print("released lost=%s" % _rpc.client().session.lost, flush=True)
""")


def test_a_session_resumes_after_a_server_restart_and_keeps_its_lock():
    state = tempfile.mkdtemp(prefix="fkpyr")
    socket = os.path.join(state, "forkd.sock")
    args = ("--listen", "unix:" + socket)
    server = start_server(state, *args)
    env = dict(os.environ, FORKD_ADDRESS="unix:" + socket,
               PYTHONPATH=os.path.join(PACKAGE_ROOT, "src"))
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        stop_server(server)       # a clean stop keeps sessions for the next server
        server = start_server(state, *args)
        out, err = holder.communicate("go\n", timeout=120)
        assert holder.returncode == 0, err
        assert out.strip() == "released lost=False", (out, err)
        assert "is lost" not in err, err
    finally:
        if holder.poll() is None:
            holder.kill()
        stop_server(server)


def test_an_idle_spare_whose_supervisor_crashed_is_killed_by_its_parent_once_the_next_one_is_up():
    import signal
    import test_warm
    from forkd import _rpc, _wire
    state = tempfile.mkdtemp(prefix="fkpys")
    socket = os.path.join(state, "forkd.sock")
    args = ("--listen", "unix:" + socket)
    server = start_server(state, *args)
    env = dict(os.environ, FORKD_ADDRESS="unix:" + socket, PYTHONPATH=os.path.join(PACKAGE_ROOT, "src"))
    program = os.path.join(state, "parent.py")  # a file, not -c: its children import it, as with spawn
    with open(program, "w") as f:
        f.write(test_warm.PROGRAM)
    parent = subprocess.Popen([sys.executable, program, "--wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env, text=True, cwd=state)
    try:
        for _ in range(3):
            parent.stdout.readline()  # its children's ids
        spare = parent.stdout.readline().strip()
        assert spare.startswith("p-"), parent.stderr.read() if parent.poll() is not None else spare
        # A crash: the agents and their children (the spare among them) live on, and the next
        # supervisor adopts them, knowing nothing of the call that held the spare's stdin.
        server.send_signal(signal.SIGKILL)
        server.wait(60)
        server = start_server(state, *args)
        client = _rpc.Client({"FORKD_ADDRESS": "unix:" + socket})
        try:
            answer = client.call("ProcessService.Join", name=spare, deadline=90)
            ended = _wire.ProcessState(answer.process).ended
        except _rpc.ForkdError as e:
            assert e.reason == "PROCESS_NOT_FOUND", e  # killed and deleted already
            ended = True
        finally:
            client.close()
        assert ended, "the idle spare of a live parent was left waiting after the supervisor crashed"
        out, err = parent.communicate("go\n", timeout=120)
        assert parent.returncode == 0, err
        assert out.strip() == "spare now None", (out, err)
    finally:
        if parent.poll() is None:
            parent.kill()
        stop_server(server)
