"""Which credential goes to which URL: nerf-dart matching, lookup order, keyring, no leaks."""

from __future__ import annotations

import base64
import os
import re
import stat

import pytest
import responses
from helpers import (
    STAGE_ID,
    assert_clean_failure,
    requires_npm,
)

from pystage.config import load_config
from pystage.context import client_from_config
from pystage.credentials import (
    KEYRING_SERVICE,
    CredentialResolver,
    config_credential_for,
    keyring_backend,
    remove_credentials_from_npmrc,
    save_token_to_npmrc,
)


def cfg(tmp_path, npmrc: str = "", env=None, cli=None):
    rc = tmp_path / "npmrc"
    rc.write_text(npmrc)
    return load_config(
        cwd=tmp_path,
        env={"HOME": str(tmp_path), **(env or {})},
        cli={"userconfig": str(rc), "globalconfig": str(tmp_path / "g"), **(cli or {})},
    )


def test_longest_nerf_dart_wins_and_walks_up(tmp_path):
    c = cfg(
        tmp_path,
        "//h.example/:_authToken=root\n"
        "//h.example/npm/:_authToken=npm\n"
        "//h.example/npm/private:_authToken=noslash\n",
    )
    assert config_credential_for(c, "http://h.example/npm/pkg").token == "npm"
    # npm walks //h/npm/private/x -> //h/npm/private/ -> //h/npm/private: the slashless key matches
    assert config_credential_for(c, "http://h.example/npm/private/x").token == "noslash"
    assert config_credential_for(c, "http://h.example/npm/private").token == "noslash"
    assert config_credential_for(c, "http://h.example/other/").token == "root"
    assert config_credential_for(c, "https://h.example:8443/npm/") is None  # port is part of key
    assert config_credential_for(c, "http://evil.example/h.example/npm/") is None


def test_credential_kinds(tmp_path):
    pw = base64.b64encode(b"p@ss:word").decode()
    c = cfg(
        tmp_path,
        f"//a.example/:_auth={base64.b64encode(b'u:pw').decode()}\n"
        f"//b.example/:username=bob\n//b.example/:_password={pw}\n"
        "//c.example/:username=only-user\n"
        "//d.example/:certfile=/x/c.pem\n//d.example/:keyfile=/x/k.pem\n",
    )
    a = config_credential_for(c, "https://a.example/x")
    assert a.authorization == "Basic " + base64.b64encode(b"u:pw").decode()
    b = config_credential_for(c, "https://b.example/x")
    assert b.authorization == "Basic " + base64.b64encode(b"bob:p@ss:word").decode()
    assert "p@ss:word" in b.secrets()
    assert config_credential_for(c, "https://c.example/") is None  # username without password
    d = config_credential_for(c, "https://d.example/")
    assert d.authorization is None and d.certfile == "/x/c.pem"
    assert "p@ss" not in repr(b) and pw not in repr(b)


def test_lookup_order_env_then_npmrc_then_keyring(tmp_path, memory_keyring):
    memory_keyring.set_password(KEYRING_SERVICE, "//reg.example/", "from-keyring")
    c = cfg(tmp_path, "", cli={"registry": "https://reg.example/"})
    assert CredentialResolver(c, c.registry).for_url(c.registry + "x").token == "from-keyring"
    c = cfg(
        tmp_path, "//reg.example/:_authToken=from-npmrc\n", cli={"registry": "https://reg.example/"}
    )
    r = CredentialResolver(c, c.registry)
    assert r.for_url(c.registry).token == "from-npmrc"
    c = cfg(
        tmp_path,
        "//reg.example/:_authToken=from-npmrc\n",
        env={"npm_config_//reg.example/:_authToken": "from-npm-env"},
        cli={"registry": "https://reg.example/"},
    )
    assert CredentialResolver(c, c.registry).for_url(c.registry).token == "from-npm-env"
    c = cfg(
        tmp_path,
        "//reg.example/:_authToken=from-npmrc\n",
        env={"PYSTAGE_TOKEN": "from-pystage-env"},
        cli={"registry": "https://reg.example/"},
    )
    r = CredentialResolver(c, c.registry)
    assert r.for_url(c.registry + "-/whoami").token == "from-pystage-env"
    # PYSTAGE_TOKEN is keyed to the client's registry only
    assert r.for_url("https://elsewhere.example/") is None


