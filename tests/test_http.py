"""The registry client against a real loopback server (tests/fixtures_scripted.py):
error codes, retries, OTP challenges, resets, timeouts, redaction."""

from __future__ import annotations

import re

import pytest
from helpers import TOKEN, make, token_line  # noqa: F401

from pystage.config import load_config
from pystage.context import client_from_config
from pystage.errors import PystageError
from pystage.http import user_agent
from pystage.otp import OtpHandler
from pystage.redact import redact


def test_headers_auth_and_json(tmp_path, scripted_server):
    scripted_server.get("-/whoami", json={"username": "alice"})
    client = make(tmp_path, scripted_server.url)
    assert client.json("GET", "-/whoami") == {"username": "alice"}
    sent = scripted_server.calls[0].headers
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
def test_status_codes_map_to_npm_codes(
    tmp_path, scripted_server, status, body, headers, code, text
):
    kw = {"json": body} if isinstance(body, dict) else {"body": body}
    scripted_server.get("-/stage/x", status=status, headers=headers, **kw)
    client = make(tmp_path, scripted_server.url, **{"fetch-retries": 0})
    with pytest.raises(PystageError) as err:
        client.request("GET", "-/stage/x")
    assert err.value.code == code
    assert text.format(url=scripted_server.url) in err.value.message
    assert TOKEN not in err.value.message
    assert len(scripted_server.calls) == 1


def test_not_logged_in_401_hints_at_login(tmp_path, scripted_server):
    scripted_server.get("-/whoami", status=401, json={"error": "unauthorized"})
    with pytest.raises(PystageError) as err:
        make(tmp_path, scripted_server.url, npmrc="").request("GET", "-/whoami")
    assert err.value.code == "E401" and "pystage login" in err.value.hint
    assert "authorization" not in scripted_server.calls[0].headers


def test_invalid_json_is_ejsonparse(tmp_path, scripted_server):
    scripted_server.get("-/stage/x", body="<html>oops</html>", status=200)
    with pytest.raises(PystageError) as err:
        make(tmp_path, scripted_server.url).json("GET", "-/stage/x")
    assert err.value.code == "EJSONPARSE"


def test_idempotent_requests_retry_on_5xx_and_429(tmp_path, scripted_server):
    # the 503 carries a body the client never reads before retrying on the same server
    scripted_server.get("-/stage", status=503, body="<html>busy</html>")
    scripted_server.get("-/stage", status=429, headers={"retry-after": "0"})
    scripted_server.get("-/stage", json={"items": []})
    waits = []
    client = make(tmp_path, scripted_server.url)
    client.sleep = waits.append
    assert client.json("GET", "-/stage") == {"items": []}
    assert len(scripted_server.calls) == 3
    assert waits == [10.0, 0.0]  # npm's fetch-retry-mintimeout, then the server's retry-after


def test_post_is_not_repeated_on_5xx(tmp_path, scripted_server):
    scripted_server.post("-/stage/x/approve", status=502)
    with pytest.raises(PystageError) as err:
        make(tmp_path, scripted_server.url).request("POST", "-/stage/x/approve", json={})
    assert err.value.code == "E502"
    assert len(scripted_server.calls) == 1


def test_post_is_not_repeated_after_a_reset(tmp_path, scripted_server):
    # the server reads the whole POST, then hangs up without answering: the registry may
    # have acted on it, so repeating it could stage twice
    scripted_server.post("-/stage/package/x", reset=True)
    with pytest.raises(PystageError) as err:
        make(tmp_path, scripted_server.url).request("POST", "-/stage/package/x", data=b"{}")
    assert err.value.code == "ECONNRESET"
    assert [(c.method, c.body) for c in scripted_server.calls] == [("POST", b"{}")]


def test_get_retries_connection_errors_then_reports_them(tmp_path, scripted_server):
    # every answer comes 30 s late (cut short at teardown), the client waits 500 ms
    scripted_server.get("-/stage", delay=30, json={})
    client = make(tmp_path, scripted_server.url, **{"fetch-retries": 2, "fetch-timeout": 500})
    with pytest.raises(PystageError) as err:
        client.request("GET", "-/stage")
    assert err.value.code == "ETIMEDOUT"
    assert len(scripted_server.calls) == 3


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


