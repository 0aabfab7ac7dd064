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
