"""The registry client against `responses`: error codes, retries, OTP challenges, redaction."""

from __future__ import annotations

import re

import pytest
import requests
import responses

from pystage.config import load_config
from pystage.errors import PystageError
from pystage.http import RegistryClient, redact, user_agent
from pystage.otp import OtpHandler

REG = "https://reg.example/"
TOKEN = "npm_" + "A" * 36


def make(
    tmp_path,
    npmrc=f"//reg.example/:_authToken={TOKEN}\n",
    otp=None,
    prompt=None,
    interactive=False,
    log=None,
    env=None,
    **cli,
):
    rc = tmp_path / "npmrc"
    rc.write_text(npmrc)
    config = load_config(
        cwd=tmp_path,
        env={"HOME": str(tmp_path), **(env or {})},
        cli={"registry": REG, "userconfig": str(rc), "globalconfig": str(tmp_path / "g"), **cli},
    )
    handler = OtpHandler(
        registry=REG,
        given=otp,
        interactive=interactive,
        env={},
        prompt=prompt,
        notify=lambda m: None,
        opener=lambda u: None,
        use_stored_secret=False,
        sleep=lambda s: None,
    )
    client = RegistryClient(config, otp=otp, otp_handler=handler, log=log, use_keyring=False)
    client.sleep = lambda s: None
    return client


@responses.activate
def test_headers_auth_and_json(tmp_path):
    responses.get(REG + "-/whoami", json={"username": "alice"})
    client = make(tmp_path)
    assert client.json("GET", "-/whoami") == {"username": "alice"}
    sent = responses.calls[0].request.headers
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
        (
            404,
            {"error": "not found"},
            {},
            "E404",
            "404 Not Found - GET https://reg.example/-/stage/x",
        ),
        (409, {"error": "version already staged"}, {}, "E409", "version already staged"),
        (422, {"message": "invalid manifest"}, {}, "E422", "invalid manifest"),
        (500, {"error": "boom"}, {}, "E500", "boom"),
        (503, "<html>down</html>", {}, "E503", "down"),
    ],
)
@responses.activate
def test_status_codes_map_to_npm_codes(tmp_path, status, body, headers, code, text):
    kw = {"json": body} if isinstance(body, dict) else {"body": body}
    responses.get(REG + "-/stage/x", status=status, headers=headers, **kw)
    client = make(tmp_path, **{"fetch-retries": 0})
    with pytest.raises(PystageError) as err:
        client.request("GET", "-/stage/x")
    assert err.value.code == code
    assert text in err.value.message
    assert TOKEN not in err.value.message


@responses.activate
def test_not_logged_in_401_hints_at_login(tmp_path):
    responses.get(REG + "-/whoami", status=401, json={"error": "unauthorized"})
    with pytest.raises(PystageError) as err:
        make(tmp_path, npmrc="").request("GET", "-/whoami")
    assert err.value.code == "E401" and "pystage login" in err.value.hint


@responses.activate
def test_invalid_json_is_ejsonparse(tmp_path):
    responses.get(REG + "-/stage/x", body="<html>oops</html>", status=200)
    with pytest.raises(PystageError) as err:
        make(tmp_path).json("GET", "-/stage/x")
    assert err.value.code == "EJSONPARSE"


@responses.activate
def test_idempotent_requests_retry_on_5xx_and_429(tmp_path):
    responses.get(REG + "-/stage", status=503)
    responses.get(REG + "-/stage", status=429, headers={"retry-after": "0"})
    responses.get(REG + "-/stage", json={"items": []})
    waits = []
    client = make(tmp_path)
    client.sleep = waits.append
    assert client.json("GET", "-/stage") == {"items": []}
    assert len(responses.calls) == 3
    assert waits == [10.0, 0.0]  # npm's fetch-retry-mintimeout, then the server's retry-after


@responses.activate
def test_post_is_not_repeated_on_5xx(tmp_path):
    responses.post(REG + "-/stage/x/approve", status=502)
    with pytest.raises(PystageError) as err:
        make(tmp_path).request("POST", "-/stage/x/approve", json={})
    assert err.value.code == "E502"
    assert len(responses.calls) == 1


