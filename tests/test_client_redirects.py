"""Redirects, in-process (``responses``): the client follows them itself, working out
the credential again for every hop, so a token and a one-time password go only to
the host they are meant for (and never in clear after an https -> http redirect);
methods and bodies change as browsers and npm's fetch change them."""

from __future__ import annotations

import pytest
import responses
from helpers import TOKEN, make

from pystage.errors import PystageError

REGISTRY = "https://registry.test/"
OTHER_TOKEN = "npm_" + "B" * 36


@pytest.fixture
def registry():
    with responses.RequestsMock() as mock:
        yield mock


def _client(tmp_path, npmrc=None, **kw):
    rc = npmrc if npmrc is not None else f"//registry.test/:_authToken={TOKEN}\n"
    return make(tmp_path, REGISTRY, npmrc=rc, **kw)


def _redirect(registry, method, url, to, status=302):
    registry.add(method, url, status=status, headers={"location": to})


def _sent(registry, n):
    return registry.calls[n].request.headers


def test_a_redirect_on_the_registry_host_keeps_the_token(tmp_path, registry):
    _redirect(registry, "GET", REGISTRY + "-/stage", "/-/v2/stage")
    registry.get(REGISTRY + "-/v2/stage", json={"items": []})
    assert _client(tmp_path).json("GET", "-/stage") == {"items": []}
    assert _sent(registry, 0)["authorization"] == f"Bearer {TOKEN}"
    assert _sent(registry, 1)["authorization"] == f"Bearer {TOKEN}"


def test_the_token_does_not_follow_a_redirect_to_another_host(tmp_path, registry):
    _redirect(registry, "GET", REGISTRY + "pkg/-/pkg-1.0.0.tgz", "https://cdn.test/t/pkg.tgz")
    registry.get("https://cdn.test/t/pkg.tgz", body=b"tarball")
    client = _client(tmp_path, otp="123456")
    assert client.request("GET", "pkg/-/pkg-1.0.0.tgz").content == b"tarball"
    first, second = _sent(registry, 0), _sent(registry, 1)
    assert first["authorization"] == f"Bearer {TOKEN}" and first["npm-otp"] == "123456"
    assert "authorization" not in second and "npm-otp" not in second


def test_explicit_auth_headers_do_not_follow_a_redirect_to_another_host(tmp_path, registry):
    # a header the caller set (an OIDC exchange's bearer, an approve's npm-otp) belongs
    # to the host it was meant for too
    _redirect(registry, "GET", REGISTRY + "-/whoami", "https://elsewhere.test/whoami", 307)
    registry.get("https://elsewhere.test/whoami", json={"username": "x"})
    _client(tmp_path, npmrc="").json(
        "GET", "-/whoami", headers={"authorization": "Bearer explicit", "npm-otp": "654321"}
    )
    assert _sent(registry, 0)["authorization"] == "Bearer explicit"
    assert "authorization" not in _sent(registry, 1)
    assert "npm-otp" not in _sent(registry, 1)


def test_another_host_gets_its_own_credential_not_the_registrys(tmp_path, registry):
    npmrc = f"//registry.test/:_authToken={TOKEN}\n//mirror.test/:_authToken={OTHER_TOKEN}\n"
    _redirect(registry, "GET", REGISTRY + "-/stage", "https://mirror.test/-/stage")
    registry.get("https://mirror.test/-/stage", json={"items": []})
    _client(tmp_path, npmrc=npmrc).json("GET", "-/stage")
    assert _sent(registry, 1)["authorization"] == f"Bearer {OTHER_TOKEN}"


def test_no_credential_goes_in_clear_after_a_downgrade_on_the_same_host(tmp_path, registry):
    # the nerf dart //registry.test/ ignores the scheme: without pystage's own rule the
    # token would be sent over plain http
    _redirect(registry, "GET", REGISTRY + "-/stage", "http://registry.test/-/stage")
    registry.get("http://registry.test/-/stage", json={"items": []})
    client = _client(tmp_path, otp="123456")
    client.json("GET", "-/stage")
    assert _sent(registry, 0)["authorization"] == f"Bearer {TOKEN}"
    assert "authorization" not in _sent(registry, 1)
    assert "npm-otp" not in _sent(registry, 1)