def test_same_host_borrows_registry_credential_other_hosts_get_none(tmp_path):
    c = cfg(
        tmp_path, "//reg.example/npm/:_authToken=T\n", cli={"registry": "https://reg.example/npm/"}
    )
    r = CredentialResolver(c, c.registry, use_keyring=False)
    # npm: no key of its own, same host as the registry -> the registry's auth
    assert r.for_url("https://reg.example/tarballs/x.tgz").token == "T"
    assert r.for_url("https://cdn.example/npm/x.tgz") is None
    assert r.for_url("https://reg.example:444/npm/x.tgz") is None


def test_no_keyring_backend_is_none_not_an_error(tmp_path, no_keyring):
    assert keyring_backend() is None
    c = cfg(tmp_path, "", cli={"registry": "https://reg.example/"})
    assert CredentialResolver(c, c.registry).for_url(c.registry) is None


def test_save_and_remove_token_in_npmrc(tmp_path):
    rc = tmp_path / "npmrc"
    rc.write_text(
        "registry=http://r.example/\n//r.example/:username=u\n"
        "//r.example/:_password=cA==\n//o.example/:_authToken=other\n"
    )
    os.chmod(rc, 0o644)
    save_token_to_npmrc(str(rc), "http://r.example/", "NEWTOKEN")
    text = rc.read_text()
    assert "//r.example/:_authToken=NEWTOKEN" in text
    assert "username" not in text and "_password" not in text
    assert "//o.example/:_authToken=other" in text and "registry=http://r.example/" in text
    assert stat.S_IMODE(os.stat(rc).st_mode) == 0o600
    assert remove_credentials_from_npmrc(str(rc), "http://r.example/") is True
    assert "NEWTOKEN" not in rc.read_text()
    assert remove_credentials_from_npmrc(str(rc), "http://r.example/") is False
    fresh = tmp_path / "sub" / "fresh-npmrc"
    save_token_to_npmrc(str(fresh), "http://127.0.0.1:4873", "T")
    assert fresh.read_text() == "//127.0.0.1:4873/:_authToken=T\n"
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o600
    assert [p.name for p in fresh.parent.iterdir()] == ["fresh-npmrc"]  # no temp files left


# -- the no-leak rule, in-process (``responses``) -------------------------------

REGISTRY, OTHER = "http://registry.test/", "http://other.test/"


