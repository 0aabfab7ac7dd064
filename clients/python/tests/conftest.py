"""A real forkd server for the suite: `forkd serve` from this checkout's launcher, on a private socket,
with real agents and children. Every test talks to it through FORKD_ADDRESS, as a user's program does."""
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
LAUNCHER = os.path.join(REPO, "forkd")
READY = "forkd listening on "


def start_server(state_dir, *args, env=None):
    """Starts `forkd serve` and waits (up to 120 s: the machine may be loaded) until it listens."""
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    os.chmod(state_dir, 0o700)
    log = os.path.join(state_dir, "serve.log")
    e = dict(os.environ if env is None else env, XDG_RUNTIME_DIR=state_dir, XDG_STATE_HOME=state_dir)
    out = open(log, "wb")
    server = subprocess.Popen([LAUNCHER, "serve", *args], stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.STDOUT, env=e, start_new_session=True)
    out.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with open(log, errors="replace") as f:
            if any(line.startswith(READY) for line in f):
                return server
        if server.poll() is not None:
            break
        time.sleep(0.1)  # waiting for another process's log line: no event to wait on
    stop_server(server)
    with open(log, errors="replace") as f:
        raise RuntimeError("forkd serve did not start:\n" + f.read())


def stop_server(server):
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(30)


@pytest.fixture(scope="session", autouse=True)
def forkd_server():
    with tempfile.TemporaryDirectory(prefix="forkd-py-") as state:
        sock = os.path.join(state, "forkd.sock")
        server = start_server(state, "--listen", "unix:" + sock)
        os.environ["FORKD_ADDRESS"] = "unix:" + sock
        os.environ["PYTHONPATH"] = os.path.join(PACKAGE_ROOT, "src") + (
            os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
        try:
            yield "unix:" + sock
        finally:
            from forkd import _lifecycle
            _lifecycle.run()
            stop_server(server)


def run_program(path, timeout=180, env=None):
    """Runs a Python program as a user would (`python path`) and answers the CompletedProcess."""
    return subprocess.run([sys.executable, path], capture_output=True, timeout=timeout, cwd=os.path.dirname(path),
                          env=dict(os.environ, **(env or {})))


def pytest_sessionfinish(session, exitstatus):
    """A skipped test is a failure here: nothing in this suite may depend on something missing."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and session.exitstatus == 0:
        reporter.write_line("skipped tests count as failures in this suite", red=True)
        session.exitstatus = 1
