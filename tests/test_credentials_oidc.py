"""Trusted publishing (OIDC) and the make_client glue."""

from __future__ import annotations

import responses

from pystage.cli.options import GlobalOptions
from pystage.context import make_client

REG = "https://reg.example/"
GH = "https://token.actions.example/idtoken?x=1"


def options(tmp_path, npmrc=""):
    rc = tmp_path / "npmrc"
    rc.write_text(npmrc)
    return GlobalOptions(registry=REG, userconfig=str(rc))


def gh_env(tmp_path):
    return {
        "HOME": str(tmp_path),
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": GH,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-bearer",
        "npm_config_globalconfig": str(tmp_path / "g"),
    }


@responses.activate
def test_github_actions_exchange_gives_a_package_scoped_token(tmp_path):
    responses.get("https://token.actions.example/idtoken", json={"value": "id.jwt.token"})
    responses.post(
        REG + "-/npm/v1/oidc/token/exchange/package/@s%2fpkg", json={"token": "npm-oidc-token"}
    )
    responses.post(REG + "-/stage/package/@s%2fpkg", status=201, json={"stageId": "x"})
    client = make_client(
        options(tmp_path, "//reg.example/:_authToken=configured\n"),
        command="publish",
        package="@s/pkg",
        cwd=tmp_path,
        env=gh_env(tmp_path),
        interactive=False,
    )
    client.request("POST", "-/stage/package/@s%2fpkg", json={})
    id_req, exchange, stage = (c.request for c in responses.calls)
    assert "audience=npm%3Areg.example" in id_req.url
    assert id_req.headers["authorization"] == "Bearer gh-bearer"
    assert exchange.headers["authorization"] == "Bearer id.jwt.token"
    assert stage.headers["authorization"] == "Bearer npm-oidc-token"


@responses.activate
def test_exchange_refused_falls_back_silently_to_configured_token(tmp_path):
    responses.post(
        REG + "-/npm/v1/oidc/token/exchange/package/pkg", status=404, json={"error": "not found"}
    )
    responses.post(REG + "-/stage/package/pkg", status=201, json={"stageId": "x"})
    env = {
        "HOME": str(tmp_path),
        "GITLAB_CI": "true",
        "NPM_ID_TOKEN": "gitlab.id.token",
        "npm_config_globalconfig": str(tmp_path / "g"),
    }
    client = make_client(
        options(tmp_path, "//reg.example/:_authToken=configured\n"),
        command="publish",
        package="pkg",
        cwd=tmp_path,
        env=env,
        interactive=False,
    )
    client.request("POST", "-/stage/package/pkg", json={})
    assert responses.calls[-1].request.headers["authorization"] == "Bearer configured"


@responses.activate
def test_no_exchange_outside_ci_or_for_other_commands(tmp_path):
    responses.get(REG + "-/stage", json={"items": []})
    env = {"HOME": str(tmp_path), "npm_config_globalconfig": str(tmp_path / "g")}
    make_client(
        options(tmp_path),
        command="publish",
        package="pkg",
        cwd=tmp_path,
        env=env,
        interactive=False,
    ).request("GET", "-/stage")
    make_client(
        options(tmp_path),
        command="stage",
        package="pkg",
        cwd=tmp_path,
        env=gh_env(tmp_path),
        interactive=False,
    ).request("GET", "-/stage")
    assert [c.request.url for c in responses.calls] == [REG + "-/stage"] * 2


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