@responses.activate
def test_post_is_not_repeated_after_a_reset(tmp_path):
    responses.post(
        REG + "-/stage/package/x",
        body=requests.exceptions.ConnectionError("Connection aborted, reset by peer"),
    )
    with pytest.raises(PystageError) as err:
        make(tmp_path).request("POST", "-/stage/package/x", data=b"{}")
    assert err.value.code == "ECONNRESET"
    assert len(responses.calls) == 1


@responses.activate
def test_get_retries_connection_errors_then_reports_them(tmp_path):
    responses.get(REG + "-/stage", body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(PystageError) as err:
        make(tmp_path, **{"fetch-retries": 2}).request("GET", "-/stage")
    assert err.value.code == "ETIMEDOUT"
    assert len(responses.calls) == 3


def test_connection_refused_against_a_real_closed_port(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    client = make(tmp_path, registry=f"http://127.0.0.1:{port}/", **{"fetch-retries": 0})
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


@responses.activate
def test_otp_challenge_without_terminal_is_eotp_and_nothing_retried(tmp_path):
    responses.delete(REG + "-/stage/x", **OTP_401)
    with pytest.raises(PystageError) as err:
        make(tmp_path).request("DELETE", "-/stage/x")
    assert err.value.code == "EOTP" and "--otp" in err.value.hint
    assert len(responses.calls) == 1


@responses.activate
def test_otp_challenge_detected_from_body_alone(tmp_path):
    responses.post(
        REG + "-/stage/x/approve",
        status=401,
        json={"error": "This operation requires a one-time password"},
    )
    with pytest.raises(PystageError) as err:
        make(tmp_path).request("POST", "-/stage/x/approve")
    assert err.value.code == "EOTP"


@responses.activate
def test_otp_flag_is_sent_up_front(tmp_path):
    responses.post(REG + "-/stage/x/approve", json={"ok": True})
    make(tmp_path, otp="123 456").request("POST", "-/stage/x/approve")
    assert responses.calls[0].request.headers["npm-otp"] == "123456"


@responses.activate
def test_prompted_code_is_retried_once(tmp_path):
    responses.post(REG + "-/stage/x/approve", **OTP_401)
    responses.post(REG + "-/stage/x/approve", json={"ok": True})
    client = make(tmp_path, interactive=True, prompt=lambda text: "654321")
    assert client.json("POST", "-/stage/x/approve") == {"ok": True}
    assert "npm-otp" not in responses.calls[0].request.headers
    assert responses.calls[1].request.headers["npm-otp"] == "654321"


@responses.activate
def test_wrong_code_at_terminal_asks_once_more_then_fails(tmp_path):
    for _ in range(3):
        responses.post(
            REG + "-/stage/x/approve",
            status=401,
            headers={"www-authenticate": "OTP"},
            json={"error": "invalid otp 111111"},
        )
    codes = iter(["111111", "222222"])
    client = make(tmp_path, interactive=True, prompt=lambda text: next(codes))
    with pytest.raises(PystageError) as err:
        client.request("POST", "-/stage/x/approve")
    assert err.value.code == "EOTP"
    assert "refused" in err.value.message
    assert "111111" not in err.value.message  # the code is redacted even when echoed
    assert [c.request.headers.get("npm-otp") for c in responses.calls] == [None, "111111", "222222"]


@responses.activate
def test_wrong_flag_code_without_terminal_shows_registry_refusal(tmp_path):
    responses.post(
        REG + "-/stage/x/approve",
        status=401,
        headers={"www-authenticate": "OTP"},
        json={"error": "invalid one-time password"},
    )
    with pytest.raises(PystageError) as err:
        make(tmp_path, otp="999999").request("POST", "-/stage/x/approve")
    assert err.value.code == "EOTP"
    assert "invalid one-time password" in err.value.message
    assert len(responses.calls) == 1


@responses.activate
def test_web_otp_flow_polls_done_url_honouring_retry_after(tmp_path):
    responses.post(
        REG + "-/stage/x/approve",
        status=401,
        headers={"www-authenticate": "OTP"},
        json={"authUrl": "https://www.reg.example/auth/1", "doneUrl": REG + "-/v1/done?id=1"},
    )
    responses.get(REG + "-/v1/done", status=202, headers={"retry-after": "3"}, json={})
    responses.get(REG + "-/v1/done", status=202, json={})
    responses.get(REG + "-/v1/done", json={"token": "web-otp-token"})
    responses.post(REG + "-/stage/x/approve", json={"ok": True})
    opened, notes, waits = [], [], []
    rc = tmp_path / "npmrc"
    rc.write_text(f"//reg.example/:_authToken={TOKEN}\n")
    config = load_config(
        cwd=tmp_path, env={"HOME": str(tmp_path)}, cli={"registry": REG, "userconfig": str(rc)}
    )
    handler = OtpHandler(
        registry=REG,
        interactive=True,
        env={},
        opener=opened.append,
        notify=notes.append,
        use_stored_secret=False,
        sleep=waits.append,
    )
    client = RegistryClient(config, otp_handler=handler, use_keyring=False)
    assert client.json("POST", "-/stage/x/approve") == {"ok": True}
    assert opened == ["https://www.reg.example/auth/1"]
    assert "https://www.reg.example/auth/1" in notes[0]
    assert waits == [3.0, 1.0]
    assert responses.calls[-1].request.headers["npm-otp"] == "web-otp-token"
    # the done poll is on the registry host: it carries the registry credential
    assert responses.calls[1].request.headers["authorization"] == f"Bearer {TOKEN}"


@responses.activate
def test_web_otp_flow_times_out(tmp_path):
    responses.post(
        REG + "-/x",
        status=401,
        headers={"www-authenticate": "OTP"},
        json={"authUrl": REG + "auth", "doneUrl": REG + "done"},
    )
    responses.get(REG + "done", status=202, headers={"retry-after": "10"}, json={})
    now = [0.0]

    def sleep(s):
        now[0] += s

    rc = tmp_path / "npmrc"
    rc.write_text("")
    config = load_config(
        cwd=tmp_path, env={"HOME": str(tmp_path)}, cli={"registry": REG, "userconfig": str(rc)}
    )
    handler = OtpHandler(
        registry=REG,
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
        RegistryClient(config, otp_handler=handler, use_keyring=False).request("POST", "-/x")
    assert err.value.code == "ETIMEDOUT"
    assert now[0] == 20.0


@responses.activate
def test_streamed_body_is_not_replayed_on_challenge(tmp_path):
    responses.post(REG + "-/stage/package/x", **OTP_401)
    client = make(tmp_path, interactive=True, prompt=lambda t: "123456")
    with pytest.raises(PystageError) as err:
        client.request("POST", "-/stage/package/x", data=iter([b"{", b"}"]))
    assert err.value.code == "EOTP"
    assert len(responses.calls) == 1


# -- redaction and --verbose ------------------------------------------------------


@responses.activate
def test_verbose_log_and_errors_never_show_secrets(tmp_path):
    responses.get(
        REG + "-/stage/x",
        status=400,
        json={"error": f"token {TOKEN} is not valid for https://u:pw@reg.example/"},
    )
    lines = []
    client = make(tmp_path, log=lines.append, otp="246810")
    with pytest.raises(PystageError) as err:
        client.request("GET", "-/stage/x")
    text = err.value.message + "\n".join(lines)
    assert TOKEN not in text and "246810" not in text and "pw@" not in text
    assert any(line.startswith("http GET 400 https://reg.example/-/stage/x") for line in lines)


def test_redact_patterns():
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
    assert redact("//h/:_authToken=xyz") == "//h/:_authToken=***"
    assert redact("otpauth://totp/x?secret=ABC") == "otpauth://***"
    assert redact('{"password": "hunter2"}') == '{"password": "***"}'
    assert redact("my secret value here", ["secret value"]) == "my *** here"