@pytest.fixture
def hosts():
    """The registry and another host, answered in-process by ``responses``."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _client(tmp_path, registry_url, npmrc):
    c = cfg(tmp_path, npmrc, cli={"registry": registry_url})
    client = client_from_config(c, interactive=False, use_keyring=False)
    client.sleep = lambda s: None
    return client


def _sent_to(mock, host: str) -> list:
    return [call.request.headers for call in mock.calls if call.request.url.startswith(host)]


def test_token_never_follows_a_cross_host_redirect(tmp_path, hosts):
    hosts.get(OTHER + "tarball.tgz", body=b"tgz", content_type="application/octet-stream")
    hosts.get(
        REGISTRY + "-/stage/abc/tarball", status=302, headers={"location": OTHER + "tarball.tgz"}
    )
    client = _client(tmp_path, REGISTRY, "//registry.test/:_authToken=SECRET-TOKEN\n")
    resp = client.request("GET", "-/stage/abc/tarball")
    assert resp.content == b"tgz"
    assert _sent_to(hosts, REGISTRY)[0]["authorization"] == "Bearer SECRET-TOKEN"
    (other,) = _sent_to(hosts, OTHER)
    assert "authorization" not in other
    assert not any("SECRET-TOKEN" in value for value in other.values())


def test_token_never_sent_to_absolute_url_on_another_host(tmp_path, hosts):
    hosts.get(OTHER + "pkg/-/pkg-1.0.0.tgz", body=b"x")
    client = _client(tmp_path, REGISTRY, "//registry.test/:_authToken=SECRET-TOKEN\n")
    client.request("GET", OTHER + "pkg/-/pkg-1.0.0.tgz")
    assert "authorization" not in _sent_to(hosts, OTHER)[0]


def test_redirect_to_a_host_with_its_own_key_uses_that_key(tmp_path, hosts):
    hosts.get(OTHER + "t.tgz", body=b"x")
    hosts.get(REGISTRY + "-/x", status=307, headers={"location": OTHER + "t.tgz"})
    client = _client(
        tmp_path,
        REGISTRY,
        "//registry.test/:_authToken=REGISTRY-TOKEN\n//other.test/:_authToken=OTHER-TOKEN\n",
    )
    client.request("GET", "-/x")
    assert _sent_to(hosts, REGISTRY)[0]["authorization"] == "Bearer REGISTRY-TOKEN"
    assert _sent_to(hosts, OTHER)[0]["authorization"] == "Bearer OTHER-TOKEN"


@pytest.mark.parametrize(
    "lines, problem",
    [
        (["_authToken=abc123secret"], "`_authToken` must be renamed to `//{host}/:_authToken`"),
        (["_auth=YWxpY2U6cHc="], "`_auth` must be renamed to `//{host}/:_auth`"),
        (
            ["username=alice", "_password=cHc="],
            "`username` must be renamed to `//{host}/:username`",
        ),
        (["username=alice"], "`username` is not allowed in user config"),
    ],
)
def test_unkeyed_credentials_are_refused_as_npm_refuses_them(
    registry_server, run_pystage, tmp_path, lines, problem
):
    # npm 11 fails with ERR_INVALID_AUTH; pystage ignored them and said "not logged in"
    host = f"127.0.0.1:{registry_server.port}"
    npmrc = tmp_path / "npmrc"
    npmrc.write_text("\n".join([f"registry={registry_server.url}", *lines]) + "\n")
    for args in (("whoami",), ("list",), ("approve", STAGE_ID)):
        result = run_pystage(*args, "--userconfig", npmrc)
        assert_clean_failure(result, "ERR_INVALID_AUTH")
        assert problem.format(host=host) in result.stderr
        assert "abc123secret" not in result.stderr


requires_npm_11 = requires_npm((11,))


@requires_npm_11
def test_unkeyed_token_message_matches_npm(registry_server, run_pystage, tmp_path, npm_env):
    import subprocess

    npmrc = tmp_path / "npmrc"
    npmrc.write_text(f"registry={registry_server.url}\n_authToken=abc123secret\n")
    theirs = subprocess.run(
        ["npm", "whoami", "--userconfig", str(npmrc)],
        capture_output=True,
        text=True,
        env=npm_env,
        timeout=120,
    )
    mine = run_pystage("whoami", "--userconfig", npmrc)
    assert "ERR_INVALID_AUTH" in theirs.stderr and "ERR_INVALID_AUTH" in mine.stderr
    expected = re.search(r"Invalid auth configuration found: (.*)", theirs.stderr).group(1)
    assert expected in mine.stderr


def test_netrc_is_not_a_credential_source(scripted_cli, tmp_path):
    # npm never reads ~/.netrc; a token-less pystage must not send Basic auth from it.
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login mallory password hunter2\n")
    netrc.chmod(0o600)
    scripted_cli.script[("GET", "/-/stage")] = (200, {}, {"items": [], "total": 0})
    result = scripted_cli.run("list", "--json")
    assert result.returncode == 0, result.stderr
    assert "authorization" not in scripted_cli.requests[0]["headers"]
