"""How a program finds its server: FORKD_ADDRESS, else the default socket, started on demand by the
forkd launcher (as the CLI does); the token comes from FORKD_TOKEN."""
import os
import socket
import subprocess
import sys
import tempfile
import textwrap

import pytest

from conftest import LAUNCHER, start_server, stop_server
from forkd._rpc import ForkdError, default_socket, grpc_target

PROGRAM = textwrap.dedent("""
    import forkd
    q = forkd.Queue()
    q.put('over ' + forkd._rpc.client().address)
    print(q.get(timeout=60))
""")


def run(env):
    return subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, timeout=300, env=env)


def test_addresses_parse_like_the_clis():
    assert grpc_target("unix:/run/f.sock") == ("unix:///run/f.sock", True)
    assert grpc_target("unix:///run/f.sock") == ("unix:///run/f.sock", True)
    assert grpc_target("/run/f.sock") == ("unix:///run/f.sock", True)
    assert grpc_target("127.0.0.1:7070") == ("127.0.0.1:7070", False)
    with pytest.raises(ValueError):
        grpc_target("nowhere")
    assert default_socket({"XDG_RUNTIME_DIR": "/r"}) == "/r/forkd/forkd.sock"
    # One server per user, as the CLI finds it: a cron job (no XDG_RUNTIME_DIR) and a login shell alike.
    assert default_socket({"XDG_STATE_HOME": "/s", "HOME": "/h"}, uid=1000) == "/tmp/forkd-1000/forkd.sock"
    assert default_socket({"XDG_RUNTIME_DIR": "/run/user/1000", "HOME": "/h"}, uid=1000) == "/tmp/forkd-1000/forkd.sock"


def test_without_forkd_address_a_server_is_autostarted_on_the_default_socket():
    with tempfile.TemporaryDirectory(prefix="forkd-auto-") as runtime:
        os.chmod(runtime, 0o700)
        env = {k: v for k, v in os.environ.items() if k not in ("FORKD_ADDRESS",)}
        env.update(XDG_RUNTIME_DIR=runtime, XDG_STATE_HOME=runtime, FORKD_CLI=LAUNCHER)
        sock = os.path.join(runtime, "forkd", "forkd.sock")
        try:
            done = run(env)
            assert done.returncode == 0, done.stderr.decode()
            assert done.stdout.decode().strip() == "over unix:" + sock
        finally:
            # The autostarted server runs in its own session; it is the one listening on our socket.
            pids = subprocess.run(["pgrep", "-f", "--", "--listen unix:" + sock], capture_output=True, text=True)
            for pid in pids.stdout.split():
                os.kill(int(pid), 15)
            for pid in pids.stdout.split():
                _wait_gone(int(pid))


def _wait_gone(pid):
    import time
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)  # another session's process: no event to wait on
    os.kill(pid, 9)


def test_tcp_with_a_token_from_forkd_token():
    # Plaintext TCP (loopback only); TLS is the next test.
    with tempfile.TemporaryDirectory(prefix="forkd-tcp-") as state:
        os.chmod(state, 0o700)
        token_file = os.path.join(state, "token")
        with open(token_file, "w") as f:
            f.write("s3cret-token-for-the-python-suite")
        os.chmod(token_file, 0o600)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        server = start_server(state, "--listen", "127.0.0.1:%d" % port, "--token-file", token_file,
                              "--insecure-plaintext")
        try:
            env = dict(os.environ, FORKD_ADDRESS="127.0.0.1:%d" % port, FORKD_TOKEN="s3cret-token-for-the-python-suite")
            done = run(env)
            assert done.returncode == 0, done.stderr.decode()
            assert "over 127.0.0.1:%d" % port in done.stdout.decode()
            env["FORKD_TOKEN"] = "wrong"
            refused = run(env)
            assert refused.returncode != 0
            # The status code, and the reason decoded from the google.rpc.ErrorInfo in the trailers.
            assert "UNAUTHENTICATED" in refused.stderr.decode()
            assert "[TOKEN_INVALID]" in refused.stderr.decode()
        finally:
            stop_server(server)
    assert ForkdError("UNAUTHENTICATED", "TOKEN_INVALID", "no").code == "UNAUTHENTICATED"


def test_tcp_over_tls_with_the_ca_from_forkd_tls_ca():
    with tempfile.TemporaryDirectory(prefix="forkd-tls-") as state:
        os.chmod(state, 0o700)
        cert, key = os.path.join(state, "server.pem"), os.path.join(state, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        # The server wants a PKCS#8 key, private to its owner.
        subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", key, "-out", key + ".p8"], check=True)
        os.replace(key + ".p8", key)
        os.chmod(key, 0o600)
        token_file = os.path.join(state, "token")
        with open(token_file, "w") as f:
            f.write("tls-suite-token-0123456789")
        os.chmod(token_file, 0o600)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        server = start_server(state, "--listen", "127.0.0.1:%d" % port, "--tls-cert", cert, "--tls-key", key,
                              "--token-file", token_file)
        try:
            env = dict(os.environ, FORKD_ADDRESS="127.0.0.1:%d" % port, FORKD_TLS_CA=cert, FORKD_TOKEN="tls-suite-token-0123456789")
            done = run(env)
            assert done.returncode == 0, done.stderr.decode()
            assert "over 127.0.0.1:%d" % port in done.stdout.decode()
        finally:
            stop_server(server)
