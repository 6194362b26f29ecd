"""Package owners on the embedded registry, driven by the real ``npm owner`` and over HTTP."""

import os
import subprocess

import pytest
from helpers import add_owner, escaped, events, remove_owner, requires_npm, set_policy


def _owners(reg, package):
    return [m["name"] for m in reg.request("GET", escaped(package)).json()["maintainers"]]


class Npm:
    def __init__(self, tmp_path, reg, user):
        self.npmrc = reg.write_npmrc(tmp_path / f"npmrc-{user.name}", user)
        self.env = {
            **os.environ,
            "npm_config_userconfig": str(self.npmrc),
            "npm_config_cache": str(tmp_path / "npm-cache"),
            "npm_config_update_notifier": "false",
            "NO_COLOR": "1",
        }
        self.cwd = tmp_path

    def __call__(self, *args):
        return subprocess.run(
            ["npm", *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )


@pytest.fixture
def reg(registry_server):
    reg = registry_server
    alice = reg.add_user("alice")
    reg.publish(alice, "pkg", "1.0.0")
    reg.publish(alice, "@team/lib", "1.0.0")
    reg.alice = reg.enrol_2fa(alice)
    reg.bob = reg.add_user("bob")
    reg.carol = reg.add_user("carol")
    return reg


@requires_npm((11,))
@pytest.mark.npm
def test_npm_owner_ls_add_rm(tmp_path, reg):
    npm = Npm(tmp_path, reg, reg.alice)
    listed = npm("owner", "ls", "pkg")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "alice <alice@example.com>"

    added = npm("owner", "add", "bob", "pkg", "--otp", reg.totp_code(reg.alice))
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "+ bob (pkg)"
    listed = npm("owner", "ls", "pkg")
    assert listed.stdout.splitlines() == ["alice <alice@example.com>", "bob <bob@example.com>"]

    # the new owner may stage and see staged versions at once
    stage_id = reg.stage(reg.bob, "pkg", "1.1.0")
    assert reg.request("GET", f"-/stage/{stage_id}", reg.bob).status_code == 200

    scoped = npm("owner", "add", "carol", "@team/lib", "--otp", reg.totp_code(reg.alice))
    assert scoped.returncode == 0, scoped.stderr
    assert _owners(reg, "@team/lib") == ["alice", "carol"]

    bob = Npm(tmp_path, reg, reg.bob)  # no 2FA: no code needed
    removed = bob("owner", "rm", "alice", "pkg")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == "- alice (pkg)"
    assert _owners(reg, "pkg") == ["bob"]
    assert reg.request("GET", f"-/stage/{stage_id}", reg.alice).status_code == 404

    last = bob("owner", "rm", "bob", "pkg")  # npm itself refuses this one
    assert last.returncode != 0 and "EOWNERRM" in last.stderr
    log = [(e["event"], e["actor"], e["detail"]) for e in events(reg, reg.bob, "pkg")]
    assert log[:2] == [
        ("owner-rm", "bob", {"user": "alice"}),
        ("stage", "bob", {"tag": "latest"}),
    ]
    assert ("owner-add", "alice", {"user": "bob"}) in log


@requires_npm((11,))
@pytest.mark.npm
def test_npm_owner_add_needs_the_code_and_a_known_user(tmp_path, reg):
    npm = Npm(tmp_path, reg, reg.alice)
    no_code = npm("owner", "add", "bob", "pkg")
    assert no_code.returncode != 0
    # npm wraps the OTP challenge it cannot answer without a terminal
    assert "EOWNERMUTATE" in no_code.stderr and "OTP required" in no_code.stderr
    unknown = npm("owner", "add", "nobody", "pkg", "--otp", "123456")
    assert unknown.returncode != 0 and "404" in unknown.stderr
    assert _owners(reg, "pkg") == ["alice"]
    assert [e["event"] for e in events(reg, reg.alice, "pkg")] == ["publish"]


def test_the_last_maintainer_cannot_be_removed(reg):
    response = remove_owner(reg, reg.alice, "alice", "pkg")
    assert response.status_code == 400
    assert "last maintainer" in response.json()["error"]
    assert _owners(reg, "pkg") == ["alice"]


def test_only_a_maintainer_changes_owners(reg):
    doc = reg.request("GET", "pkg").json()
    body = {"_id": "pkg", "_rev": doc["_rev"], "maintainers": [{"name": "alice"}, {"name": "bob"}]}
    intruder = reg.request("PUT", f"pkg/-rev/{doc['_rev']}", reg.bob, json=body)
    assert intruder.status_code == 403
    anonymous = reg.request("PUT", f"pkg/-rev/{doc['_rev']}", json=body)
    assert anonymous.status_code == 401
    missing = reg.request("PUT", f"nope/-rev/{doc['_rev']}", reg.bob, json={**body, "_id": "nope"})
    assert missing.status_code == 404
    assert _owners(reg, "pkg") == ["alice"]


@pytest.mark.parametrize(
    "body, status, says",
    [
        ({"maintainers": [{"name": "alice"}], "versions": {}}, 400, "versions"),
        ({"maintainers": [{"name": "alice"}], "dist-tags": {"latest": "0.0.1"}}, 400, "dist-tags"),
        ({"maintainers": "alice"}, 400, "list"),
        ({"maintainers": [{"name": 3}]}, 400, "name"),
        ({"maintainers": [{"name": "alice"}, {"name": "ghost"}]}, 404, "ghost"),
        ({"_id": "other", "maintainers": [{"name": "alice"}]}, 400, "_id"),
        ([], 400, "JSON object"),
    ],
)
def test_only_the_maintainers_list_changes_and_only_to_real_users(reg, body, status, says):
    doc = reg.request("GET", "pkg").json()
    response = reg.request(
        "PUT", f"pkg/-rev/{doc['_rev']}", reg.alice, otp=reg.totp_code(reg.alice), json=body
    )
    assert response.status_code == status, response.text
    assert says in response.json()["error"]
    after = reg.request("GET", "pkg").json()
    assert after == doc  # nothing changed, not even the revision


def test_a_stale_revision_is_a_conflict(reg):
    stale = reg.request("GET", "pkg").json()
    assert add_owner(reg, reg.alice, "bob", "pkg").status_code == 200
    response = reg.request(
        "PUT",
        f"pkg/-rev/{stale['_rev']}",
        reg.alice,
        otp=reg.totp_code(reg.alice),
        json={
            "_id": "pkg",
            "_rev": stale["_rev"],
            "maintainers": [*stale["maintainers"], {"name": "carol"}],
        },
    )
    assert response.status_code == 409, response.text
    assert _owners(reg, "pkg") == ["alice", "bob"]  # bob was not dropped by the stale list


def test_an_owner_the_policy_needs_cannot_be_removed(reg):
    assert add_owner(reg, reg.alice, "bob", "pkg").status_code == 200
    assert set_policy(reg, reg.bob, "pkg", approvers=2).status_code == 200
    response = remove_owner(reg, reg.bob, "alice", "pkg")
    assert response.status_code == 409
    assert "needs 2 approvers" in response.json()["error"]
    assert _owners(reg, "pkg") == ["alice", "bob"]


def test_looking_up_another_user_shows_name_and_email_only(reg):
    response = reg.request("GET", "-/user/org.couchdb.user:bob", reg.carol)
    assert response.json() == {
        "_id": "org.couchdb.user:bob",
        "name": "bob",
        "email": "bob@example.com",
    }
    assert reg.request("GET", "-/user/org.couchdb.user:ghost", reg.carol).status_code == 404
    assert reg.request("GET", "-/user/org.couchdb.user:bob").status_code == 401