def test_otp_challenge_without_terminal_is_eotp_and_nothing_retried(tmp_path, scripted_server):
    scripted_server.delete("-/stage/x", **OTP_401)
    with pytest.raises(PystageError) as err:
        make(tmp_path, scripted_server.url).request("DELETE", "-/stage/x")
    assert err.value.code == "EOTP" and "--otp" in err.value.hint
    assert len(scripted_server.calls) == 1


def test_otp_challenge_detected_from_body_alone(tmp_path, scripted_server):
    scripted_server.post(
        "-/stage/x/approve",
        status=401,
        json={"error": "This operation requires a one-time password"},
    )
    with pytest.raises(PystageError) as err:
        make(tmp_path, scripted_server.url).request("POST", "-/stage/x/approve")
    assert err.value.code == "EOTP"


def test_otp_flag_is_sent_up_front(tmp_path, scripted_server):
    scripted_server.post("-/stage/x/approve", json={"ok": True})
    make(tmp_path, scripted_server.url, otp="123 456").request("POST", "-/stage/x/approve")
    assert scripted_server.calls[0].headers["npm-otp"] == "123456"


def test_prompted_code_is_retried_once(tmp_path, scripted_server):
    scripted_server.post("-/stage/x/approve", **OTP_401)
    scripted_server.post("-/stage/x/approve", json={"ok": True})
    client = make(tmp_path, scripted_server.url, interactive=True, prompt=lambda text: "654321")
    assert client.json("POST", "-/stage/x/approve") == {"ok": True}
    assert "npm-otp" not in scripted_server.calls[0].headers
    assert scripted_server.calls[1].headers["npm-otp"] == "654321"
    assert len(scripted_server.calls) == 2


def test_wrong_code_at_terminal_asks_once_more_then_fails(tmp_path, scripted_server):
    for _ in range(3):
        scripted_server.post(
            "-/stage/x/approve",
            status=401,
            headers={"www-authenticate": "OTP"},
            json={"error": "invalid otp 111111"},
        )
    codes = iter(["111111", "222222"])
    client = make(tmp_path, scripted_server.url, interactive=True, prompt=lambda text: next(codes))
    with pytest.raises(PystageError) as err:
        client.request("POST", "-/stage/x/approve")
    assert err.value.code == "EOTP"
    assert "refused" in err.value.message
    assert "111111" not in err.value.message  # the code is redacted even when echoed
    sent = [c.headers.get("npm-otp") for c in scripted_server.calls]
    assert sent == [None, "111111", "222222"]


def test_wrong_flag_code_without_terminal_shows_registry_refusal(tmp_path, scripted_server):
    scripted_server.post(
        "-/stage/x/approve",
        status=401,
        headers={"www-authenticate": "OTP"},
        json={"error": "invalid one-time password"},
    )
    with pytest.raises(PystageError) as err:
        make(tmp_path, scripted_server.url, otp="999999").request("POST", "-/stage/x/approve")
    assert err.value.code == "EOTP"
    assert "invalid one-time password" in err.value.message
    assert len(scripted_server.calls) == 1


def test_web_otp_flow_polls_done_url_honouring_retry_after(tmp_path, scripted_server):
    reg = scripted_server.url
    scripted_server.post(
        "-/stage/x/approve",
        status=401,
        headers={"www-authenticate": "OTP"},
        json={"authUrl": "https://www.reg.example/auth/1", "doneUrl": reg + "-/v1/done?id=1"},
    )
    scripted_server.get("-/v1/done", status=202, headers={"retry-after": "3"}, json={})
    scripted_server.get("-/v1/done", status=202, json={})
    scripted_server.get("-/v1/done", json={"token": "web-otp-token"})
    scripted_server.post("-/stage/x/approve", json={"ok": True})
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
    calls = scripted_server.calls
    assert [(c.method, c.path) for c in calls] == [
        ("POST", "/-/stage/x/approve"),
        *[("GET", "/-/v1/done?id=1")] * 3,
        ("POST", "/-/stage/x/approve"),
    ]
    assert calls[-1].headers["npm-otp"] == "web-otp-token"
    # the done poll is on the registry host: it carries the registry credential
    assert calls[1].headers["authorization"] == f"Bearer {TOKEN}"


