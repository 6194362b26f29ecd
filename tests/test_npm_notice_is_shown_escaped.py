"""The registry's ``npm-notice`` header is shown as npm shows it, and shown inert.

npm-registry-fetch logs an ``npm-notice`` header of any answer as ``npm notice
<text>`` (the public registry uses it for deprecations of the API, Verdaccio with
each one-time password challenge); pystage writes ``pystage notice <text>`` on
stderr, hidden by ``--quiet`` as npm's ``loglevel=warn`` hides it. The text is the
registry's: escaped, cut to one line of at most 1,000 characters, and masked of
any secret it echoes. Over real sockets against a hostile loopback registry
(``fixtures_hostile``); the challenge case at a terminal is in
``test_otp_challenge_text_is_shown_inert.py``.
"""

from __future__ import annotations

import json

import pytest
from fixtures_hostile import MARKUP, NASTY, SID, TOKEN, answer, item, listing


def with_notice(status=200, *, notice, **kwargs):
    status, headers, body = answer(status, **kwargs)
    # a header's bytes are UTF-8 on the wire; http.server writes str as latin-1
    headers["npm-notice"] = notice.encode("utf-8").decode("latin-1")
    return status, headers, body


# (no CR: a bare CR in a header is a framing matter, see test_client_deadlines.py)
HOSTILE_NOTICE = f"read {NASTY.replace(chr(13), '')} {MARKUP}"
ESCAPED_NOTICE = (
    r"read a\x1b[2J\x1b[1;1Hbc\x07\x08\u202eevil\u2066"
    r"\x1b]8;;http://evil.example/\x1b\click me\x1b]8;;\x1b\\x9b31m"
    f" {MARKUP}"
)


def notices(result):
    return [line for line in result.stderr.splitlines() if line.startswith("pystage notice")]


def test_a_notice_on_an_ordinary_answer_is_shown_once_on_stderr(hostile):
    hostile.routes[("GET", "/-/whoami")] = with_notice(
        notice="this registry is read-only on Sundays", json_body={"username": "alice"}
    )
    result = hostile.run("whoami")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "alice\n"
    assert notices(result) == ["pystage notice this registry is read-only on Sundays"]


@pytest.mark.parametrize(
    "args", [["list"], ["list", "--json"], ["view", SID], ["view", SID, "--json"], ["whoami"]]
)
def test_a_hostile_notice_is_escaped_and_markup_is_text(hostile, args):
    hostile.routes[("GET", "/-/stage")] = with_notice(
        notice=HOSTILE_NOTICE, json_body={"items": [item()], "total": 1}
    )
    hostile.routes[("GET", f"/-/stage/{SID}")] = with_notice(
        notice=HOSTILE_NOTICE, json_body=item()
    )
    hostile.routes[("GET", "/-/whoami")] = with_notice(
        notice=HOSTILE_NOTICE, json_body={"username": "alice"}
    )
    result = hostile.run(*args)
    assert result.returncode == 0, result.stderr
    assert notices(result) == [f"pystage notice {ESCAPED_NOTICE}"]
    if "--json" in args:
        json.loads(result.stdout)  # stdout stays the JSON document alone


def test_a_notice_with_an_error_answer_is_shown_before_the_error(hostile):
    hostile.routes[("GET", "/-/stage")] = with_notice(
        503, notice="maintenance until 18:00", json_body={"error": "down"}
    )
    result = hostile.run("list")
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert lines[0] == "pystage notice maintenance until 18:00"
    assert lines[1].startswith("pystage error E503:")


def test_quiet_hides_the_notice(hostile):
    hostile.routes[("GET", "/-/whoami")] = with_notice(
        notice="hello", json_body={"username": "alice"}
    )
    result = hostile.run("whoami", "--quiet")
    assert result.returncode == 0, result.stderr
    assert notices(result) == []


def test_a_notice_echoing_the_token_is_masked(hostile):
    hostile.routes[("GET", "/-/whoami")] = with_notice(
        notice=f"you sent {TOKEN}, Bearer {TOKEN}", json_body={"username": "alice"}
    )
    result = hostile.run("whoami")
    assert notices(result) == ["pystage notice you sent ***, Bearer ***"]


def test_a_giant_notice_is_one_line_cut_short(hostile):
    hostile.routes[("GET", "/-/whoami")] = with_notice(
        notice="n" * 60_000, json_body={"username": "alice"}
    )
    result = hostile.run("whoami")
    assert result.returncode == 0, result.stderr
    (shown,) = notices(result)
    assert len(shown) < 1100 and shown.endswith("more characters)")


def test_one_notice_per_answer_of_a_paged_list(hostile):
    import uuid

    def page(req):
        n = int(req.query.get("page", 0))
        items = [item(str(uuid.UUID(int=n * 100 + i))) for i in range(100 if n == 0 else 1)]
        status, headers, body = listing(*items, total=101)
        headers["npm-notice"] = f"page {n}"
        return status, headers, body

    hostile.routes[("GET", "/-/stage")] = page
    result = hostile.run("list", "--json")
    assert result.returncode == 0, result.stderr
    assert notices(result) == ["pystage notice page 0", "pystage notice page 1"]
