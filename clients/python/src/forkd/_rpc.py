"""The connection to a forkd server: address, credentials, autostart, the session, and calls.

The one module that imports grpc. Requests are built from keyword arguments and the stubs from the
protos' descriptors, so no module outside forkd._wire names a generated class. grpc is imported on
first use, so a child that never touches a forkd object does not pay for it.
"""
import os
import sys
import threading
import time

SESSION_HEADER = "forkd-session"
_SERVICE_MODULES = ("process", "queue", "pipe", "sync", "shared", "pool", "session")


class ForkdError(Exception):
    """A call the server refused: its gRPC status code name, the ErrorInfo reason and the message."""

    def __init__(self, code, reason, message):
        super().__init__("%s: %s%s" % (code, message, " [" + reason + "]" if reason else ""))
        self.code = code
        self.reason = reason
        self.message = message


def default_socket(env=os.environ, uid=None):
    """The CLI's default socket (ForkdPaths): one per user, whatever the environment, so a login shell
    and a cron job find the same server. $XDG_RUNTIME_DIR/forkd when XDG_RUNTIME_DIR is set to a
    directory that is not a login session's /run/user/N (chosen on purpose: a test, a container),
    else /tmp/forkd-<uid>."""
    runtime = env.get("XDG_RUNTIME_DIR", "").strip()
    if runtime and not (os.path.normpath(runtime) + "/").startswith("/run/user/"):
        base = os.path.join(runtime, "forkd")
    else:
        base = "/tmp/forkd-%d" % (os.getuid() if uid is None else uid)
    return os.path.join(base, "forkd.sock")


def grpc_target(address):
    """A gRPC target for a forkd address: unix:/path, unix:///path, /path or host:port."""
    a = address.strip()
    if a.startswith("unix://"):
        return "unix://" + a[len("unix://"):], True
    if a.startswith("unix:"):
        return "unix://" + a[len("unix:"):], True
    if a.startswith("/"):
        return "unix://" + a, True
    if ":" not in a:
        raise ValueError("address %r is neither unix:/path nor host:port" % address)
    return a, False


