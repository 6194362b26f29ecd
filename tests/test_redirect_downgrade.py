"""A redirect from https to http never carries a credential, even to the same host.

npm's fetch (make-fetch-happen) drops the Authorization header on a redirect only
when the host name changes, and npm's nerf-darts (``//host/:_authToken``) ignore
the scheme: an ``https://registry/`` answer redirecting to ``http://registry/``
would send the token in clear, readable by anyone on the path (and a plain-http
hop can be forged by anyone on the path to begin with). pystage decides
otherwise: after a hop to plain http the request goes on with no token, no
``_auth`` password, no one-time password and no client certificate, for the rest
of its redirects, even back to https. A registry configured as ``http://`` is the
user's choice and is left alone.

The registry here speaks TLS and plain HTTP on one port (``fixtures_hostile``), so
``https://127.0.0.1:P/`` and ``http://127.0.0.1:P/`` are one nerf-dart, as
``https://r.example/`` and ``http://r.example/`` are.
"""

from __future__ import annotations

import base64
import ssl

import pytest
from fixtures_hostile import (
    OTP,
    SID,
    TOKEN,
    HostileRegistry,
    answer,
    assert_safe,
    item,
    listing,
    self_signed,
)


@pytest.fixture
def dual(tmp_path, run_pystage):
    cert, key = self_signed(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server = HostileRegistry(tls=ctx)
    work = tmp_path / "work"
    work.mkdir()
    npmrc = tmp_path / "npmrc"

    def run(*args, registry=None, auth=None):
        dart = f"//127.0.0.1:{server.port}/"
        npmrc.write_text(f"cafile={cert}\n{dart}:{auth or '_authToken=' + TOKEN}\n")
        result = run_pystage(
            *args,
            "--registry",
            registry or server.https_url,
            "--userconfig",
            npmrc,
            cwd=work,
            env={
                "npm_config_fetch_retries": "0",
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            },
            timeout=60,
        )
        result.new_files = []
        result.json_mode = "--json" in args
        assert_safe(result, verbose="-v" in args, secrets=[TOKEN, "hunter2hunter2"])
        return result

    server.run = run
    yield server
    server.stop()


def redirect(to, status=302):
    return answer(status, headers={"location": to})


def sent(server, path):
    """The headers of the requests for ``path``, in order."""
    return [r.headers for r in server.requests if r.path == path]


def test_a_redirect_to_plain_http_on_the_same_host_carries_no_token(dual):
    dual.routes[("GET", "/-/stage")] = redirect(f"{dual.url}-/plain")
    dual.routes[("GET", "/-/plain")] = listing(item())
    result = dual.run("list", "-v")
    assert result.returncode == 0, result.stderr
    (first,) = sent(dual, "/-/stage")
    (plain,) = sent(dual, "/-/plain")
    assert first["authorization"] == f"Bearer {TOKEN}"  # over TLS: sent
    assert "authorization" not in plain  # in clear: not
    assert f"-> {dual.url}-/plain" in result.stderr


def test_a_redirect_to_https_on_the_same_host_keeps_the_token(dual):
    dual.routes[("GET", "/-/stage")] = redirect(f"{dual.https_url}-/moved")
    dual.routes[("GET", "/-/moved")] = listing(item())
    result = dual.run("list")
    assert result.returncode == 0, result.stderr
    assert sent(dual, "/-/moved")[0]["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("status", [307, 308])
def test_an_approve_redirected_to_plain_http_carries_neither_token_nor_code(dual, status):
    dual.routes[("POST", f"/-/stage/{SID}/approve")] = redirect(
        f"{dual.url}-/stage/{SID}/approve-plain", status
    )
    dual.routes[("POST", f"/-/stage/{SID}/approve-plain")] = answer(
        401, json_body={"error": "who are you?"}
    )
    dual.routes[("GET", f"/-/stage/{SID}")] = answer(json_body=item())
    result = dual.run("approve", SID, "--otp", OTP)
    assert result.returncode != 0
    (first,) = sent(dual, f"/-/stage/{SID}/approve")
    (plain,) = sent(dual, f"/-/stage/{SID}/approve-plain")
    assert first["authorization"] == f"Bearer {TOKEN}" and first["npm-otp"] == OTP
    assert "authorization" not in plain and "npm-otp" not in plain


def test_after_a_hop_in_clear_no_credential_goes_even_back_over_https(dual):
    dual.routes[("GET", "/-/stage")] = redirect(f"{dual.url}-/plain")
    dual.routes[("GET", "/-/plain")] = redirect(f"{dual.https_url}-/back")
    dual.routes[("GET", "/-/back")] = listing(item())
    result = dual.run("list")
    assert result.returncode == 0, result.stderr
    assert "authorization" not in sent(dual, "/-/plain")[0]
    # the https URL came from an answer sent in clear: anyone on the path wrote it
    assert "authorization" not in sent(dual, "/-/back")[0]


def test_a_basic_password_is_not_sent_in_clear_after_a_redirect(dual):
    pair = base64.b64encode(b"carol:hunter2hunter2").decode()
    dual.routes[("GET", "/-/whoami")] = redirect(f"{dual.url}-/whoami-plain")
    dual.routes[("GET", "/-/whoami-plain")] = answer(json_body={"username": "carol"})
    result = dual.run("whoami", auth=f"_auth={pair}")
    assert result.returncode == 0, result.stderr
    assert sent(dual, "/-/whoami")[0]["authorization"] == f"Basic {pair}"
    assert "authorization" not in sent(dual, "/-/whoami-plain")[0]


def test_a_registry_configured_as_plain_http_gets_its_token(dual):
    # the user's own choice (npm's too): pystage does not second-guess it
    dual.routes[("GET", "/-/stage")] = redirect(f"{dual.url}-/moved")
    dual.routes[("GET", "/-/moved")] = listing(item())
    result = dual.run("list", registry=dual.url)
    assert result.returncode == 0, result.stderr
    assert sent(dual, "/-/stage")[0]["authorization"] == f"Bearer {TOKEN}"
    assert sent(dual, "/-/moved")[0]["authorization"] == f"Bearer {TOKEN}"
