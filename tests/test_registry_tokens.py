"""Tokens as asked for: read-only, stage-only, CIDR ranges; listed, revoked; never more rights.

Over real HTTP, and with the real ``npm token`` (npm 11.19) where it can ask.
"""

import json
import os
import subprocess

import pytest
from helpers import User, escaped, make_tarball, publish_document, requires_npm


def token_user(reg, base: User, **body) -> tuple[User, dict]:
    response = reg.request(
        "POST", "-/npm/v1/tokens", base, json={"password": base.password, **body}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    return User(base.name, base.password, created["token"], base.totp_secret), created


@pytest.fixture
def reg(registry_server):
    alice = registry_server.add_user("alice")
    registry_server.publish(alice, "pkg", "1.0.0")
    registry_server.alice = alice
    return registry_server


def _publish(reg, user, version, stage=False):
    tarball = make_tarball("pkg", version)
    return reg.request(
        "POST" if stage else "PUT",
        f"-/stage/package/{escaped('pkg')}" if stage else "pkg",
        user,
        json=publish_document(reg.url, "pkg", version, tarball),
    )


def test_created_token_says_what_it_is(reg):
    _, created = token_user(reg, reg.alice, readonly=True, cidr_whitelist=["127.0.0.1/32"])
    assert created["readonly"] is True
    assert created["stage_only"] is False
    assert created["cidr_whitelist"] == ["127.0.0.1/32"]
    assert set(created) >= {"token", "key", "created", "updated"}


def test_read_only_token_reads_but_never_writes(reg):
    ro, _ = token_user(reg, reg.alice, readonly=True)
    assert reg.request("GET", "-/whoami", ro).json() == {"username": "alice"}
    assert reg.request("GET", "pkg", ro).status_code == 200
    stage_id = reg.stage(reg.alice, "pkg", "1.1.0")
    assert reg.request("GET", f"-/stage/{stage_id}", ro).status_code == 200
    refused = [
        _publish(reg, ro, "2.0.0"),
        _publish(reg, ro, "2.1.0", stage=True),
        reg.request("POST", f"-/stage/{stage_id}/approve", ro),
        reg.request("DELETE", f"-/stage/{stage_id}", ro),
        reg.request("PUT", "-/package/pkg/dist-tags/beta", ro, json="1.0.0"),
        reg.request("POST", "-/npm/v1/tokens", ro, json={"password": "correct horse"}),
        reg.request("POST", "-/npm/v1/user", ro, json={"email": "x@example.com"}),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "this token is read-only"
    assert set(reg.request("GET", "pkg").json()["versions"]) == {"1.0.0"}
    assert reg.request("GET", f"-/stage/{stage_id}", reg.alice).status_code == 200


def test_stage_only_token_stages_and_does_nothing_else(reg):
    so, created = token_user(reg, reg.alice, stage_only=True)
    assert created["stage_only"] is True
    staged = _publish(reg, so, "1.1.0", stage=True)
    assert staged.status_code == 201, staged.text
    stage_id = staged.json()["stageId"]
    assert reg.request("GET", f"-/stage/{stage_id}", so).status_code == 200
    assert reg.request("GET", f"-/stage/{stage_id}/tarball", so).status_code == 200
    assert reg.request("GET", "-/whoami", so).status_code == 200
    for response in (
        reg.request("POST", f"-/stage/{stage_id}/approve", so),
        reg.request("DELETE", f"-/stage/{stage_id}", so),
        _publish(reg, so, "2.0.0"),
        reg.request("PUT", "-/package/pkg/dist-tags/beta", so, json="1.0.0"),
    ):
        assert response.status_code == 403
        assert response.json()["error"] == "this token may only stage"


def test_cidr_whitelist_is_enforced_on_every_request(reg):
    outside, _ = token_user(reg, reg.alice, cidr_whitelist=["192.0.2.0/24"])
    inside, _ = token_user(reg, reg.alice, cidr_whitelist=["10.0.0.0/8", "127.0.0.0/8"])
    for method, path in (("GET", "-/whoami"), ("GET", "-/stage"), ("GET", "pkg")):
        response = reg.request(method, path, outside)
        assert response.status_code == 403, (path, response.text)
        assert "may not be used from 127.0.0.1" in response.json()["error"]
        assert reg.request(method, path, inside).status_code == 200
    assert _publish(reg, outside, "2.0.0").status_code == 403
    assert _publish(reg, inside, "2.0.0").status_code == 201


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("packages", ["pkg"], "package scoping"),
        ("scopes", ["@demo"], "scope scoping"),
        ("orgs", ["demo"], "organization scoping"),
        ("expires", 30, "expiry"),
        ("bypass_2fa", True, "bypassing two-factor"),
        ("packages_and_scopes_permission", "no-access", "packages_and_scopes_permission"),
    ],
)
def test_unsupported_restrictions_are_refused_by_name(reg, field, value, words):
    before = reg.request("GET", "-/npm/v1/tokens", reg.alice).json()["total"]
    response = reg.request(
        "POST", "-/npm/v1/tokens", reg.alice, json={"password": "correct horse", field: value}
    )
    assert response.status_code == 400
    assert words in response.json()["error"]
    assert reg.request("GET", "-/npm/v1/tokens", reg.alice).json()["total"] == before


