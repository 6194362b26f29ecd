"""What a registry says while asking for a one-time password reaches the terminal inert.

An OTP challenge brings registry text to a person at a terminal: the web
authentication URL (shown, opened in a browser, its ``doneUrl`` polled), the
text of a refused code (shown before asking again), and the ``npm-notice``
header Verdaccio sends with each challenge. Each case runs the real pystage on a
pseudo-terminal (stdin, stdout and stderr are a terminal, outside CI) against a
hostile loopback registry (``fixtures_hostile``): every escape is shown
escaped, no line of pystage's own is forged, and nothing but a plain http(s)
URL is ever offered to the browser.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fixtures_hostile import MARKUP, NASTY, OSC8, OTP, TOKEN, answer

FORGED = "pystage error EFORGED: this line was written by the registry"


def challenge(body=None, notice=None):
    headers = {"www-authenticate": "OTP"}
    if notice is not None:
        # a header's bytes are UTF-8 on the wire; http.server writes str as latin-1
        headers["npm-notice"] = notice.encode("utf-8").decode("latin-1")
    return answer(401, json_body=body or {"error": "OTP required"}, headers=headers)


def revoke_route(hostile, first, *, code=OTP):
    """DELETE of the token: ``first`` without a code, 200 with ``code``, else a refusal."""

    def route(req):
        sent = req.headers.get("npm-otp")
        if sent is None:
            return first(req) if callable(first) else first
        if sent == code:
            return answer(200, json_body={})
        return challenge({"error": f"wrong code {NASTY}\n{FORGED} {MARKUP}"})

    hostile.routes[("DELETE", f"/-/user/token/{quote(TOKEN, safe='')}")] = route


def lines_of(result):
    return result.stderr.splitlines()


def test_the_web_authentication_url_is_shown_whole_and_polled(hostile):
    auth = f"{hostile.url}-/auth/[bold]x[/bold]?q=[link=http://evil.example/]y"
    done = f"{hostile.url}-/auth/done"
    revoke_route(hostile, challenge({"authUrl": auth, "doneUrl": done}))
    hostile.routes[("GET", "/-/auth/done")] = answer(json_body={"token": OTP})
    result = hostile.run_at_terminal("logout")
    assert result.returncode == 0, result.stderr
    assert "Authenticate your account at:" in result.stderr
    assert auth in lines_of(result)  # on a line of its own, markup and all, as sent
    assert hostile.paths()[-2:] == ["/-/auth/done", f"/-/user/token/{TOKEN}"]
    assert hostile.requests[-1].headers["npm-otp"] == OTP


@pytest.mark.parametrize(
    "auth_url",
    [
        f"http://127.0.0.1/auth\n{FORGED}",
        f"http://127.0.0.1/auth\r{FORGED}",
        f"http://127.0.0.1/\x1b[2J{OSC8}",
        "http://127.0.0.1/\u202eevil",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://127.0.0.1/a b",
        12345,
        ["http://127.0.0.1/"],
    ],
    ids=[
        "newline",
        "carriage-return",
        "escapes",
        "bidi",
        "javascript",
        "file",
        "space",
        "number",
        "list",
    ],
)
def test_an_authentication_url_that_is_not_a_plain_url_is_refused(hostile, auth_url):
    done = f"{hostile.url}-/auth/done"
    revoke_route(hostile, challenge({"authUrl": auth_url, "doneUrl": done}))
    hostile.routes[("GET", "/-/auth/done")] = answer(json_body={"token": OTP})
    result = hostile.run_at_terminal("logout")
    assert result.returncode == 1, result.stderr
    errors = [line for line in lines_of(result) if line.startswith("pystage error")]
    assert len(errors) == 1 and errors[0].startswith("pystage error EWEBAUTH:"), result.stderr
    assert "Authenticate your account at:" not in result.stderr
    assert "/-/auth/done" not in hostile.paths()  # neither polled nor, so, trusted


def test_an_invalid_done_url_is_refused_before_the_browser(hostile):
    auth = f"{hostile.url}-/auth/x"
    revoke_route(hostile, challenge({"authUrl": auth, "doneUrl": "file:///etc/passwd"}))
    result = hostile.run_at_terminal("logout")
    assert result.returncode == 1
    assert "pystage error EWEBAUTH:" in result.stderr
    assert "Authenticate your account at:" not in result.stderr


def test_a_refused_codes_text_is_one_escaped_line_before_asking_again(hostile):
    revoke_route(hostile, challenge())
    result = hostile.run_at_terminal("logout", "--otp", "111111", answers=[("Enter OTP:", OTP)])
    assert result.returncode == 0, result.stderr
    refused = [line for line in lines_of(result) if "refused the one-time password" in line]
    assert len(refused) == 1, result.stderr
    assert "wrong code a\\x1b[2J\\x1b[1;1Hb\\rc" in refused[0]
    assert f"\\n{FORGED} {MARKUP}" in refused[0]  # the registry's line break, shown
    assert not any(line.startswith(FORGED) for line in lines_of(result))
    assert hostile.requests[-1].headers["npm-otp"] == OTP


def test_the_notice_of_a_challenge_is_shown_escaped_before_the_prompt(hostile):
    # (no CR: a bare CR in a header is a framing matter, see test_client_deadlines.py)
    notice = f"Verdaccio: use the web UI {NASTY.replace(chr(13), '')} {MARKUP}"
    revoke_route(hostile, challenge(notice=notice))
    result = hostile.run_at_terminal("logout", answers=[("Enter OTP:", OTP)])
    assert result.returncode == 0, result.stderr
    shown = [line for line in lines_of(result) if line.startswith("pystage notice ")]
    escaped = (
        r"a\x1b[2J\x1b[1;1Hbc\x07\x08\u202eevil\u2066"
        r"\x1b]8;;http://evil.example/\x1b\click me\x1b]8;;\x1b\\x9b31m"
    )
    assert shown == [f"pystage notice Verdaccio: use the web UI {escaped} {MARKUP}"]
    assert result.stderr.index("pystage notice") < result.stderr.index("Enter OTP:")
