"""A real HTTP/1.1 server on loopback whose answers a test queues, like ``responses.add``.

Tests that exercise the registry client's error paths (status codes, retries,
OTP challenges, resets, timeouts, malformed answers) drive this server over a
real socket, so they prove the client's behaviour whatever transport it uses.

    def test_x(scripted_server):
        srv = scripted_server               # a started ScriptedServer
        srv.get("-/stage", status=503)      # queued per (method, path), used in order
        srv.get("-/stage", json={"items": []})
        ...                                 # point the client at srv.url
        assert [c.path for c in srv.calls] == ["/-/stage", "/-/stage"]

Queueing rules (the same as ``responses``):
- answers for one (method, path) are used in the order queued, each once, except
  that the last one left repeats for every later request to that (method, path);
- a path queued without ``?`` matches any query string; one queued with a query
  matches that exact path and query first; percent-escapes match in either case
  (``%2f`` is ``%2F``: requests sends the one, npm and others the other);
- a request nothing was queued for gets ``500`` with a body naming it, is recorded
  in ``calls`` and ``unmatched``, and fails the test at teardown (set
  ``allow_unmatched = True`` to opt out).

What an answer can be (keywords of ``add`` / ``get`` / ``post`` / ``put`` / ``delete``):
- ``status``, ``json=`` (serialised, application/json), ``body=`` (str or bytes,
  text/plain unless ``headers`` says otherwise), ``headers=``;
- ``reset=True``: read the whole request, then close the connection without a byte
  of answer (the client sees the peer hang up);
- ``delay=`` seconds before answering (for read timeouts; cut short at teardown);
- ``raw=`` bytes written as they are (a malformed or hand-made answer); the
  connection is closed afterwards, since the server cannot know where it ends;
- ``close=True``: answer normally, then close the connection without announcing
  it (no ``connection: close``), as a server dropping an idle keep-alive does;
  ``wait_closed(n)`` waits until connection ``n`` is closed, so the client's next
  request meets the dead connection deterministically.

Connections are kept alive (HTTP/1.1) until the client or the answer closes them.
Request bodies framed by content-length or chunked transfer-encoding are read.
Each recorded ``Call`` has ``method``, ``path`` (with the query), ``headers``
(case-insensitive), ``body`` (bytes) and ``connection`` (the number of the TCP
connection it came on, from 1, so a test can see whether connections were reused).

``recording_server`` is the same server answering from a fixed per-path script
(``script[(method, path)] = (status, headers, body)``, or a callable of the request),
404 for anything else; ``scripted_servers`` makes as many ScriptedServers as a test
needs (two hosts, say).
"""

from __future__ import annotations

import json as jsonlib
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

_UNSET = object()


class Headers(dict):
    """Request headers with lower-cased names; lookups ignore case."""

    def __init__(self, pairs=()) -> None:
        super().__init__()
        for name, value in pairs:
            key = name.lower()
            self[key] = f"{self[key]}, {value}" if key in self else value

    def __getitem__(self, name):
        return super().__getitem__(name.lower())

    def __contains__(self, name):
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name, default=None):
        return super().get(name.lower(), default)


@dataclass
class Call:
    method: str
    path: str  # with the query string, as sent
    headers: Headers
    body: bytes
    connection: int

    @property
    def query(self) -> str:
        return urlsplit(self.path).query


@dataclass
class Answer:
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    reset: bool = False
    delay: float = 0.0
    raw: bytes | None = None
    close: bool = False