def _accepts(path):
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def _autostart(path):
    """Starts a server for the default socket the way the CLI does: by running a CLI command, which
    autostarts one (one at a time, under the CLI's lock) and returns once it listens."""
    import shutil
    import subprocess
    cli = os.environ.get("FORKD_CLI", "").strip() or shutil.which("forkd")
    if not cli:
        raise ConnectionError("no forkd server listens on %s and no forkd command was found to start one:"
                              " put the repository's forkd launcher on PATH, set FORKD_CLI to it, or set"
                              " FORKD_ADDRESS" % path)
    done = subprocess.run([cli, "ps"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=300)
    if not _accepts(path):
        raise ConnectionError("%s ps did not start a server on %s: %s"
                              % (cli, path, done.stderr.decode(errors="replace").strip()))


def _read(path):
    with open(path, "rb") as f:
        return f.read()


class _Method:
    def __init__(self, path, request, response, client_streaming, server_streaming):
        self.path = path
        self.request = request
        self.response = response
        self.client_streaming = client_streaming
        self.server_streaming = server_streaming


def _methods(modules=_SERVICE_MODULES):
    """The methods of the services in `modules` (their proto files' names), by "Service.Method"."""
    import importlib
    methods = {}
    for name in modules:
        module = importlib.import_module("forkd.v1.%s_pb2" % name)
        for service in module.DESCRIPTOR.services_by_name.values():
            for m in service.methods:
                methods[service.name + "." + m.name] = _Method(
                    "/%s/%s" % (service.full_name, m.name), _message_class(m.input_type),
                    _message_class(m.output_type), m.client_streaming, m.server_streaming)
    return methods


def _message_class(desc):
    import importlib
    module = importlib.import_module(desc.file.name[:-len(".proto")].replace("/", ".") + "_pb2")
    return getattr(module, desc.name)


def _error(e):
    """A grpc.RpcError as a ForkdError, with the reason of its google.rpc.ErrorInfo if it carries one."""
    code = e.code() if callable(getattr(e, "code", None)) else None
    name = code.name if code is not None else "UNKNOWN"
    message = e.details() if callable(getattr(e, "details", None)) else str(e)
    reason = ""
    for key, value in (e.trailing_metadata() or ()) if callable(getattr(e, "trailing_metadata", None)) else ():
        if key == "grpc-status-details-bin":
            from forkd._googlerpc import error_details_pb2, status_pb2
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    reason = info.reason
    return ForkdError(name, reason, message or name)


class Client:
    """One channel to the server, with the token and session header on every call."""

    def __init__(self, env=os.environ):
        import grpc
        self._grpc = grpc
        address = env.get("FORKD_ADDRESS", "").strip()
        if not address:
            path = default_socket(env)
            if not _accepts(path):
                _autostart(path)
            address = "unix:" + path
        self.address = address
        target, is_unix = grpc_target(address)
        # A restarted server is found again within a second: gRPC's reconnect back-off would grow to minutes.
        # Not grpc.min_reconnect_backoff_ms: gRPC takes it as the time a connection attempt gets to finish
        # its handshake (20 s by default), and a busy server may need more than 100 ms to answer it.
        options = [("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20),
                   ("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 1000)]
        ca, cert, key = (env.get(v, "").strip() for v in ("FORKD_TLS_CA", "FORKD_TLS_CERT", "FORKD_TLS_KEY"))
        if bool(cert) != bool(key):
            raise ValueError("a client certificate needs its key: set both FORKD_TLS_CERT and FORKD_TLS_KEY")
        if not is_unix and (ca or cert):
            creds = grpc.ssl_channel_credentials(root_certificates=_read(ca) if ca else None,
                                                 private_key=_read(key) if key else None,
                                                 certificate_chain=_read(cert) if cert else None)
            self.channel = grpc.secure_channel(target, creds, options)
        else:
            if is_unix:
                options.append(("grpc.default_authority", "localhost"))
            self.channel = grpc.insecure_channel(target, options)
        self._token = env.get("FORKD_TOKEN", "").strip()
        # Each service's messages are imported on its first call: a child that only puts to a queue
        # does not load the descriptors of the other services.
        self._methods = {}
        self._callables = {}
        self.session = None
        credential = env.get("FORKD_SESSION", "").strip()
        self._metadata = self._headers(credential)
        if not credential:
            # A process that is not a forkd child owns its locks and daemon children through a
            # session of its own, which ends when this process does (its stream closes).
            self.session = _Session(self)
            self._metadata = self._headers(self.session.credential)

    def _headers(self, credential):
        headers = []
        if self._token:
            headers.append(("authorization", "Bearer " + self._token))
        if credential:
            headers.append((SESSION_HEADER, credential))
        return tuple(headers)

    def _callable(self, name):
        c = self._callables.get(name)
        if c is None:
            m = self._method(name)
            kind = {(False, False): self.channel.unary_unary, (False, True): self.channel.unary_stream,
                    (True, False): self.channel.stream_unary, (True, True): self.channel.stream_stream}[
                (m.client_streaming, m.server_streaming)]
            c = kind(m.path, request_serializer=m.request.SerializeToString,
                     response_deserializer=m.response.FromString)
            self._callables[name] = c
        return c

    def request(self, method, /, **fields):
        """A request message of `method` ("QueueService.Put") from keyword arguments."""
        return self._method(method).request(**fields)

    def _method(self, name):
        m = self._methods.get(name)
        if m is None:
            module = name.partition(".")[0].removesuffix("Service").lower()
            if module not in _SERVICE_MODULES:
                raise KeyError(name)
            self._methods.update(_methods((module,)))
            m = self._methods[name]
        return m

    # How long a call waits for a server that is away (restarting) before it fails UNAVAILABLE.
    SERVER_AWAY_LIMIT = 60.0

    def call(self, method, /, deadline=None, **fields):
        """A unary call; `deadline` in seconds (None: no limit, for calls that block by design).

        A call that could not even reach the server (it is restarting) is sent again once it is back,
        for up to SERVER_AWAY_LIMIT seconds: it was never sent, so this repeats nothing, whatever the
        method. A call that was sent is never repeated here."""
        request = self.request(method, **fields)
        give_up = time.monotonic() + self.SERVER_AWAY_LIMIT
        while True:
            try:
                return self._callable(method)(request, timeout=deadline, metadata=self._metadata)
            except self._grpc.RpcError as e:
                if not _never_sent(e) or not self._await_server(give_up - time.monotonic()):
                    raise _error(e) from None

    def _await_server(self, seconds):
        """Waits (an event: the channel's connectivity) until the channel reaches the server again."""
        if seconds <= 0:
            return False
        try:
            self._grpc.channel_ready_future(self.channel).result(timeout=seconds)
            return True
        except self._grpc.FutureTimeoutError:
            return False

    def future(self, method, /, **fields):
        """A unary call answered later: a grpc future (done callbacks run on grpc's threads)."""
        return self._callable(method).future(self.request(method, **fields), metadata=self._metadata)

    def stream(self, name, requests, deadline=None):
        """A streaming call: `requests` is a message or an iterator of messages; answers the response
        iterator (a grpc call object that can be cancelled) or, for client streaming, the response."""
        return self._callable(name)(requests, timeout=deadline, metadata=self._metadata)

    def stream_future(self, name, requests):
        """A client-streaming call whose requests (an iterator, read on gRPC's thread) may wait: answers
        a grpc future of the response, which can be cancelled."""
        return self._callable(name).future(requests, metadata=self._metadata)

    def wrap(self, e):
        """A grpc.RpcError raised while iterating a stream, as a ForkdError."""
        return _error(e) if isinstance(e, self._grpc.RpcError) else e

    @property
    def rpc_error(self):
        return self._grpc.RpcError

    def close(self):
        if self.session is not None:
            self.session.close()
        self.channel.close()


def _never_sent(e):
    """Whether a failed call never left this process: no connection to the server could be made."""
    code = e.code() if hasattr(e, "code") else None
    return code is not None and code.name == "UNAVAILABLE" and "failed to connect to all addresses" in (
        e.details() or "")


class _Session:
    """SessionService.Open held open: the first answer carries the credential; a renewal goes out
    every third of the lease, and ending the stream (close, or this process dying) ends the session.

    When the stream breaks because the server went away (a restart), the session is resumed on a new
    stream with its credential, with jittered back-off, for up to RESUME_LIMIT seconds: a server that
    kept it (README "Restarts and durability") gives it back with its locks and daemons. Only when the
    server no longer knows it, or stays away past the limit, is it lost, and that is said on stderr."""

    TTL_SECONDS = 10
    RESUME_LIMIT = 300.0

    def __init__(self, client):
        from google.protobuf import duration_pb2
        self._client = client
        self._stop = threading.Event()
        self.lost = False
        first = client.request("SessionService.Open", ttl=duration_pb2.Duration(seconds=self.TTL_SECONDS),
                               name="python pid %d" % os.getpid())
        self._responses = client.stream("SessionService.Open", self._requests(first))
        try:
            opened = next(self._responses)
        except client.rpc_error as e:
            raise client.wrap(e) from None
        self.id = opened.session_id
        self.credential = opened.credential
        # The answers to renewals must be read, or flow control would stall the stream.
        threading.Thread(target=self._hold, name="forkd-session", daemon=True).start()

    def _requests(self, first):
        renewal = self._client.request("SessionService.Open")
        yield first
        while not self._stop.wait(self.TTL_SECONDS / 3):
            yield renewal

    def _drain(self):
        try:
            for _ in self._responses:
                pass
        except Exception:  # the stream ended: closed by us, or the server went away
            pass

    def _hold(self):
        while True:
            self._drain()
            if self._stop.is_set() or not self._resume():
                return

    def _resume(self):
        """Re-opens the session on a new stream; False when it is lost (or this client is closing).
        Each try waits for the channel to reach the server (an event), so a session is resumed as soon
        as the server is back, well within its lease."""
        import random
        c = self._client
        deadline = time.monotonic() + self.RESUME_LIMIT
        while not self._stop.is_set():
            c._await_server(deadline - time.monotonic())
            responses = c.stream("SessionService.Open",
                                 self._requests(c.request("SessionService.Open", credential=self.credential)))
            try:
                next(responses)
                self._responses = responses
                return True
            except c.rpc_error as e:
                responses.cancel()
                code = e.code().name if hasattr(e, "code") else ""
                if code != "UNAVAILABLE" or time.monotonic() >= deadline:
                    self.lost = True
                    sys.stderr.write("forkd: the session %s is lost (%s): the locks it held are released and its"
                                     " daemon processes stopped\n" % (self.id, c.wrap(e)))
                    return False
            # Reachable yet unavailable (the server is starting or stopping): try again shortly.
            self._stop.wait(0.05 + 0.1 * random.random())
        return False

    def close(self):
        self._stop.set()
        self._responses.cancel()


_client = None
_client_lock = threading.Lock()


def client():
    """This process's connection, made on first use."""
    global _client
    c = _client
    if c is None:
        with _client_lock:
            if _client is None:
                _client = Client()
            c = _client
    return c

