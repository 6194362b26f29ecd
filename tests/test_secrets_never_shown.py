"""No secret in any output, in any of the encodings it travels in.

A password in the registry URL (``http://user:pass@host/``) never shows, whatever
the command and whether the registry refuses or cannot be reached.

A token with ``/ + =`` in it is percent-encoded in ``logout``'s request path
(``DELETE /-/user/token/<token>``), where a registry or a proxy may echo it
back in upper or lower case hex; a password goes out base64-encoded in HTTP
Basic (from ``_auth`` or a ``user:password@`` registry URL). Each case makes
one of them show up in an answer, an error, a warning, a ``-v`` log line or a
``-vv`` traceback, and the ``hostile`` fixture (``fixtures_hostile``) checks
every output for the secret raw, percent-encoded and base64-encoded.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import quote, quote_plus

import pytest
from fixtures_hostile import SID, answer, item, listing
from helpers import (
    FAST_RETRIES,
    assert_clean_failure,
    closed_port,
)

from pystage.errors import exit_code_for


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("list", "-v"),
        ("whoami",),
        ("view", "pkg@1.0.0"),
        ("approve", "pkg@1.0.0"),
        ("logout",),
    ],
)
@pytest.mark.parametrize("where", ["unauthorised", "closed"])
def test_a_password_in_the_registry_url_never_shows(
    recording_server, run_pystage, tmp_path, args, where
):
    server = recording_server()
    server.script[("GET", "/-/stage")] = (401, {}, {"error": "authentication required"})
    server.script[("GET", "/-/whoami")] = (401, {}, {"error": "authentication required"})
    port = server.port if where == "unauthorised" else closed_port()
    registry = f"http://bob:s3cretpw@127.0.0.1:{port}/"
    result = run_pystage(
        *args,
        "--registry",
        registry,
        "--userconfig",
        tmp_path / "none",
        env={**FAST_RETRIES, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    assert_clean_failure(result, verbose="-v" in args)
    assert "s3cretpw" not in result.stdout + result.stderr


# -- every encoding, every output path ----------------------------------------

# a legacy token may be any string: this one needs every escape
TOKEN = "Zq/9+xY=Lm+/Pw==Vb/+Secret=="
PASSWORD = "pa/ss+w=rd:é"
VERBOSITY = [[], ["-v"], ["-vv"]]
VERBOSITY_IDS = ["quiet", "-v", "-vv"]


def echoes(secret: str, header: str | None = None):
    """A route answering 404 with ``secret`` in every form a server might echo it, and
    the request's own Authorization header when it had one."""

    def route(req):
        forms = [
            secret,
            quote(secret, safe=""),
            re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote(secret, safe="")),
            quote_plus(secret),
            base64.b64encode(secret.encode()).decode(),
            req.target,
            req.headers.get("authorization", ""),
        ]
        return answer(404, json_body={"error": "no such thing: " + " ".join(forms)})

    return route


def token_path():
    return f"/-/user/token/{quote(TOKEN, safe='')}"


@pytest.mark.parametrize("verbosity", VERBOSITY, ids=VERBOSITY_IDS)
def test_logout_with_the_registry_down_shows_no_form_of_the_token(hostile, verbosity):
    down = f"http://127.0.0.1:{closed_port()}/"
    hostile.login(TOKEN, line=f"//{down.split('//')[1]}:_authToken={TOKEN}\n")
    result = hostile.run("logout", *verbosity, registry=down)
    assert result.returncode == 6, result.stderr
    assert "pystage error ECONNREFUSED: request to " in result.stderr
    assert "/-/user/token/***" in result.stderr  # the path is shown, the token masked
    if verbosity == ["-vv"]:
        assert "Traceback" in result.stderr


@pytest.mark.parametrize("verbosity", VERBOSITY, ids=VERBOSITY_IDS)
def test_logout_warning_of_a_404_shows_no_form_of_the_token(hostile, verbosity):
    hostile.login(TOKEN)
    hostile.routes[("DELETE", token_path())] = echoes(TOKEN)
    result = hostile.run("logout", *verbosity)
    assert result.returncode == 0, result.stderr
    assert "did not revoke the token" in result.stderr
    assert "no such thing: ***" in result.stderr
    if verbosity:
        assert "http DELETE 404 " in result.stderr  # the -v line, with the path masked


@pytest.mark.parametrize("status", [400, 500])
@pytest.mark.parametrize("verbosity", VERBOSITY, ids=VERBOSITY_IDS)
def test_logout_error_quoting_the_token_shows_no_form_of_it(hostile, status, verbosity):
    hostile.login(TOKEN)

    def route(req):
        _, headers, body = echoes(TOKEN)(req)
        return status, headers, body

    hostile.routes[("DELETE", token_path())] = route
    result = hostile.run("logout", *verbosity)
    assert result.returncode == exit_code_for(f"E{status}"), result.stderr
    assert f"pystage error E{status}:" in result.stderr


@pytest.mark.parametrize("verbosity", VERBOSITY, ids=VERBOSITY_IDS)
def test_an_echoed_bearer_header_shows_no_form_of_the_token(hostile, verbosity):
    hostile.login(TOKEN)
    hostile.routes[("GET", "/-/whoami")] = echoes(TOKEN)
    result = hostile.run("whoami", *verbosity)
    assert result.returncode == 4, result.stderr