class ScriptedServer:
    """See the module docstring. ``url`` ends with ``/``; ``port`` is the free port taken."""

    allow_unmatched = False

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.unmatched: list[Call] = []
        self._queues: dict[tuple[str, str], list[Answer]] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._open: dict[socket.socket, int] = {}  # accepted connections not yet closed
        self._accepted = 0
        self.httpd = _Server(("127.0.0.1", 0), _handler_for(self))
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    # -- queueing -----------------------------------------------------------
    def add(
        self,
        method: str,
        path: str,
        status: int = 200,
        *,
        json=_UNSET,
        body: str | bytes | None = None,
        headers: dict | None = None,
        reset: bool = False,
        delay: float = 0,
        raw: bytes | None = None,
        close: bool = False,
    ) -> None:
        if json is not _UNSET and body is not None:
            raise ValueError("give json= or body=, not both")
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        if json is not _UNSET:
            data = jsonlib.dumps(json).encode()
            hdrs.setdefault("content-type", "application/json")
        elif body is not None:
            data = body.encode() if isinstance(body, str) else bytes(body)
            hdrs.setdefault("content-type", "text/plain; charset=utf-8")
        else:
            data = b""
        answer = Answer(status, hdrs, data, reset, float(delay), raw, close)
        with self._lock:
            self._queues.setdefault((method.upper(), self._path(path)), []).append(answer)

    def get(self, path, status=200, **kw):
        self.add("GET", path, status, **kw)

    def post(self, path, status=200, **kw):
        self.add("POST", path, status, **kw)

    def put(self, path, status=200, **kw):
        self.add("PUT", path, status, **kw)

    def delete(self, path, status=200, **kw):
        self.add("DELETE", path, status, **kw)

    def _path(self, path: str) -> str:
        if path.startswith(self.url):
            path = path[len(self.url) :]
        return _escapes_upper("/" + path.lstrip("/"))

    def answer_for(self, call: Call) -> Answer:
        """The next queued answer for ``call`` (subclasses may compute one instead)."""
        with self._lock:
            path = _escapes_upper(call.path)
            queue = self._queues.get((call.method, path))
            if not queue:
                queue = self._queues.get((call.method, path.split("?")[0]))
            if queue:
                return queue.pop(0) if len(queue) > 1 else queue[0]
            self.unmatched.append(call)
        text = f"scripted_server: nothing queued for {call.method} {call.path}"
        return Answer(
            500, {"content-type": "application/json"}, jsonlib.dumps({"error": text}).encode()
        )

    # -- life ---------------------------------------------------------------
    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def wait_closed(self, connection: int, timeout: float = 10) -> bool:
        """Wait until the server has closed connection number ``connection`` (its FIN is
        sent): a test can then use the client knowing the connection it holds is dead."""
        with self._changed:
            return self._changed.wait_for(
                lambda: connection <= self._accepted and connection not in self._open.values(),
                timeout,
            )

    def close(self) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:  # wake handlers blocked on an idle keep-alive connection
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.httpd.server_close()


def _escapes_upper(path: str) -> str:
    return re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group().upper(), path)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ScriptedServer

    def process_request(self, request, client_address):
        with self.owner._changed:
            self.owner._accepted += 1
            self.owner._open[request] = self.owner._accepted
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        super().shutdown_request(request)  # shuts down and closes the socket
        with self.owner._changed:
            self.owner._open.pop(request, None)
            self.owner._changed.notify_all()

    def handle_error(self, request, client_address):
        pass  # a client that went away mid-answer (after a timeout) is expected here


def _read_body(handler) -> bytes:
    if "chunked" in (handler.headers.get("transfer-encoding") or "").lower():
        parts = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("content-length") or 0)
    return handler.rfile.read(length) if length else b""


def _handler_for(server: ScriptedServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            with server._lock:
                self.number = server._open[self.request]

        def log_message(self, *args):
            pass

        def _handle(self):
            call = Call(
                self.command,
                self.path,
                Headers(self.headers.items()),
                _read_body(self),
                self.number,
            )
            server._record(call)
            answer = server.answer_for(call)
            if answer.delay and server._stopping.wait(answer.delay):
                self.close_connection = True
                return
            if answer.reset:
                self.close_connection = True
                return
            if answer.raw is not None:
                self.wfile.write(answer.raw)
                self.wfile.flush()
                self.close_connection = True
                return
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            bodyless = answer.status in (204, 304)
            if not bodyless:
                self.send_header("content-length", str(len(answer.body)))
            self.end_headers()
            if not bodyless and self.command != "HEAD":
                self.wfile.write(answer.body)
            self.wfile.flush()
            if answer.close:
                self.close_connection = True

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle

    return Handler


class RecordingServer(ScriptedServer):
    """A ScriptedServer answering from a fixed per-path script instead of a queue:
    ``script[(method, path)] = (status, headers, body)`` or a callable of the request
    dict; ``requests`` lists those dicts (``method``, ``path``, ``headers``, ``body``)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: dict = {}
        super().__init__()

    def answer_for(self, call):
        req = {
            "method": call.method,
            "path": call.path,
            "headers": dict(call.headers),
            "body": call.body,
        }
        self.requests.append(req)
        answer = self.script.get(
            (call.method, call.path.split("?")[0]), (404, {}, {"error": "not found"})
        )
        if callable(answer):
            answer = answer(req)
        status, headers, payload = answer
        data = payload if isinstance(payload, bytes) else jsonlib.dumps(payload).encode()
        return Answer(status, {"content-type": "application/json", **headers}, data)


@pytest.fixture
def recording_server(scripted_servers):
    return lambda: scripted_servers(RecordingServer)


@pytest.fixture
def scripted_servers():
    """A factory of ScriptedServers (for tests that need two hosts); all closed at teardown."""
    servers: list[ScriptedServer] = []

    def make(cls=ScriptedServer):
        srv = cls()
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.close()
    stray = [f"{c.method} {c.path}" for s in servers if not s.allow_unmatched for c in s.unmatched]
    if stray:
        pytest.fail(f"scripted_server: requests nothing was queued for: {stray}")


@pytest.fixture
def scripted_server(scripted_servers):
    """One started ScriptedServer (see the module docstring)."""
    return scripted_servers()
