"""Trusted publishing (OIDC) and the make_client glue."""

from __future__ import annotations

import re

import pytest
import responses

from pystage.cli.options import GlobalOptions
from pystage.context import make_client


def options(tmp_path, registry, npmrc=""):
    rc = tmp_path / "npmrc"
    rc.write_text(npmrc)
    return GlobalOptions(registry=registry, userconfig=str(rc))


def configured_token(registry: str) -> str:
    return f"{registry.split(':', 1)[1]}:_authToken=configured\n"  # //registry.test/


def gh_env(tmp_path, id_token_url):
    return {
        "HOME": str(tmp_path),
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": id_token_url,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-bearer",
        "npm_config_globalconfig": str(tmp_path / "g"),
    }


REG, GH = "http://registry.test/", "http://idtoken.test/"


@pytest.fixture
def hosts():
    """The registry and GitHub's id-token service, answered in-process by ``responses``."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _calls(mock, host: str) -> list:
    return [call.request for call in mock.calls if call.request.url.startswith(host)]


def test_github_actions_exchange_gives_a_package_scoped_token(tmp_path, hosts):
    # the registry and GitHub's id-token service are two hosts
    hosts.get(GH + "idtoken", json={"value": "id.jwt.token"})
    # %2f or %2F: the same URL (requests upper-cases escapes, npm sends %2f)
    exchange_url = re.compile(re.escape(REG) + r"-/npm/v1/oidc/token/exchange/package/@s%2[fF]pkg")
    hosts.post(exchange_url, json={"token": "npm-oidc-token"})
    hosts.post(re.compile(re.escape(REG) + "-/stage/package/@s%2[fF]pkg"), status=201, json={})
    client = make_client(
        options(tmp_path, REG, configured_token(REG)),
        command="publish",
        package="@s/pkg",
        cwd=tmp_path,
        env=gh_env(tmp_path, GH + "idtoken?x=1"),
        interactive=False,
    )
    client.request("POST", "-/stage/package/@s%2fpkg", json={})
    (id_req,) = _calls(hosts, GH)
    exchange, stage = _calls(hosts, REG)
    # the audience names the registry host, after the query the workflow gave
    assert id_req.path_url == "/idtoken?x=1&audience=npm%3Aregistry.test"
    assert id_req.headers["authorization"] == "Bearer gh-bearer"
    assert exchange.path_url.lower() == "/-/npm/v1/oidc/token/exchange/package/@s%2fpkg"
    assert exchange.headers["authorization"] == "Bearer id.jwt.token"
    assert stage.headers["authorization"] == "Bearer npm-oidc-token"


def test_exchange_refused_falls_back_silently_to_configured_token(tmp_path, hosts):
    hosts.post(
        REG + "-/npm/v1/oidc/token/exchange/package/pkg", status=404, json={"error": "not found"}
    )
    hosts.post(REG + "-/stage/package/pkg", status=201, json={"stageId": "x"})
    env = {
        "HOME": str(tmp_path),
        "GITLAB_CI": "true",
        "NPM_ID_TOKEN": "gitlab.id.token",
        "npm_config_globalconfig": str(tmp_path / "g"),
    }
    client = make_client(
        options(tmp_path, REG, configured_token(REG)),
        command="publish",
        package="pkg",
        cwd=tmp_path,
        env=env,
        interactive=False,
    )
    client.request("POST", "-/stage/package/pkg", json={})
    exchange, stage = _calls(hosts, REG)
    assert exchange.headers["authorization"] == "Bearer gitlab.id.token"
    assert stage.headers["authorization"] == "Bearer configured"


def test_no_exchange_outside_ci_or_for_other_commands(tmp_path, hosts):
    hosts.get(REG + "-/stage", json={"items": []})
    env = {"HOME": str(tmp_path), "npm_config_globalconfig": str(tmp_path / "g")}
    make_client(
        options(tmp_path, REG),
        command="publish",
        package="pkg",
        cwd=tmp_path,
        env=env,
        interactive=False,
    ).request("GET", "-/stage")
    make_client(
        options(tmp_path, REG),
        command="stage",
        package="pkg",
        cwd=tmp_path,
        env=gh_env(tmp_path, GH + "idtoken"),
        interactive=False,
    ).request("GET", "-/stage")
    assert [(r.method, r.path_url) for r in _calls(hosts, REG)] == [("GET", "/-/stage")] * 2
    assert _calls(hosts, GH) == []


def test_make_client_applies_publish_config_and_scoped_registry(tmp_path):
    env = {"HOME": str(tmp_path), "npm_config_globalconfig": str(tmp_path / "g")}
    opts = GlobalOptions(userconfig=str(tmp_path / "rc"))
    (tmp_path / "rc").write_text("@corp:registry=http://corp.example/\n")
    client = make_client(
        opts,
        cwd=tmp_path,
        env=env,
        manifest={"name": "plain", "publishConfig": {"registry": "http://pc.example/x"}},
        oidc=False,
    )
    assert client.registry == "http://pc.example/x/"
    client = make_client(opts, cwd=tmp_path, env=env, package="@corp/a", oidc=False)
    assert client.registry == "http://corp.example/"
    # --registry is a cli flag: it beats publishConfig
    opts.registry = "http://flag.example"
    client = make_client(
        opts,
        cwd=tmp_path,
        env=env,
        manifest={"name": "plain", "publishConfig": {"registry": "http://pc.example/x"}},
        oidc=False,
    )
    assert client.registry == "http://flag.example/"
