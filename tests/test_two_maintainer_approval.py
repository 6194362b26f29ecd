"""A policy of two approvers, set and used through the CLI: the first maintainer's approve
is recorded (202, "1 of 2 approvals"), the item shows it, the same maintainer cannot count
twice, the second maintainer's approve publishes (the real npm sees the version)."""

from __future__ import annotations

import json

import pytest
from helpers import NPM_VERSION, make_crew, make_package, run_npm


def _two_approvers(crew):
    """bob becomes an owner, the policy wants two approvers (alice has no 2FA yet)."""
    added = crew.run(crew.alice, "owner", "add", "pkg", "bob")
    assert added.returncode == 0, added.stderr
    changed = crew.run(crew.alice, "policy", "set", "pkg", "--approvers", "2")
    assert changed.returncode == 0, changed.stderr
    assert "approvers: 2" in changed.stdout


@pytest.fixture
def two_approvers(tmp_path, registry_server):
    crew = make_crew(tmp_path, registry_server, _two_approvers)
    pkg = make_package(crew.home / "pkg", name="pkg", version="1.1.0")
    staged = crew.run(crew.alice, "publish", "-m", "fixes #12", "--json", cwd=pkg)
    assert staged.returncode == 0, staged.stderr
    crew.stage_id = json.loads(staged.stdout)["pkg"]["stageId"]
    return crew


def _item(crew, user, stage_id):
    shown = crew.run(user, "view", stage_id, "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_first_approval_is_recorded_second_publishes(two_approvers, npm_env):
    crew, stage_id = two_approvers, two_approvers.stage_id
    first = crew.run(crew.alice, "approve", stage_id, "--otp", crew.code(crew.alice))
    assert first.returncode == 0, first.stderr
    assert "1 of 2 approvals" in first.stdout and "published" in first.stdout
    item = _item(crew, crew.bob, stage_id)
    assert [a["actor"] for a in item["approvals"]] == ["alice"]
    assert item["approvalsRequired"] == 2
    assert item["message"] == "fixes #12"
    assert "1.1.0" not in crew.reg.request("GET", "pkg").json()["versions"]

    second = crew.run(crew.bob, "approve", stage_id, "--otp", crew.code(crew.bob), "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["published"] is True
    assert "1.1.0" in crew.reg.request("GET", "pkg").json()["versions"]
    if NPM_VERSION:  # the real npm sees it too
        viewed = run_npm(
            ["view", "pkg@1.1.0", "version", "--registry", crew.url], cwd=crew.home, env=npm_env
        )
        assert viewed.returncode == 0, viewed.stderr
        assert viewed.stdout.strip() == "1.1.0"

    history = json.loads(crew.run(crew.alice, "history", "pkg", "--json").stdout)
    approvals = [e for e in history if e["event"] == "approve"]
    assert [(e["actor"], e["detail"]) for e in reversed(approvals)] == [
        ("alice", {"approval": 1, "of": 2}),
        ("bob", {"approval": 2, "of": 2}),
    ]
    table = crew.run(crew.alice, "history", "pkg").stdout
    assert "approval 2 of 2" in table and "message: fixes #12" in table


def test_the_same_maintainer_approving_twice_does_not_count(two_approvers):
    crew, stage_id = two_approvers, two_approvers.stage_id
    crew.run(crew.alice, "approve", stage_id, "--otp", crew.code(crew.alice))
    again = crew.run(crew.alice, "approve", stage_id, "--otp", crew.code(crew.alice))
    assert again.returncode == 5, again.stderr
    assert "already approved" in again.stderr
    item = _item(crew, crew.alice, stage_id)
    assert [a["actor"] for a in item["approvals"]] == ["alice"]
    assert "1.1.0" not in crew.reg.request("GET", "pkg").json()["versions"]


def test_a_policy_change_without_otp_is_refused(crew):
    refused = crew.run(crew.alice, "policy", "set", "pkg", "--expire-after", "7d")
    assert refused.returncode == 3, refused.stderr
    assert "EOTP" in refused.stderr
    shown = crew.run(crew.alice, "policy", "show", "pkg", "--json")
    assert json.loads(shown.stdout) == {"package": "pkg", "approvers": 1, "expireAfter": None}
    assert "expire after: never" in crew.run(crew.alice, "policy", "show", "pkg").stdout


def test_policy_needs_enough_maintainers_and_a_maintainer(crew):
    too_many = crew.run(
        crew.alice, "policy", "set", "pkg", "--approvers", "2", "--otp", crew.code(crew.alice)
    )
    assert too_many.returncode == 1 and "1 maintainer" in too_many.stderr
    for user in (crew.carol, crew.alice):
        hidden = crew.run(user, "policy", "show", "pkg" if user is crew.carol else "nope")
        assert hidden.returncode == 4, hidden.stderr
        assert "that you maintain" in hidden.stderr
    for bad in (("--approvers", "0"), ("--expire-after", "soon"), ("--expire-after", "0")):
        usage = crew.run(crew.alice, "policy", "set", "pkg", *bad)
        assert usage.returncode == 2, (bad, usage.stderr)


def test_history_is_for_maintainers_only(crew):
    for user, package in ((crew.carol, "pkg"), (crew.alice, "no-such-package")):
        hidden = crew.run(user, "history", package)
        assert hidden.returncode == 4, hidden.stderr
        assert "that you maintain" in hidden.stderr and "Traceback" not in hidden.stderr
    assert json.loads(crew.run(crew.carol, "history", "--json").stdout) == []
    assert crew.run(crew.carol, "history").stdout == "No history.\n"
    mine = json.loads(crew.run(crew.alice, "history", "--json").stdout)
    assert [e["event"] for e in mine] == ["publish"] and mine[0]["package"] == "pkg"


def test_at_a_terminal_policy_set_asks_for_the_one_time_password(crew):
    pexpect = pytest.importorskip("pexpect")
    env = {k: v for k, v in crew.env(crew.alice).items() if k != "CI"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"  # no stored secret
    args = crew.args(crew.alice, "policy", "set", "pkg", "--expire-after", "48h")
    child = pexpect.spawn(args[0], args[1:], env=env, encoding="utf-8", timeout=60)
    child.expect("OTP")
    child.sendline(crew.code(crew.alice))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "expire after: 2d (172800 s)" in child.before
    shown = json.loads(crew.run(crew.alice, "policy", "show", "pkg", "--json").stdout)
    assert shown["expireAfter"] == 172800
