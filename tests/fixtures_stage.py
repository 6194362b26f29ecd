"""Fixtures for the stage commands: a small scripted stage server that records
every request (the isolated npm is in fixtures_npm.py; packages and npmrc files
are made by helpers.py).

The scripted server speaks the stage endpoints of PROTOCOL.md from in-test
state, so npm and pystage can be run against the very same answers and their
requests and outputs compared (the embedded registry is used for the
end-to-end flows).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body_path: str | None = None

    def body_json(self):
        with open(self.body_path, "rb") as handle:
            return json.load(handle)


@dataclass
class StageServerState:
    items: list = field(default_factory=list)  # staged items, in listing order
    tarballs: dict = field(default_factory=dict)  # stage id -> tarball bytes
    packuments: dict = field(default_factory=dict)  # name -> packument
    otp: str | None = None  # approve/reject need this npm-otp header when set
    stage_id: str = "0f3c2a4e-1111-4222-8333-944445555666"
    requests: list = field(default_factory=list)
    approve_answers: dict = field(default_factory=dict)  # stage id -> (status, JSON body)


class ScriptedStageServer:
    def __init__(self, body_dir: str) -> None:
        self.state = StageServerState()
        self.body_dir = body_dir
        self._lock = threading.Lock()
        handler = self._handler_class()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def requests(self) -> list[Recorded]:
        return self.state.requests

    def clear(self) -> None:
        self.state.requests.clear()

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _record(self) -> Recorded:
                parts = urlsplit(self.path)
                body_path = None
                length = int(self.headers.get("content-length") or 0)
                if length:
                    with server._lock:
                        body_path = os.path.join(
                            server.body_dir, f"body-{len(server.requests)}.json"
                        )
                    with open(body_path, "wb") as handle:
                        remaining = length
                        while remaining:
                            chunk = self.rfile.read(min(remaining, 1 << 20))
                            if not chunk:
                                break
                            handle.write(chunk)
                            remaining -= len(chunk)
                rec = Recorded(
                    self.command,
                    unquote(parts.path),
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body_path,
                )
                with server._lock:
                    server.state.requests.append(rec)
                return rec

            def _send(self, status, payload=None, *, content_type="application/json", headers=None):
                data = b""
                if payload is not None:
                    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _item(self, stage_id):
                return next((i for i in server.state.items if i["id"] == stage_id), None)

            def _otp_ok(self, rec) -> bool:
                if server.state.otp and rec.headers.get("npm-otp") != server.state.otp:
                    self._send(
                        401,
                        {"error": "This operation requires a one-time password"},
                        headers={"www-authenticate": "OTP"},
                    )
                    return False
                return True

            def do_GET(self):
                rec = self._record()
                parts = rec.path.strip("/").split("/")
                state = server.state
                if rec.path == "/-/stage":
                    page = int(rec.query.get("page", ["0"])[0])
                    per = int(rec.query.get("perPage", ["100"])[0])
                    wanted = rec.query.get("package", [None])[0]
                    items = [i for i in state.items if not wanted or i["packageName"] == wanted]
                    self._send(
                        200,
                        {
                            "items": items[page * per : (page + 1) * per],
                            "total": len(items),
                            "page": page,
                            "perPage": per,
                        },
                    )
                elif parts[:2] == ["-", "stage"] and len(parts) == 3:
                    item = self._item(parts[2])
                    self._send(200, item) if item else self._send(404, {"error": "not found"})
                elif parts[:2] == ["-", "stage"] and len(parts) == 4 and parts[3] == "tarball":
                    data = state.tarballs.get(parts[2])
                    if data is None:
                        self._send(404, {"error": "not found"})
                    else:
                        self._send(200, data, content_type="application/octet-stream")
                else:
                    name = rec.path[1:]
                    packument = state.packuments.get(name)
                    self._send(200, packument) if packument else self._send(
                        404, {"error": "not found"}
                    )

            def do_POST(self):
                rec = self._record()
                parts = rec.path.strip("/").split("/")
                if rec.path.startswith("/-/stage/package/"):
                    self._send(201, {"stageId": server.state.stage_id, "message": "staged"})
                elif parts[:2] == ["-", "stage"] and len(parts) == 4 and parts[3] == "approve":
                    if not self._otp_ok(rec):
                        return
                    item = self._item(parts[2])
                    if not item:
                        return self._send(404, {"error": "not found"})
                    if parts[2] in server.state.approve_answers:
                        status, body = server.state.approve_answers[parts[2]]
                        return self._send(status, body)
                    server.state.items.remove(item)
                    self._send(200, {"ok": True, "id": item["id"]})
                else:
                    self._send(404, {"error": "not found"})

            def do_DELETE(self):
                rec = self._record()
                parts = rec.path.strip("/").split("/")
                if parts[:2] == ["-", "stage"] and len(parts) == 3:
                    if not self._otp_ok(rec):
                        return
                    item = self._item(parts[2])
                    if not item:
                        return self._send(404, {"error": "not found"})
                    server.state.items.remove(item)
                    self._send(204)
                else:
                    self._send(404, {"error": "not found"})

        return Handler


@pytest.fixture
def stage_server(tmp_path):
    body_dir = tmp_path / "bodies"
    body_dir.mkdir()
    server = ScriptedStageServer(str(body_dir))
    yield server
    server.stop()