def test_after_a_downgrade_no_later_hop_gets_the_credential_back(tmp_path, registry):
    _redirect(registry, "GET", REGISTRY + "-/stage", "http://registry.test/-/x")
    _redirect(registry, "GET", "http://registry.test/-/x", "https://registry.test/-/y")
    registry.get(REGISTRY + "-/y", json={"items": []})
    _client(tmp_path).json("GET", "-/stage")
    assert ["authorization" in c.request.headers for c in registry.calls] == [True, False, False]


@pytest.mark.parametrize("status", [303, 301, 302])
def test_a_post_redirected_by_303_301_or_302_becomes_a_get_without_body(tmp_path, registry, status):
    _redirect(registry, "POST", REGISTRY + "-/stage/package/p", REGISTRY + "-/done", status)
    registry.get(REGISTRY + "-/done", json={"ok": True})
    assert _client(tmp_path).json("POST", "-/stage/package/p", json={"a": 1}) == {"ok": True}
    second = registry.calls[1].request
    assert second.method == "GET" and not second.body


@pytest.mark.parametrize("status", [307, 308])
def test_307_and_308_keep_the_method_and_the_body(tmp_path, registry, status):
    _redirect(registry, "PUT", REGISTRY + "-/a", REGISTRY + "-/b", status)
    registry.put(REGISTRY + "-/b", json={"ok": True})
    _client(tmp_path).json("PUT", "-/a", json={"a": 1})
    second = registry.calls[1].request
    assert second.method == "PUT" and second.body == b'{"a": 1}'


def test_query_parameters_are_not_added_again_to_the_location(tmp_path, registry):
    _redirect(registry, "GET", REGISTRY + "-/stage", "/-/stage2?page=0&perPage=5")
    registry.get(REGISTRY + "-/stage2", json={"items": []})
    _client(tmp_path).json("GET", "-/stage", params={"page": 0, "perPage": 5})
    assert registry.calls[1].request.url == REGISTRY + "-/stage2?page=0&perPage=5"


def test_a_relative_location_is_resolved_against_the_current_url(tmp_path, registry):
    _redirect(registry, "GET", REGISTRY + "a/b/c", "../d")
    registry.get(REGISTRY + "a/d", json={})
    _client(tmp_path).json("GET", "a/b/c")
    assert registry.calls[1].request.url == REGISTRY + "a/d"


def test_a_redirect_loop_ends_with_emaxredirect(tmp_path, registry):
    _redirect(registry, "GET", REGISTRY + "-/loop", REGISTRY + "-/loop")
    with pytest.raises(PystageError) as err:
        _client(tmp_path).request("GET", "-/loop")
    assert err.value.code == "EMAXREDIRECT"
    assert len(registry.calls) == 11  # the request and ten redirects followed


def test_a_location_that_is_not_a_url_is_efetch(tmp_path, registry):
    _redirect(registry, "GET", REGISTRY + "-/stage", "http://[bad")
    with pytest.raises(PystageError) as err:
        _client(tmp_path).request("GET", "-/stage")
    assert err.value.code == "EFETCH" and "invalid URL" in err.value.message
    assert len(registry.calls) == 1


def test_a_redirect_without_location_is_the_answer(tmp_path, registry):
    registry.get(REGISTRY + "-/stage", status=302)
    with pytest.raises(PystageError) as err:
        _client(tmp_path).request("GET", "-/stage")
    assert err.value.code == "E302"


def test_a_location_with_an_impossible_port_is_refused_before_it_is_followed(tmp_path, registry):
    _redirect(registry, "GET", REGISTRY + "-/stage", "http://registry.test:99999/x")
    with pytest.raises(PystageError) as err:
        _client(tmp_path).request("GET", "-/stage")
    assert err.value.code == "EINVALIDURL" and "99999" in err.value.message
    assert len(registry.calls) == 1
