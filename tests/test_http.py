"""The registry client: headers, error codes, retries, OTP challenges, redaction,
in-process with ``responses`` (no socket, no real time); resets, timeouts and odd
answer forms over a real socket (helpers.RawServer)."""

from __future__ import annotations

import json
import re
import socket
import struct
import threading

import pytest
import responses
from helpers import TOKEN, RawServer, answer, make, token_line  # noqa: F401

from pystage.config import load_config
from pystage.context import client_from_config
from pystage.errors import PystageError
from pystage.http import user_agent
from pystage.otp import OtpHandler
from pystage.redact import redact

REG = "http://registry.test/"  # answered in-process by ``responses``


@pytest.fixture
def registry():
    """The registry at REG, scripted with ``responses`` (answers per URL in order, the
    last one repeating); ``registry.calls`` records the requests."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def raw_server():
    """Start RawServers (helpers.py) for what only a misbehaving socket shows."""
    servers = []

    def start(handler):
        servers.append(RawServer(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_headers_auth_and_json(tmp_path, registry):
    registry.get(REG + "-/whoami", json={"username": "alice"})
    client = make(tmp_path, REG)
    assert client.json("GET", "-/whoami") == {"username": "alice"}
    sent = registry.calls[0].request.headers
    assert sent["authorization"] == f"Bearer {TOKEN}"
    assert sent["npm-command"] == "stage"
    assert re.match(r"^pystage/\S+ python/\d+\.\d+\.\d+ \w+ \w+$", sent["user-agent"])
    assert sent["user-agent"] == user_agent()


@pytest.mark.parametrize(
    "status,body,headers,code,text",
    [
        (401, {"error": "bad token"}, {}, "E401", "bad token"),
        (401, {}, {"www-authenticate": "Basic realm=x"}, "E401", "need: Basic realm=x"),
        (401, {}, {"www-authenticate": "ipaddress"}, "EAUTHIP", "IP address"),
        (403, {"error": "you do not have permission"}, {}, "E403", "you do not have permission"),
        (404, {"error": "not found"}, {}, "E404", "404 Not Found - GET {url}-/stage/x"),
        (409, {"error": "version already staged"}, {}, "E409", "version already staged"),
        (422, {"message": "invalid manifest"}, {}, "E422", "invalid manifest"),
        (500, {"error": "boom"}, {}, "E500", "boom"),
        (503, "<html>down</html>", {}, "E503", "down"),
    ],
)
def test_status_codes_map_to_npm_codes(tmp_path, registry, status, body, headers, code, text):
    kw = {"json": body} if isinstance(body, dict) else {"body": body}
    registry.get(REG + "-/stage/x", status=status, headers=headers, **kw)
    client = make(tmp_path, REG, **{"fetch-retries": 0})
    with pytest.raises(PystageError) as err:
        client.request("GET", "-/stage/x")
    assert err.value.code == code
    assert text.format(url=REG) in err.value.message
    assert TOKEN not in err.value.message
    assert len(registry.calls) == 1


def test_not_logged_in_401_hints_at_login(tmp_path, registry):
    registry.get(REG + "-/whoami", status=401, json={"error": "unauthorized"})
    with pytest.raises(PystageError) as err:
        make(tmp_path, REG, npmrc="").request("GET", "-/whoami")
    assert err.value.code == "E401" and "pystage login" in err.value.hint
    assert "authorization" not in registry.calls[0].request.headers


def test_invalid_json_is_ejsonparse(tmp_path, registry):
    registry.get(REG + "-/stage/x", body="<html>oops</html>", status=200)
    with pytest.raises(PystageError) as err:
        make(tmp_path, REG).json("GET", "-/stage/x")
    assert err.value.code == "EJSONPARSE"


def test_idempotent_requests_retry_on_5xx_and_429(tmp_path, registry):
    # the 503 carries a body the client never reads before retrying on the same server
    registry.get(REG + "-/stage", status=503, body="<html>busy</html>")
    registry.get(REG + "-/stage", status=429, headers={"retry-after": "0"})
    registry.get(REG + "-/stage", json={"items": []})
    waits = []
    client = make(tmp_path, REG)
    client.sleep = waits.append
    assert client.json("GET", "-/stage") == {"items": []}
    assert len(registry.calls) == 3
    assert waits == [10.0, 0.0]  # npm's fetch-retry-mintimeout, then the server's retry-after


def test_post_is_not_repeated_on_5xx(tmp_path, registry):
    registry.post(REG + "-/stage/x/approve", status=502)
    with pytest.raises(PystageError) as err:
        make(tmp_path, REG).request("POST", "-/stage/x/approve", json={})
    assert err.value.code == "E502"
    assert len(registry.calls) == 1


def test_post_is_not_repeated_after_a_reset(tmp_path, raw_server):
    # the server reads the whole POST, then hangs up without answering: the registry may
    # have acted on it, so repeating it could stage twice
    def hang_up(conn, reader, n, server):
        server.read_request(reader)

    server = raw_server(hang_up)
    with pytest.raises(PystageError) as err:
        make(tmp_path, server.url + "/").request("POST", "-/stage/package/x", data=b"{}")
    assert err.value.code == "ECONNRESET"
    assert [(line, body) for line, _, body in server.requests] == [
        (b"POST /-/stage/package/x HTTP/1.1", b"{}")
    ]


def test_get_retries_connection_errors_then_reports_them(tmp_path, raw_server):
    # the server never answers (until teardown), the client waits 500 ms a try
    teardown = threading.Event()

    def silent(conn, reader, n, server):
        server.read_request(reader)
        teardown.wait(30)

    server = raw_server(silent)
    client = make(tmp_path, server.url + "/", **{"fetch-retries": 2, "fetch-timeout": 500})
    try:
        with pytest.raises(PystageError) as err:
            client.request("GET", "-/stage")
    finally:
        teardown.set()
    assert err.value.code == "ETIMEDOUT"
    assert len(server.requests) == 3


def test_connection_refused_against_a_real_closed_port(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    client = make(tmp_path, f"http://127.0.0.1:{port}/", **{"fetch-retries": 0})
    with pytest.raises(PystageError) as err:
        client.request("GET", "-/whoami")
    assert err.value.code == "ECONNREFUSED"
    assert f"127.0.0.1:{port}" in err.value.message


# -- OTP -------------------------------------------------------------------------

OTP_401 = {
    "status": 401,
    "headers": {"www-authenticate": "OTP"},
    "json": {"error": "You must provide a one-time pass."},
}


def test_otp_challenge_without_terminal_is_eotp_and_nothing_retried(tmp_path, registry):
    registry.delete(REG + "-/stage/x", **OTP_401)
    with pytest.raises(PystageError) as err:
        make(tmp_path, REG).request("DELETE", "-/stage/x")
    assert err.value.code == "EOTP" and "--otp" in err.value.hint
    assert len(registry.calls) == 1


def test_otp_challenge_detected_from_body_alone(tmp_path, registry):
    registry.post(
        REG + "-/stage/x/approve",
        status=401,
        json={"error": "This operation requires a one-time password"},
    )
    with pytest.raises(PystageError) as err:
        make(tmp_path, REG).request("POST", "-/stage/x/approve")
    assert err.value.code == "EOTP"


def test_otp_flag_is_sent_up_front(tmp_path, registry):
    registry.post(REG + "-/stage/x/approve", json={"ok": True})
    make(tmp_path, REG, otp="123 456").request("POST", "-/stage/x/approve")
    assert registry.calls[0].request.headers["npm-otp"] == "123456"


def test_prompted_code_is_retried_once(tmp_path, registry):
    registry.post(REG + "-/stage/x/approve", **OTP_401)
    registry.post(REG + "-/stage/x/approve", json={"ok": True})
    client = make(tmp_path, REG, interactive=True, prompt=lambda text: "654321")
    assert client.json("POST", "-/stage/x/approve") == {"ok": True}
    assert "npm-otp" not in registry.calls[0].request.headers
    assert registry.calls[1].request.headers["npm-otp"] == "654321"
    assert len(registry.calls) == 2


def test_wrong_code_at_terminal_asks_once_more_then_fails(tmp_path, registry):
    for _ in range(3):
        registry.post(
            REG + "-/stage/x/approve",
            status=401,
            headers={"www-authenticate": "OTP"},
            json={"error": "invalid otp 111111"},
        )
    codes = iter(["111111", "222222"])
    client = make(tmp_path, REG, interactive=True, prompt=lambda text: next(codes))
    with pytest.raises(PystageError) as err:
        client.request("POST", "-/stage/x/approve")
    assert err.value.code == "EOTP"
    assert "refused" in err.value.message
    assert "111111" not in err.value.message  # the code is redacted even when echoed
    sent = [c.request.headers.get("npm-otp") for c in registry.calls]
    assert sent == [None, "111111", "222222"]


def test_wrong_flag_code_without_terminal_shows_registry_refusal(tmp_path, registry):
    registry.post(
        REG + "-/stage/x/approve",
        status=401,
        headers={"www-authenticate": "OTP"},
        json={"error": "invalid one-time password"},
    )
    with pytest.raises(PystageError) as err:
        make(tmp_path, REG, otp="999999").request("POST", "-/stage/x/approve")
    assert err.value.code == "EOTP"
    assert "invalid one-time password" in err.value.message
    assert len(registry.calls) == 1


def test_web_otp_flow_polls_done_url_honouring_retry_after(tmp_path, registry):
    reg = REG
    registry.post(
        REG + "-/stage/x/approve",
        status=401,
        headers={"www-authenticate": "OTP"},
        json={"authUrl": "https://www.reg.example/auth/1", "doneUrl": reg + "-/v1/done?id=1"},
    )
    registry.get(REG + "-/v1/done", status=202, headers={"retry-after": "3"}, json={})
    registry.get(REG + "-/v1/done", status=202, json={})
    registry.get(REG + "-/v1/done", json={"token": "web-otp-token"})
    registry.post(REG + "-/stage/x/approve", json={"ok": True})
    opened, notes, waits = [], [], []
    rc = tmp_path / "npmrc"
    rc.write_text(token_line(reg))
    config = load_config(
        cwd=tmp_path, env={"HOME": str(tmp_path)}, cli={"registry": reg, "userconfig": str(rc)}
    )
    handler = OtpHandler(
        registry=reg,
        interactive=True,
        env={},
        opener=opened.append,
        notify=notes.append,
        use_stored_secret=False,
        sleep=waits.append,
    )
    client = client_from_config(config, otp_handler=handler, use_keyring=False)
    assert client.json("POST", "-/stage/x/approve") == {"ok": True}
    assert opened == ["https://www.reg.example/auth/1"]
    assert "https://www.reg.example/auth/1" in notes[0]
    assert waits == [3.0, 1.0]
    calls = registry.calls
    assert [(c.request.method, c.request.path_url) for c in calls] == [
        ("POST", "/-/stage/x/approve"),
        *[("GET", "/-/v1/done?id=1")] * 3,
        ("POST", "/-/stage/x/approve"),
    ]
    assert calls[-1].request.headers["npm-otp"] == "web-otp-token"
    # the done poll is on the registry host: it carries the registry credential
    assert calls[1].request.headers["authorization"] == f"Bearer {TOKEN}"


def test_web_otp_flow_times_out(tmp_path, registry):
    reg = REG
    registry.post(
        REG + "-/x",
        status=401,
        headers={"www-authenticate": "OTP"},
        json={"authUrl": reg + "auth", "doneUrl": reg + "done"},
    )
    registry.get(REG + "done", status=202, headers={"retry-after": "10"}, json={})
    now = [0.0]

    def sleep(s):
        now[0] += s

    rc = tmp_path / "npmrc"
    rc.write_text("")
    config = load_config(
        cwd=tmp_path, env={"HOME": str(tmp_path)}, cli={"registry": reg, "userconfig": str(rc)}
    )
    handler = OtpHandler(
        registry=reg,
        interactive=True,
        env={},
        opener=lambda u: None,
        notify=lambda m: None,
        use_stored_secret=False,
        sleep=sleep,
        clock=lambda: now[0],
        web_timeout=25,
    )
    with pytest.raises(PystageError) as err:
        client_from_config(config, otp_handler=handler, use_keyring=False).request("POST", "-/x")
    assert err.value.code == "ETIMEDOUT"
    assert now[0] == 20.0
    assert [c.request.path_url for c in registry.calls if c.request.method == "POST"] == ["/-/x"]


def test_streamed_body_is_not_replayed_on_challenge(tmp_path, scripted_server):
    scripted_server.post("-/stage/package/x", **OTP_401)
    client = make(tmp_path, scripted_server.url, interactive=True, prompt=lambda t: "123456")
    with pytest.raises(PystageError) as err:
        client.request("POST", "-/stage/package/x", data=iter([b"{", b"}"]))
    assert err.value.code == "EOTP"
    assert [c.body for c in scripted_server.calls] == [b"{}"]


# -- redaction and --verbose ------------------------------------------------------


def test_verbose_log_and_errors_never_show_secrets(tmp_path, registry):
    registry.get(
        REG + "-/stage/x",
        status=400,
        json={"error": f"token {TOKEN} is not valid for https://u:pw@reg.example/"},
    )
    lines = []
    client = make(tmp_path, REG, log=lines.append, otp="246810")
    with pytest.raises(PystageError) as err:
        client.request("GET", "-/stage/x")
    text = err.value.message + "\n".join(lines)
    assert TOKEN not in text and "246810" not in text and "pw@" not in text
    assert any(line.startswith(f"http GET 400 {REG}-/stage/x") for line in lines)
    # the secrets did go over the wire: there was something to redact
    assert registry.calls[0].request.headers["npm-otp"] == "246810"


def test_redact_patterns():
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
    assert redact("//h/:_authToken=xyz") == "//h/:_authToken=***"
    assert redact("otpauth://totp/x?secret=ABC") == "otpauth://***"
    assert redact('{"password": "hunter2"}') == '{"password": "***"}'
    assert redact("my secret value here", ["secret value"]) == "my *** here"


# -- the wire: connections and answer forms ---------------------------------------


# (that consecutive requests share one keep-alive connection is
# test_client_wire.py::test_consecutive_requests_reuse_one_connection)


def test_a_connection_the_server_dropped_is_replaced_without_repeating_a_post(tmp_path, raw_server):
    # the first answer ends with the server closing the connection, unannounced, as a
    # server's idle timeout does; the POST must go out once, on a new connection
    closed = threading.Event()

    def handler(conn, reader, n, server):
        server.read_request(reader)
        if n == 1:
            conn.sendall(answer(body=b'{"username": "alice"}'))
            # shutdown sends the FIN now; close() alone would wait for the reader's
            # reference to the socket to go, after closed.set(): a race with the POST
            conn.shutdown(socket.SHUT_RDWR)
            closed.set()
        else:
            conn.sendall(answer(body=b'{"ok": true}'))

    server = raw_server(handler)
    client = make(tmp_path, server.url + "/")
    client.json("GET", "-/whoami")
    assert closed.wait(10)
    assert client.json("POST", "-/stage/x/approve", json={}) == {"ok": True}
    assert [line.split()[0] for line, _, _ in server.requests] == [b"GET", b"POST"]
    assert server.connections == 2


def _answer_once(reply):
    """A RawServer handler: read the request, send ``reply`` as it is, close."""

    def handler(conn, reader, n, server):
        server.read_request(reader)
        conn.sendall(reply)

    return handler


@pytest.mark.parametrize(
    "raw",
    [
        # no reason phrase, no content-length: the body ends when the server closes
        b'HTTP/1.1 200\r\nContent-Type: application/json\r\n\r\n{"ok": true}',
        # HTTP/1.0, odd header case and spacing
        b'HTTP/1.0 200 OK\r\ncontent-TYPE:application/json\r\nContent-Length:  12 \r\n\r\n{"ok": true}',
        # chunked, with a chunk extension and a trailer
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5;x=y\r\n{"ok"\r\n7\r\n: true}\r\n0\r\nX-Trailer: 1\r\n\r\n',
    ],
    ids=["no-reason-read-to-close", "http10-odd-headers", "chunked"],
)
def test_answer_forms_a_registry_may_send(tmp_path, raw_server, raw):
    server = raw_server(_answer_once(raw))
    assert make(tmp_path, server.url + "/").json("GET", "-/stage/x") == {"ok": True}


def test_a_garbage_answer_is_a_network_error_and_a_get_is_retried(tmp_path, raw_server):
    server = raw_server(_answer_once(b"SSH-2.0-OpenSSH_9.6\r\n"))
    with pytest.raises(PystageError) as err:
        make(tmp_path, server.url + "/", **{"fetch-retries": 1}).request("GET", "-/stage")
    assert err.value.code == "ECONNRESET"
    assert len(server.requests) == 2


# -- an upload the registry answers before it has read it all ---------------------


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
    tmp_path, raw_server, location, path
):
    # a raw answer: no server framework lets a Location carry a space or raw UTF-8
    def handler(conn, reader, n, server):
        while request := server.read_request(reader):
            if request[0].split()[1] == b"/-/stage":
                conn.sendall(
                    b"HTTP/1.1 302 Found\r\nlocation: "
                    + location
                    + b"\r\ncontent-length: 0\r\n\r\n"
                )
            else:
                conn.sendall(answer(body=b'{"items": []}'))

    server = raw_server(handler)
    assert make(tmp_path, server.url + "/").json("GET", "-/stage") == {"items": []}
    assert [line.split()[1].decode() for line, _, _ in server.requests] == ["/-/stage", path]


# -- error pages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "déjà vu".encode("latin-1")),  # requests read text/* as ISO-8859-1
        ("text/plain", "déjà vu".encode()),  # and UTF-8 stays UTF-8
        ("text/plain; charset=iso-8859-1", "déjà vu".encode("latin-1")),
    ],
    ids=["latin1-undeclared", "utf8-undeclared", "latin1-declared"],
)
def test_an_error_page_in_latin1_is_shown_as_text(tmp_path, registry, content_type, body):
    registry.get(REG + "-/stage/x", status=500, body=body, content_type=content_type)
    with pytest.raises(PystageError) as err:
        make(tmp_path, REG, **{"fetch-retries": 0}).request("GET", "-/stage/x")
    assert err.value.code == "E500"
    assert err.value.message.endswith(" - déjà vu")
