"""Regressions of the own HTTP/1.1 transport against the requests-based client it
replaced (commit 2413388), found by running both clients' CLIs against the same
misbehaving servers. Each test pins what the old client did right and the new one
did not, through a real loopback socket."""

from __future__ import annotations

import json
import socket
import struct
import threading

import pytest
from helpers import make

from pystage.errors import PystageError


class EarlyAnswerServer:
    """Reads a request's head and a little of its body, answers at once and closes
    without reading the rest (as a front server enforcing a body limit does); the
    kernel then resets the connection, since unread data was left."""

    def __init__(self, status: int, payload: dict, reset: bool) -> None:
        self.body = json.dumps(payload).encode()
        self.status = status
        self.reset = reset
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.request_lines: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as reader:
                self.request_lines.append(reader.readline().rstrip())
                while reader.readline() not in (b"\r\n", b""):
                    pass
                reader.read(64 * 1024)
                conn.sendall(
                    b"HTTP/1.1 %d Payload Too Large\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\nconnection: close\r\n\r\n%s"
                    % (self.status, len(self.body), self.body)
                )
                if self.reset:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def early_server():
    servers = []

    def start(status=413, payload=None, reset=False):
        server = EarlyAnswerServer(status, payload or {"error": "request entity too large"}, reset)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


BIG = b"x" * (32 * 1024 * 1024)  # far more than the socket buffers hold


def _pieces():
    for i in range(0, len(BIG), 1024 * 1024):
        yield BIG[i : i + 1024 * 1024]


class _Sized:
    """A sized iterable body, as the streamed publish document is."""

    def __len__(self):
        return len(BIG)

    def __iter__(self):
        return _pieces()


@pytest.mark.parametrize("reset", [False, True], ids=["close", "reset"])
@pytest.mark.parametrize("body", ["bytes", "sized-iterable"])
def test_an_answer_sent_before_the_upload_ended_is_returned(tmp_path, early_server, reset, body):
    # urllib3 reads the server's answer when sending the body broke off (the own
    # transport once said only that the connection broke)
    server = early_server(reset=reset)
    data = BIG if body == "bytes" else _Sized()
    client = make(tmp_path, server.url)
    resp = client.request("POST", "-/stage/package/big", data=data, expect=(413,))
    assert resp.status_code == 413
    assert resp.json() == {"error": "request entity too large"}


def test_a_publish_over_the_registrys_limit_is_its_413_not_a_socket_hang_up(tmp_path, early_server):
    server = early_server(payload={"error": "request body of 33554432 bytes is over the limit"})
    client = make(tmp_path, server.url)
    with pytest.raises(PystageError) as err:
        client.request("POST", "-/stage/package/big", data=_Sized())
    assert err.value.code == "E413"
    assert "over the limit" in err.value.message
    assert server.request_lines == [b"POST /-/stage/package/big HTTP/1.1"]  # never repeated


@pytest.mark.parametrize(
    ("location", "path"),
    [
        (b"/a b", "/a%20b"),  # requests quoted what a URL cannot carry
        (b"/caf\xc3\xa9", "/caf%C3%A9"),  # the header's UTF-8 bytes, escaped as such
        (b"/a%20b?q=x y", "/a%20b?q=x%20y"),  # escapes already there stay as they are
    ],
    ids=["space", "utf8", "escaped"],
)
def test_a_location_with_characters_a_url_cannot_carry_is_followed_escaped(
    tmp_path, scripted_server, location, path
):
    scripted_server.get(
        "-/stage",
        raw=b"HTTP/1.1 302 Found\r\nlocation: " + location + b"\r\ncontent-length: 0\r\n\r\n",
    )
    scripted_server.get(path, json={"items": []})
    assert make(tmp_path, scripted_server.url).json("GET", "-/stage") == {"items": []}
    assert [c.path for c in scripted_server.calls] == ["/-/stage", path]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "déjà vu".encode("latin-1")),  # requests read text/* as ISO-8859-1
        ("text/plain", "déjà vu".encode()),  # and UTF-8 stays UTF-8
        ("text/plain; charset=iso-8859-1", "déjà vu".encode("latin-1")),
    ],
    ids=["latin1-undeclared", "utf8-undeclared", "latin1-declared"],
)
def test_an_error_page_in_latin1_is_shown_as_text(tmp_path, scripted_server, content_type, body):
    scripted_server.get("-/stage/x", status=500, body=body, headers={"content-type": content_type})
    with pytest.raises(PystageError) as err:
        make(tmp_path, scripted_server.url, **{"fetch-retries": 0}).request("GET", "-/stage/x")
    assert err.value.code == "E500"
    assert err.value.message.endswith(" - déjà vu")
