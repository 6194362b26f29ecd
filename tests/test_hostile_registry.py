"""The client against a hostile or broken registry, over real sockets.

Each case points the real ``python -m pystage`` at a small loopback registry
(``HostileRegistry`` in ``fixtures_hostile.py``: a plain ``http.server`` thread)
that sends what an attacker controlling a registry, or a broken one, would:
stage ids that are paths, escape sequences or numbers; fields, user names and
error messages full of terminal escapes and Rich markup; wrong types, lying
or endless pagination, giant fields, malformed JSON, wrong content types,
redirects to other hosts with credentials in them, tarballs whose names are
paths. Every case must end in a clean one-line error (or output with every
escape shown escaped), with no traceback, no file written outside the target
directory, no request built from a hostile id, and the token never printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

import pytest
from fixtures_hostile import (
    MARKUP,
    NASTY,
    OSC8,
    OTP,
    SID,
    SID2,
    TOKEN,
    Raw,
    answer,
    fails_with,
    item,
    listing,
    tgz,
)

# -- stage ids from the registry ------------------------------------------------------

BAD_IDS = [
    "../../../../tmp/x",
    "..%2f..%2f..%2ftmp%2fx",
    f"{SID}/../../../-/npm/v1/tokens",
    f"{SID}\n",
    f"{SID}\x1b[2J",
    f"\u202e{SID}",
    "http://evil.example/x",
    "",
    12345,
    None,
    [SID],
    {"id": SID},
    SID.replace("-", "/"),
    "0f3c2a4e-1111-4222-8333-94444555566\u0661",  # an Arabic-Indic digit: \d would take it
]
BAD_ID_NAMES = [
    "traversal",
    "encoded-traversal",
    "uuid-then-path",
    "trailing-newline",
    "escape-sequence",
    "bidi-override",
    "url",
    "empty",
    "number",
    "null",
    "list",
    "object",
    "slashes",
    "non-ascii-digit",
]


@pytest.mark.parametrize("bad", BAD_IDS, ids=BAD_ID_NAMES)
def test_list_refuses_a_listed_id_that_is_not_a_uuid(hostile, bad):
    hostile.routes[("GET", "/-/stage")] = listing(item(SID2, "other"), item(bad))
    error = fails_with(hostile.run("list"), "EBADRESPONSE")
    assert "invalid stage id" in error
    assert hostile.paths() == ["/-/stage"]


@pytest.mark.parametrize("command", ["view", "download", "approve", "reject"])
@pytest.mark.parametrize(
    "bad", [BAD_IDS[0], BAD_IDS[3], BAD_IDS[4]], ids=["traversal", "trailing-newline", "escape"]
)
def test_name_at_version_never_uses_a_listed_id_that_is_not_a_uuid(hostile, command, bad):
    hostile.routes[("GET", "/-/stage")] = listing(item(bad))
    args = [command, "pkg@1.0.0"] + (["--otp", OTP] if command in ("approve", "reject") else [])
    fails_with(hostile.run(*args), "EBADRESPONSE")
    assert hostile.paths() == ["/-/stage"]  # nothing was asked with the hostile id
    assert os.listdir(hostile.work) == []


def test_list_json_refuses_a_hostile_id_too(hostile):
    hostile.routes[("GET", "/-/stage")] = listing(item("../../x"))
    fails_with(hostile.run("list", "--json"), "EBADRESPONSE")


def test_an_uppercase_uuid_is_a_valid_listed_id(hostile):
    hostile.routes[("GET", "/-/stage")] = listing(item(SID.upper()))
    hostile.routes[("GET", f"/-/stage/{SID.upper()}")] = answer(json_body=item(SID.upper()))
    result = hostile.run("view", "pkg@1.0.0")
    assert result.returncode == 0, result.stderr
    assert f"id: {SID.upper()}" in result.stdout


@pytest.mark.parametrize("bad", BAD_IDS[:7] + [12345], ids=BAD_ID_NAMES[:7] + ["number"])
def test_view_refuses_an_item_whose_id_is_not_a_uuid(hostile, bad):
    hostile.routes[("GET", f"/-/stage/{SID}")] = answer(json_body=item(bad))
    error = fails_with(hostile.run("view", SID), "EBADRESPONSE")
    assert "invalid stage id" in error


def test_view_refuses_an_item_for_another_id(hostile):
    hostile.routes[("GET", f"/-/stage/{SID}")] = answer(json_body=item(SID2))
    error = fails_with(hostile.run("view", SID), "EBADRESPONSE")
    assert SID2 in error


@pytest.fixture
def package(tmp_path):
    pkg = tmp_path / "work" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({"name": "pkg", "version": "1.0.0"}))
    (pkg / "index.js").write_text("module.exports = 1\n")
    return pkg


@pytest.mark.parametrize(
    "bad", BAD_IDS[:8] + [12345, {"id": SID}], ids=BAD_ID_NAMES[:8] + ["number", "object"]
)
def test_publish_refuses_a_stage_id_answer_that_is_not_a_uuid(hostile, package, bad):
    hostile.routes[("POST", "/-/stage/package/pkg")] = answer(201, json_body={"stageId": bad})
    result = hostile.run("publish", str(package), "--ignore-scripts")
    fails_with(result, "EBADRESPONSE")
    assert "pystage list" in result.stderr  # the hint: it may be staged all the same
    assert "+ pkg@1.0.0" not in result.stdout


def test_download_name_uses_only_a_checked_id(hostile):
    tarball = tgz({"package/index.js": "x"}, {"name": "pkg", "version": "1.0.0"})
    hostile.routes[("GET", "/-/stage")] = listing(item(shasum=hashlib.sha1(tarball).hexdigest()))
    hostile.routes[("GET", f"/-/stage/{SID}/tarball")] = answer(body=tarball)
    result = hostile.run("download", "pkg@1.0.0")
    assert result.returncode == 0, result.stderr
    assert os.listdir(hostile.work) == [f"pkg-1.0.0-{SID}.tgz"]


# -- wrong types and lying pagination ---------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"items": "not a list", "total": 1},
        {"items": {"0": item()}, "total": 1},
        {"items": ["a string"], "total": 1},
        {"items": [1, 2, 3], "total": 3},
        {"items": [None], "total": 1},
        {"items": [[item()]], "total": 1},
        [item()],
        "items",
        42,
        None,
        {},
    ],
    ids=[
        "items-string",
        "items-object",
        "item-string",
        "item-numbers",
        "item-null",
        "item-list",
        "answer-array",
        "answer-string",
        "answer-number",
        "answer-null",
        "answer-empty-object",
    ],
)
def test_a_stage_list_of_the_wrong_shape_is_a_clean_error(hostile, body):
    hostile.routes[("GET", "/-/stage")] = answer(json_body=body)
    fails_with(hostile.run("list"), "EBADRESPONSE")


@pytest.mark.parametrize(
    "total", [10**30, -5, "many", True, None, 1.5, "NaN", 1e308], ids=lambda t: repr(t)[:12]
)
def test_any_total_with_a_short_page_ends_the_list(hostile, total):
    hostile.routes[("GET", "/-/stage")] = listing(item(), total=total)
    result = hostile.run("list", "--json")
    assert result.returncode == 0, result.stderr
    assert [i["id"] for i in json.loads(result.stdout)] == [SID]
    assert hostile.paths() == ["/-/stage"]


def test_endless_paging_with_new_items_every_page_is_cut_off(hostile):
    import uuid

    def page(req):
        n = int(req.query.get("page", 0))
        items = [item(str(uuid.UUID(int=n * 100 + i)), f"p{n}") for i in range(100)]
        return answer(json_body={"items": items, "total": 10**12})

    hostile.routes[("GET", "/-/stage")] = page
    error = fails_with(hostile.run("list"), "EBADRESPONSE")
    assert "10000 items" in error
    assert len(hostile.requests) == 100


def test_a_registry_ignoring_the_page_parameter_is_caught_on_the_second_page(hostile):
    import uuid

    same = [item(str(uuid.UUID(int=i))) for i in range(100)]
    hostile.routes[("GET", "/-/stage")] = answer(json_body={"items": same, "total": 10**6})
    fails_with(hostile.run("list"), "EBADRESPONSE")
    assert len(hostile.requests) == 2


@pytest.mark.parametrize(
    "field", [12, 1.5, True, None, ["a", "b"], {"nested": {"x": "\x1b[2J"}}, "x" * 200_000]
)
def test_odd_field_values_are_shown_not_crashed_on(hostile, field):
    listed = item(packageName=field, version=field, tag=field, actor=field, createdAt=field)
    hostile.routes[("GET", "/-/stage")] = listing(listed)
    hostile.routes[("GET", f"/-/stage/{SID}")] = answer(json_body=dict(listed, extra=field))
    for args in (["list"], ["view", SID], ["list", "--json"], ["view", SID, "--json"]):
        result = hostile.run(*args)
        assert result.returncode == 0, (args, result.stderr)


@pytest.mark.parametrize("username", [12, None, ["alice"], {"name": "alice"}, ""])
def test_whoami_with_a_user_name_that_is_not_a_string(hostile, username):
    hostile.routes[("GET", "/-/whoami")] = answer(json_body={"username": username})
    fails_with(hostile.run("whoami"), "ENEEDAUTH", 3)


# -- registry text reaching the terminal ------------------------------------------------


def test_whoami_shows_a_hostile_user_name_escaped(hostile):
    hostile.routes[("GET", "/-/whoami")] = answer(json_body={"username": NASTY})
    result = hostile.run("whoami")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("a\\x1b[2J\\x1b[1;1Hb\\rc\\x07\\x08\\u202eevil")
    assert "\\x1b]8;;http://evil.example/" in result.stdout
    json_result = hostile.run("whoami", "--json")
    assert json.loads(json_result.stdout) == NASTY  # --json: the very value, as escapes


def test_whoami_shows_markup_as_text(hostile):
    hostile.routes[("GET", "/-/whoami")] = answer(json_body={"username": MARKUP})
    assert hostile.run("whoami").stdout == MARKUP + "\n"


def test_list_and_view_show_markup_and_escapes_as_text(hostile):
    hostile.routes[("GET", "/-/stage")] = listing(
        item(actor="github-actions[bot]", actorType="bot", tag=MARKUP, packageName=f"pkg{NASTY}")
    )
    hostile.routes[("GET", f"/-/stage/{SID}")] = answer(
        json_body=item(
            actor="github-actions[bot]", **{f"field{NASTY}": f"value{NASTY}", "[red]k[/]": MARKUP}
        )
    )
    table = hostile.run("list", env={"COLUMNS": "400"})
    assert table.returncode == 0, table.stderr
    assert "github-actions[bot] (bot)" in table.stdout
    assert "[link=http://evil.example/]click[/link]" in table.stdout
    assert ":smile:" in table.stdout and "\U0001f604" not in table.stdout
    assert "pkga\\x1b[2J" in table.stdout
    shown = hostile.run("view", SID)
    assert "staged by: github-actions[bot] (user)" in shown.stdout
    assert "fielda\\x1b[2J\\x1b[1;1Hb\\rc" in shown.stdout  # the field name, escaped
    assert "valuea\\x1b[2J" in shown.stdout
    assert f"[red]k[/]: {MARKUP}" in shown.stdout


def test_colour_output_escapes_registry_text_too(hostile):
    hostile.routes[("GET", "/-/stage")] = listing(item(actor=NASTY, tag=MARKUP))
    hostile.routes[("GET", f"/-/stage/{SID}")] = answer(json_body=item(actor=NASTY, tag=MARKUP))
    for args in (["list"], ["view", SID]):
        result = hostile.run(*args, "--color")
        assert "\x1b[" in result.stdout  # our colours...
        # ...and no ESC but at the start of an SGR colour code of our own
        assert not re.search(r"\x1b(?!\[[0-9;]*m)", result.stdout), ascii(result.stdout)
        assert "[link=http://evil.example/]click[/link]" in re.sub(
            r"\x1b\[[0-9;]*m", "", result.stdout
        )


def test_json_output_keeps_hostile_values_exact_and_inert(hostile):
    hostile.routes[("GET", "/-/stage")] = answer(
        body=json.dumps({"items": [item(actor=NASTY + "\ud800\U000e0041")], "total": 1}),
        headers={"content-type": "application/json"},
    )
    result = hostile.run("list", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["actor"] == NASTY + "\ud800\U000e0041"
    assert "\\u009b" in result.stdout and "\\u202e" in result.stdout and "\\ud800" in result.stdout


@pytest.mark.parametrize(
    "status,body,headers",
    [
        (400, {"error": f"bad {NASTY}"}, {}),
        (403, {"message": MARKUP}, {}),
        (500, {"reason": "x" * 1_000_000}, {}),
        (502, f"<html><title>proxy {NASTY}</title></html>", {"content-type": "text/html"}),
        (404, f"plain {NASTY}\nsecond line", {"content-type": "text/plain"}),
        (400, {"error": f"you sent Bearer {TOKEN} and {OTP}"}, {}),
        (401, {"error": "nope"}, {"www-authenticate": f"Basic realm={NASTY}"}),
    ],
    ids=["json-error", "markup", "giant", "html", "text", "echoed-secret", "www-authenticate"],
)
def test_error_messages_quoting_the_registry_are_one_escaped_line(hostile, status, body, headers):
    if isinstance(body, dict):
        hostile.routes[("GET", "/-/stage")] = answer(status, json_body=body, headers=headers)
    else:
        hostile.routes[("GET", "/-/stage")] = answer(status, body, headers)
    for args in (["list"], ["list", "-v"], ["list", "--json"]):
        result = hostile.run(*args)
        assert result.returncode != 0
        if "-v" not in args and "--json" not in args:
            assert len(result.stderr.splitlines()) <= 2, result.stderr  # error + hint


def test_a_verbose_traceback_is_escaped(hostile):
    hostile.routes[("GET", "/-/stage")] = answer(400, json_body={"error": f"bad {NASTY}"})
    result = hostile.run("list", "-v")
    assert "bad a\\x1b[2J" in result.stderr


# -- malformed answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,content_type",
    [
        (b'{"items": [', "application/json"),
        (b"<html><body>Sign in</body></html>", "application/json"),
        (b"<html><title>Log in \x1b[2J</title></html>", "text/html"),
        (b"\x1f\x8b\x08\x00garbage" + bytes(range(256)), "application/json"),
        (b"\xff\xfe{\x00}\x00", "application/json; charset=utf-16"),
        (b'{"items": [], "total": 0} trailing', "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (
            b'{"items": [{"id": "' + SID.encode() + b'", "version": 1e999999}], "total": 1}',
            "application/json",
        ),
        (b"", "application/json"),
        (json.dumps({"items": [], "total": 0}).encode(), "text/html"),
    ],
    ids=[
        "truncated",
        "html-as-json",
        "html",
        "binary",
        "utf16",
        "trailing-garbage",
        "deeply-nested",
        "huge-number",
        "empty",
        "json-as-html",
    ],
)
def test_malformed_or_mislabelled_answers(hostile, body, content_type):
    hostile.routes[("GET", "/-/stage")] = answer(body=body, headers={"content-type": content_type})
    hostile.routes[("GET", f"/-/stage/{SID}")] = answer(
        body=body, headers={"content-type": content_type}
    )
    for args in (["list"], ["view", SID], ["view", "pkg@1.0.0"]):
        result = hostile.run(*args)
        assert "EUNKNOWN" not in result.stderr, result.stderr  # one clean line: assert_safe


# -- redirects ----------------------------------------------------------------------------


def test_a_redirect_to_another_host_carries_no_credential(hostile, elsewhere):
    elsewhere.routes[("GET", "/-/stage")] = listing(item())
    hostile.routes[("GET", "/-/stage")] = answer(
        302, headers={"location": f"http://user:hunter22@localhost:{elsewhere.port}/-/stage?page=0"}
    )
    result = hostile.run("list", "-v")
    assert result.returncode == 0, result.stderr
    assert [r.path for r in elsewhere.requests] == ["/-/stage"]
    sent = elsewhere.requests[0].headers
    assert TOKEN not in json.dumps(sent)
    assert "hunter22" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "http://[::1",
        "javascript:alert(1)",
        f"http://127.0.0.1:1/\x1b[2J{OSC8}",
        "/-/loop",
    ],
    ids=["file", "ftp", "broken-ipv6", "javascript", "escape-laden", "loop"],
)
def test_bad_redirects_are_clean_errors(hostile, location):
    hostile.routes[("GET", "/-/stage")] = answer(302, headers={"location": location})
    hostile.routes[("GET", "/-/loop")] = answer(302, headers={"location": "/-/loop"})
    # (-v with the escape-laden one: test_a_redirects_location_in_the_verbose_log_is_escaped)
    for args in (["list"],) + ((["list", "-v"],) if "\x1b" not in location else ()):
        result = hostile.run(*args)
        assert result.returncode != 0, result.stdout
        assert "\\x1b" in result.stderr or "\x1b" not in location


def test_a_redirects_location_in_the_verbose_log_is_escaped(hostile):
    hostile.routes[("GET", "/-/stage")] = answer(
        302, headers={"location": f"http://127.0.0.1:1/\x1b[2J{OSC8}"}
    )
    result = hostile.run("list", "-v")
    assert "-> http://127.0.0.1:1/\\x1b[2J\\x1b]8;;http://evil.example/" in result.stderr


# -- tarballs from the registry ------------------------------------------------------------


@pytest.mark.parametrize(
    "manifest",
    [
        {"name": "../../../evil", "version": "1.0.0"},
        {"name": "/abs/evil", "version": "1.0.0"},
        {"name": "pkg", "version": "../../1.0.0"},
        {"name": "pkg", "version": "1.0.0/x"},
        {"name": f"pkg{NASTY}", "version": "1.0.0"},
        {"name": ["pkg"], "version": "1.0.0"},
    ],
    ids=[
        "name-traversal",
        "name-absolute",
        "version-traversal",
        "version-slash",
        "escapes",
        "list",
    ],
)
def test_download_refuses_a_tarball_whose_package_json_makes_a_path(hostile, manifest):
    hostile.routes[("GET", f"/-/stage/{SID}/tarball")] = answer(body=tgz({}, manifest))
    fails_with(hostile.run("download", SID), "ETARBALL")
    assert os.listdir(hostile.work) == []


def test_download_lists_hostile_entry_names_escaped_and_extracts_nothing(hostile):
    hostile.routes[("GET", f"/-/stage/{SID}/tarball")] = answer(
        body=tgz(
            {
                "package/../../../../tmp/evil.js": "x",
                "/etc/evil": "x",
                f"package/{NASTY}.js": "x",
                f"package/{MARKUP}.js": "x",
                "package/" + "d/" * 300 + "deep.js": "x",
            },
            {"name": "pkg", "version": "1.0.0", "description": NASTY},
        )
    )
    result = hostile.run("download", SID)
    assert result.returncode == 0, result.stderr
    assert os.listdir(hostile.work) == [f"pkg-1.0.0-{SID}.tgz"]  # never extracted
    assert "a\\x1b[2J" in result.stderr
    assert f"{MARKUP}.js" in result.stderr


# -- login and logout ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "login_url", [f"http://127.0.0.1/\x1b[2J{OSC8}", "http://127.0.0.1/x\nforged line", "file:///x"]
)
def test_web_login_refuses_a_login_url_that_is_not_a_plain_url(hostile, login_url):
    hostile.routes[("POST", "/-/v1/login")] = answer(
        json_body={"loginUrl": login_url, "doneUrl": f"{hostile.url}-/v1/done"}
    )
    result = hostile.run("login", "--auth-type", "web", "--save-to-npmrc", env={"CI": "1"})
    fails_with(result, "EWEBAUTH")
    assert "forged line" not in result.stderr


def test_web_login_shows_a_hostile_user_name_escaped(hostile):
    hostile.routes[("POST", "/-/v1/login")] = answer(
        json_body={"loginUrl": "http://127.0.0.1/login", "doneUrl": f"{hostile.url}-/v1/done"}
    )
    hostile.routes[("GET", "/-/v1/done")] = answer(json_body={"token": "web-token-123456"})
    hostile.routes[("GET", "/-/whoami")] = answer(json_body={"username": f"eve{NASTY}{MARKUP}"})
    result = hostile.run("login", "--auth-type", "web", "--save-to-npmrc", env={"CI": "1"})
    assert result.returncode == 0, result.stderr
    assert "Logged in as evea\\x1b[2J" in result.stdout
    assert MARKUP in result.stdout
    assert "web-token-123456" not in result.stdout + result.stderr


def test_logout_shows_a_hostile_refusal_escaped_and_without_the_token(hostile):
    hostile.routes[("DELETE", f"/-/user/token/{TOKEN}")] = answer(
        404, json_body={"error": f"no token {TOKEN} {NASTY}"}
    )
    result = hostile.run("logout")
    assert result.returncode == 0, result.stderr
    assert "did not revoke the token" in result.stderr
    assert "no token *** a\\x1b[2J" in result.stderr


# -- more attacks: framing, retries, challenges, duplicates ---------------------------------


@pytest.mark.parametrize("args", [["list"], ["view", SID], ["whoami"], ["view", "pkg@1.0.0"]])
def test_json_nested_too_deeply_to_read_is_ebadresponse(hostile, args):
    deep = answer(
        body=b"[" * 100_000 + b"]" * 100_000, headers={"content-type": "application/json"}
    )
    for path in ("/-/stage", f"/-/stage/{SID}", "/-/whoami"):
        hostile.routes[("GET", path)] = deep
    error = fails_with(hostile.run(*args), "EBADRESPONSE")
    assert "nested too deeply" in error


def raw_answer(head: bytes, body: bytes = b"{}") -> Raw:
    def write(wfile, stop):
        wfile.write(head + b"content-length: %d\r\n\r\n" % len(body) + body)

    return Raw(write)


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\n" + b"".join(b"x-%d: y\r\n" % i for i in range(150)),
        b"HTTP/1.1 200 OK\r\nx-long: " + b"a" * 70_000 + b"\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: +2\r\n",
        b"HTTP/1.1 600 Beyond\r\ncontent-type: application/json\r\n",
        b"HTTP/1.1 199 Early\r\ncontent-type: application/json\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=no-such-charset\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: br\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n",
        b"HTTP/9.9 200 OK\r\n",
    ],
    ids=[
        "150-headers",
        "70k-header",
        "negative-length",
        "plus-length",
        "status-600",
        "status-199",
        "unknown-charset",
        "brotli-unasked",
        "gzip-that-is-not",
        "http-9.9",
    ],
)
def test_odd_framing_and_headers_are_one_clean_line(hostile, head):
    hostile.routes[("GET", "/-/stage")] = raw_answer(head)
    for args in (["list"], ["list", "--json"]):
        result = hostile.run(*args)  # assert_safe: no traceback, one error line, no EUNKNOWN
        assert "EUNKNOWN" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    "retry_after",
    ["1000000000", "Fri, 31 Dec 9999 23:59:59 GMT", "-5", "NaN", "inf", "soon", "1e400"],
)
def test_a_429_never_makes_pystage_wait_past_its_retry_limits(hostile, retry_after):
    hostile.routes[("GET", "/-/stage")] = answer(
        429, json_body={"error": "slow down"}, headers={"retry-after": retry_after}
    )
    import time

    started = time.monotonic()
    # two retries, each waiting at most fetch-retry-maxtimeout (here 1 s)
    result = hostile.run(
        "list",
        env={
            "npm_config_fetch_retries": "2",
            "npm_config_fetch_retry_mintimeout": "100",
            "npm_config_fetch_retry_maxtimeout": "1000",
        },
    )
    fails_with(result, "E429")
    assert time.monotonic() - started < 10
    assert 1 <= len(hostile.requests) <= 3


def test_a_registry_that_challenges_every_code_is_asked_at_most_twice(hostile):
    hostile.routes[("DELETE", f"/-/user/token/{TOKEN}")] = answer(
        401, json_body={"error": "otp, again"}, headers={"www-authenticate": "OTP"}
    )
    result = hostile.run("logout", "--otp", OTP)
    fails_with(result, "EOTP", 3)
    assert len(hostile.requests) == 1  # not interactive: the refused --otp is the end


def test_a_redirect_loop_across_two_hosts_ends(hostile, elsewhere):
    hostile.routes[("GET", "/-/stage")] = answer(
        302, headers={"location": f"http://localhost:{elsewhere.port}/-/stage"}
    )
    elsewhere.routes[("GET", "/-/stage")] = answer(
        302, headers={"location": f"http://127.0.0.1:{hostile.port}/-/stage"}
    )
    error = fails_with(hostile.run("list"), "EMAXREDIRECT")
    assert "too many redirects" in error
    assert len(hostile.requests) + len(elsewhere.requests) == 11
    assert all("authorization" not in r.headers for r in elsewhere.requests)


@pytest.mark.parametrize("order", ["hostile-last", "hostile-first"])
def test_a_duplicate_id_key_is_judged_by_the_value_json_keeps(hostile, order):
    first, last = ("../../x", SID) if order == "hostile-first" else (SID, "../../x")
    entry = f'{{"id": "{first}", "packageName": "pkg", "version": "1.0.0", "id": "{last}"}}'
    raw = f'{{"items": [{entry}], "total": 1}}'
    hostile.routes[("GET", "/-/stage")] = answer(
        body=raw, headers={"content-type": "application/json"}
    )
    result = hostile.run("list", "--json")
    if order == "hostile-last":
        fails_with(result, "EBADRESPONSE")
    else:
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)[0]["id"] == SID  # what was checked is what is shown


def test_the_web_authentication_done_url_on_another_host_gets_no_token(hostile, elsewhere):
    # the challenge may point the poll anywhere: the token goes only to its own host
    hostile.routes[("DELETE", f"/-/user/token/{TOKEN}")] = lambda req: (
        answer(200, json_body={})
        if req.headers.get("npm-otp") == OTP
        else answer(
            401,
            json_body={
                "authUrl": f"{hostile.url}-/auth",
                "doneUrl": f"http://localhost:{elsewhere.port}/-/done",
            },
            headers={"www-authenticate": "OTP"},
        )
    )
    elsewhere.routes[("GET", "/-/done")] = answer(json_body={"token": OTP})
    result = hostile.run_at_terminal("logout")
    assert result.returncode == 0, result.stderr
    (poll,) = elsewhere.requests
    assert "authorization" not in poll.headers and "npm-otp" not in poll.headers


@pytest.mark.parametrize("code", [f"{OTP}\r\nx-evil: 1", f"{OTP}\n", "\x1b[2J", 12345678, ""])
def test_a_one_time_password_from_the_done_url_must_be_a_header_value(hostile, code):
    hostile.routes[("DELETE", f"/-/user/token/{TOKEN}")] = answer(
        401,
        json_body={"authUrl": f"{hostile.url}-/auth", "doneUrl": f"{hostile.url}-/done"},
        headers={"www-authenticate": "OTP"},
    )
    hostile.routes[("GET", "/-/done")] = answer(json_body={"token": code})
    result = hostile.run_at_terminal("logout")
    assert result.returncode != 0
    assert all("x-evil" not in r.headers for r in hostile.requests)
    assert [r.method for r in hostile.requests].count("DELETE") <= 2