@pytest.mark.parametrize(
    "body",
    [
        {"readonly": "yes"},
        {"cidr_whitelist": ["not-an-ip"]},
        {"cidr_whitelist": "10.0.0.0/8 or anything"},
        {"cidr_whitelist": [7]},
        {"readonly": True, "stage_only": True},
    ],
)
def test_malformed_restrictions_are_400_not_a_full_token(reg, body):
    response = reg.request(
        "POST", "-/npm/v1/tokens", reg.alice, json={"password": "correct horse", **body}
    )
    assert response.status_code == 400, response.text


def test_token_creation_needs_the_password_and_the_otp(reg):
    assert (
        reg.request("POST", "-/npm/v1/tokens", reg.alice, json={"password": "nope"}).status_code
        == 403
    )
    alice = reg.enrol_2fa(reg.alice)
    challenge = reg.request("POST", "-/npm/v1/tokens", alice, json={"password": alice.password})
    assert challenge.status_code == 401 and "otp" in challenge.headers["www-authenticate"].lower()
    ok = reg.request(
        "POST",
        "-/npm/v1/tokens",
        alice,
        otp=reg.totp_code(alice),
        json={"password": alice.password, "readonly": True},
    )
    assert ok.status_code == 201 and ok.json()["readonly"] is True


def test_list_masks_tokens_and_revoke_removes_them(reg):
    ro, created = token_user(reg, reg.alice, readonly=True, name="ci read")
    listing = reg.request("GET", "-/npm/v1/tokens", reg.alice).json()
    assert listing["total"] == len(listing["objects"]) == 2  # the login token and this one
    assert listing["urls"] == {}
    entry = next(o for o in listing["objects"] if o["key"] == created["key"])
    assert entry["readonly"] is True and entry["name"] == "ci read"
    assert ro.token.startswith(entry["token"]) and len(entry["token"]) < len(ro.token) // 2
    assert ro.token not in json.dumps(listing)
    deleted = reg.request("DELETE", f"-/npm/v1/tokens/token/{created['key']}", reg.alice)
    assert deleted.status_code == 204
    assert reg.request("GET", "-/whoami", ro).status_code == 401
    assert (
        reg.request("DELETE", f"-/npm/v1/tokens/token/{created['key']}", reg.alice).status_code
        == 404
    )


def test_a_read_only_token_may_revoke_itself_but_not_others(reg):
    ro, created = token_user(reg, reg.alice, readonly=True)
    other, other_created = token_user(reg, reg.alice)
    refused = reg.request("DELETE", f"-/npm/v1/tokens/token/{other_created['key']}", ro)
    assert refused.status_code == 403
    assert reg.request("GET", "-/whoami", other).status_code == 200
    assert reg.request("DELETE", f"-/npm/v1/tokens/token/{created['key']}", ro).status_code == 204
    assert reg.request("GET", "-/whoami", ro).status_code == 401


def test_nobody_lists_or_revokes_anothers_tokens(reg):
    bob = reg.add_user("bob")
    _, created = token_user(reg, reg.alice)
    assert all(
        o["key"] != created["key"]
        for o in reg.request("GET", "-/npm/v1/tokens", bob).json()["objects"]
    )
    response = reg.request("DELETE", f"-/npm/v1/tokens/token/{created['key']}", bob)
    assert response.status_code == 404


# -- the real npm ------------------------------------------------------------------------


class NpmToken:
    def __init__(self, tmp_path, reg, user):
        self.npmrc = reg.write_npmrc(tmp_path / "npmrc", user)
        self.env = {
            **os.environ,
            "npm_config_userconfig": str(self.npmrc),
            "npm_config_cache": str(tmp_path / "npm-cache"),
            "npm_config_update_notifier": "false",
            "NO_COLOR": "1",
        }
        self.cwd = tmp_path

    def run(self, *args):
        return subprocess.run(
            ["npm", "token", *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )


@requires_npm((11, 15))
@pytest.mark.npm
def test_npm_token_create_list_revoke(reg, tmp_path):
    npm = NpmToken(tmp_path, reg, reg.alice)
    created = npm.run("create", "--password", "correct horse", "--cidr", "192.0.2.0/24", "--json")
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)
    assert token["cidr_whitelist"] == ["192.0.2.0/24"]
    from_here = User("alice", "correct horse", token["token"])
    assert reg.request("GET", "-/whoami", from_here).status_code == 403

    readonly = npm.run(
        "create",
        "--password",
        "correct horse",
        "--packages-and-scopes-permission",
        "read-only",
        "--json",
    )
    assert readonly.returncode == 0, readonly.stderr
    ro = User("alice", "correct horse", json.loads(readonly.stdout)["token"])
    assert _publish(reg, ro, "2.0.0").status_code == 403

    refused = npm.run("create", "--password", "correct horse", "--expires", "30")
    assert refused.returncode != 0
    assert "expiry" in refused.stderr and "no token was created" in refused.stderr

    listing = npm.run("list", "--json")
    assert listing.returncode == 0, listing.stderr
    tokens = json.loads(listing.stdout)
    assert len(tokens) == 3
    assert token["token"] not in listing.stdout and ro.token not in listing.stdout

    revoke = npm.run("revoke", tokens[-1]["id"])  # the newest: the read-only one
    assert revoke.returncode == 0, revoke.stderr
    assert "Removed 1 token" in revoke.stdout
    assert len(json.loads(npm.run("list", "--json").stdout)) == 2
    assert reg.request("GET", "-/whoami", ro).status_code == 401
    by_value = npm.run("revoke", from_here.token)  # npm also revokes by the token itself
    assert by_value.returncode == 0, by_value.stderr
    assert len(json.loads(npm.run("list", "--json").stdout)) == 1