def test_web_otp_flow_times_out(tmp_path, scripted_server):
    reg = scripted_server.url
    scripted_server.post(
        "-/x",
        status=401,
        headers={"www-authenticate": "OTP"},
        json={"authUrl": reg + "auth", "doneUrl": reg + "done"},
    )
    scripted_server.get("done", status=202, headers={"retry-after": "10"}, json={})
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
    assert [c.path for c in scripted_server.calls if c.method == "POST"] == ["/-/x"]


def test_streamed_body_is_not_replayed_on_challenge(tmp_path, scripted_server):
    scripted_server.post("-/stage/package/x", **OTP_401)
    client = make(tmp_path, scripted_server.url, interactive=True, prompt=lambda t: "123456")
    with pytest.raises(PystageError) as err:
        client.request("POST", "-/stage/package/x", data=iter([b"{", b"}"]))
    assert err.value.code == "EOTP"
    assert [c.body for c in scripted_server.calls] == [b"{}"]


# -- redaction and --verbose ------------------------------------------------------


def test_verbose_log_and_errors_never_show_secrets(tmp_path, scripted_server):
    scripted_server.get(
        "-/stage/x",
        status=400,
        json={"error": f"token {TOKEN} is not valid for https://u:pw@reg.example/"},
    )
    lines = []
    client = make(tmp_path, scripted_server.url, log=lines.append, otp="246810")
    with pytest.raises(PystageError) as err:
        client.request("GET", "-/stage/x")
    text = err.value.message + "\n".join(lines)
    assert TOKEN not in text and "246810" not in text and "pw@" not in text
    assert any(line.startswith(f"http GET 400 {scripted_server.url}-/stage/x") for line in lines)
    # the secrets did go over the wire: there was something to redact
    assert scripted_server.calls[0].headers["npm-otp"] == "246810"


def test_redact_patterns():
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
    assert redact("//h/:_authToken=xyz") == "//h/:_authToken=***"
    assert redact("otpauth://totp/x?secret=ABC") == "otpauth://***"
    assert redact('{"password": "hunter2"}') == '{"password": "***"}'
    assert redact("my secret value here", ["secret value"]) == "my *** here"


# -- the wire: connections and answer forms ---------------------------------------


def test_consecutive_requests_share_one_keep_alive_connection(tmp_path, scripted_server):
    scripted_server.get("-/whoami", json={"username": "alice"})
    scripted_server.get("-/stage", json={"items": []})
    client = make(tmp_path, scripted_server.url)
    client.json("GET", "-/whoami")
    client.json("GET", "-/stage")
    client.json("GET", "-/whoami")
    assert [c.connection for c in scripted_server.calls] == [1, 1, 1]


def test_a_connection_the_server_dropped_is_replaced_without_repeating_a_post(
    tmp_path, scripted_server
):
    # the first answer ends with the server closing the connection, unannounced, as a
    # server's idle timeout does; the POST must go out once, on a new connection
    scripted_server.get("-/whoami", json={"username": "alice"}, close=True)
    scripted_server.post("-/stage/x/approve", json={"ok": True})
    client = make(tmp_path, scripted_server.url)
    client.json("GET", "-/whoami")
    assert scripted_server.wait_closed(1)
    assert client.json("POST", "-/stage/x/approve", json={}) == {"ok": True}
    assert [(c.method, c.connection) for c in scripted_server.calls] == [("GET", 1), ("POST", 2)]


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
def test_answer_forms_a_registry_may_send(tmp_path, scripted_server, raw):
    scripted_server.get("-/stage/x", raw=raw)
    assert make(tmp_path, scripted_server.url).json("GET", "-/stage/x") == {"ok": True}


def test_a_garbage_answer_is_a_network_error_and_a_get_is_retried(tmp_path, scripted_server):
    scripted_server.get("-/stage", raw=b"SSH-2.0-OpenSSH_9.6\r\n")
    with pytest.raises(PystageError) as err:
        make(tmp_path, scripted_server.url, **{"fetch-retries": 1}).request("GET", "-/stage")
    assert err.value.code == "ECONNRESET"
    assert len(scripted_server.calls) == 2
