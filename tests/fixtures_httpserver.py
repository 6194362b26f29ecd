"""Scripted registries on a real loopback socket, served by pytest-httpserver (werkzeug),
for tests that need a real server: the CLI in a subprocess, TLS, two hosts. Tests of the
client's own logic in-process use ``responses`` instead (tests/test_client_*.py,
test_http.py); what only a misbehaving socket shows (resets, malformed framing,
dropped keep-alive connections) uses ``helpers.RawServer``.

``scripted_server``: answers queued like ``responses.add``::

    srv.get("-/stage", status=503)      # queued per (method, path), used in order,
    srv.get("-/stage", json={"items": []})  # the last one left repeats
    ...                                 # point the client at srv.url (ends with /)
    assert [c.path for c in srv.calls] == ["/-/stage", "/-/stage"]

A path queued without ``?`` matches any query string; one with a query matches that
exact path and query first; percent-escapes match in either case. An answer is
``status``, ``json=`` or ``body=`` (str or bytes; text/plain unless ``headers`` says
otherwise) and ``headers=``. A request nothing was queued for gets 500 naming it and
fails the test at teardown. Each ``Call`` has ``method``, ``path`` (as sent, with the
query), ``query``, ``headers`` (lower-case names) and ``body`` (bytes).

``recording_server()``: answers from a fixed script instead,
``script[(method, path)] = (status, headers, body)`` or a callable of the request dict
(``method``, ``path``, ``headers``, ``body``), 404 for anything else; the request dicts
are in ``requests``. ``scripted_servers()`` makes as many scripted servers as a test
needs (two hosts, say).
"""

from __future__ import annotations

import json as jsonlib
import re
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from helpers import FAST_RETRIES
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Response

_UNSET = object()


@dataclass
class Call:
    method: str
    path: str  # with the query string, as sent
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def query(self) -> str:
        return urlsplit(self.path).query


def _escapes_upper(path: str) -> str:
    return re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group().upper(), path)


class QuickStopHTTPServer(HTTPServer):
    """pytest-httpserver whose ``stop()`` returns at once: werkzeug's serve_forever polls
    for shutdown every 0.5 s by default, which made each test's teardown that long."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.05)


class _Served:
    """One pytest-httpserver on 127.0.0.1 whose every request goes to ``answer``."""

    def __init__(self) -> None:
        self.httpd = QuickStopHTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.httpd.expect_request(re.compile(".*")).respond_with_handler(self._dispatch)
        self.httpd.start()
        self.port = self.httpd.port
        self.url = f"http://127.0.0.1:{self.port}/"

    def _dispatch(self, request) -> Response:
        raw = request.environ.get("RAW_URI") or request.full_path
        call = Call(
            request.method,
            raw,
            {k.lower(): v for k, v in request.headers.items()},
            request.get_data(),
        )
        status, headers, body = self.answer(call)
        response = Response(body, status=status, headers=headers)
        if not any(name.lower() == "content-type" for name in headers):
            del response.headers["content-type"]  # werkzeug would say text/plain
        return response

    def answer(self, call: Call) -> tuple[int, dict, bytes]:
        raise NotImplementedError

    def close(self) -> None:
        self.httpd.clear()
        if self.httpd.is_running():
            self.httpd.stop()


class ScriptedServer(_Served):
    """See the module docstring."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.unmatched: list[Call] = []
        self._queues: dict[tuple[str, str], list[tuple[int, dict, bytes]]] = {}
        self._lock = threading.Lock()
        super().__init__()

    def add(self, method, path, status=200, *, json=_UNSET, body=None, headers=None) -> None:
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
        with self._lock:
            self._queues.setdefault((method.upper(), self._path(path)), []).append(
                (status, hdrs, data)
            )

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

    def answer(self, call: Call) -> tuple[int, dict, bytes]:
        with self._lock:
            self.calls.append(call)
            path = _escapes_upper(call.path)
            queue = self._queues.get((call.method, path)) or self._queues.get(
                (call.method, path.split("?")[0])
            )
            if queue:
                return queue.pop(0) if len(queue) > 1 else queue[0]
            self.unmatched.append(call)
        text = f"scripted_server: nothing queued for {call.method} {call.path}"
        return 500, {"content-type": "application/json"}, jsonlib.dumps({"error": text}).encode()


class RecordingServer(_Served):
    """Answers from ``script`` (see the module docstring); ``requests`` records them."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: dict = {}
        super().__init__()

    def answer(self, call: Call) -> tuple[int, dict, bytes]:
        req = {"method": call.method, "path": call.path, "headers": call.headers, "body": call.body}
        self.requests.append(req)
        answer = self.script.get(
            (call.method, call.path.split("?")[0]), (404, {}, {"error": "not found"})
        )
        if callable(answer):
            answer = answer(req)
        status, headers, payload = answer
        data = payload if isinstance(payload, bytes) else jsonlib.dumps(payload).encode()
        return status, {"content-type": "application/json", **headers}, data


@pytest.fixture
def scripted_servers():
    """A factory of ScriptedServers (for tests that need two hosts); all closed at teardown,
    and a request nothing was queued for fails the test."""
    servers: list[_Served] = []

    def make(cls=ScriptedServer):
        srv = cls()
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.close()
    stray = [f"{c.method} {c.path}" for s in servers for c in getattr(s, "unmatched", ())]
    if stray:
        pytest.fail(f"scripted_server: requests nothing was queued for: {stray}")


@pytest.fixture
def scripted_server(scripted_servers):
    """One started ScriptedServer (see the module docstring)."""
    return scripted_servers()


@pytest.fixture
def recording_server(scripted_servers):
    """A factory of RecordingServers (see the module docstring)."""
    return lambda: scripted_servers(RecordingServer)


@pytest.fixture
def scripted_cli(recording_server, run_pystage, tmp_path):
    """A recording_server and ``.run(*args)``: the real pystage in a subprocess pointed
    at it, with an empty npmrc (no credentials), HOME=tmp_path, cwd tmp_path/work and
    fast retries."""
    server = recording_server()
    (tmp_path / "work").mkdir()
    (tmp_path / "npmrc").write_text("")

    def run(*args, env=None, **kw):
        return run_pystage(
            *args,
            "--registry",
            server.url,
            "--userconfig",
            tmp_path / "npmrc",
            cwd=kw.pop("cwd", tmp_path / "work"),
            env={"HOME": str(tmp_path), **FAST_RETRIES, **(env or {})},
            **kw,
        )

    server.run = run
    return server