@pytest.mark.parametrize("verbosity", VERBOSITY, ids=VERBOSITY_IDS)
def test_basic_credentials_from_auth_show_no_form_of_the_password(hostile, verbosity):
    pair = base64.b64encode(f"carol:{PASSWORD}".encode()).decode()
    hostile.login(pair, PASSWORD, line=f"//127.0.0.1:{hostile.port}/:_auth={pair}\n")
    hostile.routes[("GET", "/-/whoami")] = echoes(PASSWORD)
    result = hostile.run("whoami", *verbosity)
    assert result.returncode == 4, result.stderr
    assert hostile.requests[-1].headers["authorization"] == f"Basic {pair}"


@pytest.mark.parametrize("verbosity", VERBOSITY, ids=VERBOSITY_IDS)
def test_a_password_in_the_registry_url_is_never_shown(hostile, verbosity):
    pair = base64.b64encode(f"carol:{PASSWORD}".encode()).decode()
    registry = f"http://carol:{quote(PASSWORD, safe='')}@127.0.0.1:{hostile.port}/"
    hostile.login(None, PASSWORD, pair, line="")  # no npmrc credential: the URL's
    hostile.routes[("GET", "/-/stage")] = echoes(PASSWORD)
    result = hostile.run("list", *verbosity, registry=registry)
    assert result.returncode == 4, result.stderr
    assert hostile.requests[-1].headers["authorization"] == f"Basic {pair}"
    assert "carol:***@" in result.stderr or "***@127.0.0.1" in result.stderr


@pytest.mark.parametrize("verbosity", VERBOSITY, ids=VERBOSITY_IDS)
def test_a_password_in_the_registry_url_is_not_in_a_traceback(hostile, verbosity):
    registry = f"http://carol:{quote(PASSWORD, safe='')}@127.0.0.1:{closed_port()}/"
    pair = base64.b64encode(f"carol:{PASSWORD}".encode()).decode()
    hostile.login(None, PASSWORD, pair, line="")
    result = hostile.run("list", *verbosity, registry=registry)
    assert result.returncode == 6, result.stderr
    if verbosity == ["-vv"]:
        assert "Traceback" in result.stderr


def test_a_token_in_a_redirects_location_is_masked_in_the_log(hostile, elsewhere):
    hostile.login(TOKEN)
    elsewhere.routes[("GET", "/-/stage")] = listing()
    hostile.routes[("GET", "/-/stage")] = answer(
        302,
        headers={
            "location": f"http://localhost:{elsewhere.port}/-/stage?t={quote(TOKEN, safe='')}"
        },
    )
    result = hostile.run("list", "-v")
    assert result.returncode == 0, result.stderr
    assert "-> http://localhost:" in result.stderr
    assert "authorization" not in elsewhere.requests[0].headers


@pytest.mark.parametrize("content_type", ["text/plain", "text/html", "application/json"])
@pytest.mark.parametrize("status", [404, 200])
def test_a_secret_where_an_echo_is_cut_short_is_masked_before_the_cut(
    hostile, content_type, status
):
    # error texts are cut after 200 characters: the cut must not leave half a token
    hostile.login(TOKEN)
    for offset in range(175, 205, 3):
        body = "x" * offset + TOKEN + " trailing words"
        if content_type == "application/json" and status == 404:
            body = "{" + body  # not JSON: shown as text
        hostile.routes[("GET", "/-/whoami")] = answer(status, body, {"content-type": content_type})
        result = hostile.run("whoami")
        assert result.returncode != 0
        for prefix in (TOKEN[:8], quote(TOKEN, safe="")[:8]):
            assert prefix not in result.stderr, (offset, result.stderr)


@pytest.mark.parametrize("verbosity", [["--json"], ["--json", "-vv"]], ids=["json", "json-vv"])
def test_the_json_error_shows_no_form_of_the_token(hostile, verbosity):
    hostile.login(TOKEN)
    hostile.routes[("DELETE", token_path())] = lambda req: (500, *echoes(TOKEN)(req)[1:])
    result = hostile.run("logout", *verbosity)
    assert result.returncode == exit_code_for("E500")
    assert '"code": "E500"' in result.stderr


@pytest.mark.parametrize(
    "args", [["whoami"], ["list"], ["list", "--json"], ["view", SID], ["view", SID, "--json"]]
)
def test_a_registry_putting_the_token_in_its_data_does_not_get_it_shown(hostile, args):
    # a registry (or a proxy) that echoes the credential in a field: the result shows ***
    hostile.login(TOKEN)
    hostile.routes[("GET", "/-/whoami")] = answer(json_body={"username": f"eve {TOKEN}"})
    hostile.routes[("GET", "/-/stage")] = listing(item(actor=TOKEN, tag=quote(TOKEN, safe="")))
    hostile.routes[("GET", f"/-/stage/{SID}")] = answer(json_body=item(note=f"t={TOKEN}"))
    result = hostile.run(*args, env={"COLUMNS": "300"})
    assert result.returncode == 0, result.stderr
    assert "***" in result.stdout


def test_results_keep_ordinary_data_that_merely_looks_secret(hostile):
    # only the credentials sent are masked in results: no pattern, no one-time password
    hostile.login(TOKEN)
    hostile.routes[("GET", f"/-/stage/{SID}")] = answer(
        json_body=item(note="use Bearer tokens; see https://u:p@example.com/", size=123456)
    )
    result = hostile.run("view", SID, env={"COLUMNS": "300", "npm_config_otp": "123456"})
    assert result.returncode == 0, result.stderr
    assert "use Bearer tokens; see https://u:p@example.com/" in result.stdout
    assert "123456" in result.stdout
