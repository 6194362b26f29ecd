"""approve/reject of many staged versions: one OTP for the batch, dependency order,
dependents of a failure skipped, duplicates and unknown ids refused before anything
is sent, a picker at a terminal; on the embedded registry, end to end."""

from __future__ import annotations

import json
import os
import sys

import pytest
from helpers import make_package


@pytest.fixture
def maintainer(tmp_path, registry_server, run_pystage):
    """alice on the embedded registry and a pystage runner logged in as her. (It was
    called ``team``, silently shadowing fixtures_team.py's quite different ``team``.)"""
    user = registry_server.add_user("alice")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)

    def ours(*args, cwd=tmp_path, **kw):
        return run_pystage(
            *args, "--registry", registry_server.url, "--userconfig", npmrc, cwd=cwd, **kw
        )

    return registry_server, user, npmrc, ours


SEED = "0.0.1"  # the registry stages only packages that exist: each gets this first


def _stage(server, user, name, version, **kw) -> str:
    if server.request("GET", name.replace("/", "%2f")).status_code == 404:
        server.publish(user, name, SEED)
    return server.stage(user, name, version, **kw)


def _published(server, name) -> list[str]:
    """The versions published since the seed."""
    res = server.request("GET", name.replace("/", "%2f"))
    versions = res.json().get("versions", {}) if res.status_code == 200 else {}
    return sorted(v for v in versions if v != SEED)


def _staged(server, user) -> list[str]:
    items = server.request("GET", "-/stage", user).json()["items"]
    return sorted(f"{i['packageName']}@{i['version']}" for i in items)


def _workspace(root, deps=True):
    """A workspace whose cli and web need core (web also needs cli)."""
    root.mkdir()
    (root / "package.json").write_text(
        json.dumps({"name": "root", "private": True, "workspaces": ["packages/*"]})
    )
    make_package(root / "packages" / "core", name="ws-core", version="1.0.0")
    make_package(
        root / "packages" / "cli",
        name="ws-cli",
        version="1.0.0",
        dependencies={"ws-core": "^1.0.0"} if deps else {},
    )
    make_package(
        root / "packages" / "web",
        name="ws-web",
        version="1.0.0",
        peerDependencies={"ws-cli": "^1.0.0"} if deps else {},
    )
    return root


def test_several_ids_are_approved_in_one_command(maintainer):
    server, user, _, ours = maintainer
    ids = [_stage(server, user, f"batch-{n}", "1.0.0") for n in "abc"]
    result = ours("approve", *ids)
    assert result.returncode == 0, result.stderr
    for n, stage_id in zip("abc", ids, strict=True):
        assert _published(server, f"batch-{n}") == ["1.0.0"]
        assert f"Staged package {stage_id} approved and published successfully." in result.stdout
    assert _staged(server, user) == []


def test_json_lists_each_item_with_its_outcome(maintainer):
    server, user, _, ours = maintainer
    ids = [_stage(server, user, "batch-j", v) for v in ("1.0.0", "1.1.0")]
    result = ours("approve", *ids, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(d["id"], d["outcome"], d["ok"]) for d in data] == [
        (ids[0], "published", True),
        (ids[1], "published", True),
    ]
    assert [d["version"] for d in data] == ["1.0.0", "1.1.0"]


def test_the_same_version_named_twice_is_refused_before_anything_is_sent(maintainer):
    server, user, _, ours = maintainer
    first = _stage(server, user, "batch-dup", "1.0.0")
    other = _stage(server, user, "batch-other", "1.0.0")
    for args in ((other, first, first), (other, first, "batch-dup@1.0.0")):
        result = ours("approve", *args)
        assert result.returncode == 2, result.stderr
        assert "batch-dup@1.0.0 is named twice in this batch" in result.stderr
    assert _staged(server, user) == ["batch-dup@1.0.0", "batch-other@1.0.0"]


def test_an_unknown_id_in_the_batch_changes_nothing(maintainer):
    server, user, _, ours = maintainer
    known = _stage(server, user, "batch-known", "1.0.0")
    result = ours("approve", known, "00000000-0000-4000-8000-000000000000")
    assert result.returncode == 4, result.stderr
    assert "pystage error E404" in result.stderr
    assert _staged(server, user) == ["batch-known@1.0.0"]
    # and a malformed one is refused before any request
    result = ours("approve", known, "not-an-id")
    assert result.returncode == 2
    assert "stage-id must be a valid UUID" in result.stderr
    assert _staged(server, user) == ["batch-known@1.0.0"]


def test_all_of_one_package(maintainer):
    server, user, _, ours = maintainer
    _stage(server, user, "batch-all", "1.0.0")
    _stage(server, user, "batch-all", "2.0.0", tag="next")
    _stage(server, user, "batch-keep", "1.0.0")
    result = ours("approve", "--all", "batch-all")
    assert result.returncode == 0, result.stderr
    assert _published(server, "batch-all") == ["1.0.0", "2.0.0"]
    assert _staged(server, user) == ["batch-keep@1.0.0"]
    # nothing left of it: a notice, not a failure; an unknown package is an error
    again = ours("approve", "--all", "batch-all")
    assert again.returncode == 0, again.stderr
    assert "Nothing of batch-all is staged" in again.stderr
    unknown = ours("approve", "--all", "no-such-package-here")
    assert unknown.returncode == 4
    assert "no package no-such-package-here" in unknown.stderr
    assert ours("approve", "--all", "a", "b").returncode == 2


def test_workspace_packages_are_approved_in_dependency_order(maintainer, tmp_path):
    server, user, _, ours = maintainer
    root = _workspace(tmp_path / "ws")
    ids = {n: _stage(server, user, n, "1.0.0") for n in ("ws-web", "ws-cli", "ws-core")}
    result = ours("approve", ids["ws-web"], ids["ws-cli"], ids["ws-core"], "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    order = [d["package"] for d in json.loads(result.stdout)]
    assert order == ["ws-core", "ws-cli", "ws-web"]
    times = {n: server.request("GET", n).json()["time"]["1.0.0"] for n in ids}
    assert times["ws-core"] <= times["ws-cli"] <= times["ws-web"]


def test_outside_the_workspace_the_given_order_is_kept(maintainer, tmp_path):
    server, user, _, ours = maintainer
    _workspace(tmp_path / "ws")
    ids = [_stage(server, user, n, "1.0.0") for n in ("ws-web", "ws-core")]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = ours("approve", *ids, "--json", cwd=outside)
    assert [d["package"] for d in json.loads(result.stdout)] == ["ws-web", "ws-core"]


def test_dependents_of_a_failed_approval_are_skipped_and_reported(
    stage_server, tmp_path, run_pystage
):
    from helpers import staged_item, write_npmrc

    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    root = _workspace(tmp_path / "ws")
    items = {n: staged_item(n, "1.0.0") for n in ("ws-core", "ws-cli", "ws-web", "free")}
    stage_server.state.items = list(items.values())
    ids = {n: i["id"] for n, i in items.items()}
    stage_server.state.approve_answers[ids["ws-core"]] = (409, {"error": "version exists"})
    result = run_pystage(
        "approve",
        ids["ws-web"],
        ids["ws-cli"],
        ids["ws-core"],
        ids["free"],
        "--registry",
        stage_server.url,
        "--userconfig",
        npmrc,
        cwd=root,
    )
    assert result.returncode == 5, result.stderr  # E409's exit code, the first failure
    assert f"failed ws-core@1.0.0 ({ids['ws-core']}): E409" in result.stderr
    assert "skipped ws-cli@1.0.0" in result.stderr
    assert "its dependency ws-core@1.0.0 was not approved" in result.stderr
    assert "skipped ws-web@1.0.0" in result.stderr  # through ws-cli
    assert "3 of 4 staged versions were not approved" in result.stderr
    assert f"Staged package {ids['free']} approved" in result.stdout  # not hidden
    approved = [r.path for r in stage_server.requests if r.path.endswith("/approve")]
    assert approved == [f"/-/stage/{ids['ws-core']}/approve", f"/-/stage/{ids['free']}/approve"]


def test_an_approval_recorded_but_not_published_is_not_a_failure(
    stage_server, tmp_path, run_pystage
):
    from helpers import staged_item, write_npmrc

    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    item = staged_item("two-approvers", "1.0.0")
    stage_server.state.items = [item]
    body = {
        "ok": True,
        "published": False,
        "approvals": [{"actor": "alice", "at": "2026-01-01T00:00:00Z"}],
        "approvalsRequired": 2,
    }
    stage_server.state.approve_answers[item["id"]] = (202, body)
    args = ("--registry", stage_server.url, "--userconfig", npmrc)
    result = run_pystage("approve", item["id"], *args)
    assert result.returncode == 0, result.stderr
    assert "recorded (1 of 2 approvals)" in result.stdout
    assert "published successfully" not in result.stdout
    data = json.loads(run_pystage("approve", item["id"], "--json", *args).stdout)
    assert data["published"] is False and data["response"]["approvalsRequired"] == 2


def test_reject_takes_several_ids(maintainer):
    server, user, _, ours = maintainer
    ids = [_stage(server, user, "batch-rej", v) for v in ("1.0.0", "1.0.1")]
    result = ours("reject", *ids)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("has been rejected.") == 2
    assert _staged(server, user) == [] and _published(server, "batch-rej") == []


def test_bad_reason_is_refused_before_any_request(maintainer):
    server, user, _, ours = maintainer
    stage_id = _stage(server, user, "batch-reason", "1.0.0")
    for reason in ("bad\x1b[31m", "x" * 2001, "   "):
        result = ours("reject", stage_id, "--reason", reason)
        assert result.returncode == 2, result.stderr
    assert _staged(server, user) == ["batch-reason@1.0.0"]


def test_reason_travels_percent_encoded(stage_server, tmp_path, run_pystage):
    from helpers import staged_item, write_npmrc

    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    item = staged_item("demo-pkg", "1.0.0")
    stage_server.state.items = [item]
    reason = "wrong build:\n\tPR #42 — not merged 100%"
    result = run_pystage(
        "reject",
        item["id"],
        "--reason",
        reason,
        "--registry",
        stage_server.url,
        "--userconfig",
        npmrc,
    )
    assert result.returncode == 0, result.stderr
    (sent,) = [r for r in stage_server.requests if r.method == "DELETE"]
    from urllib.parse import unquote

    header = sent.headers["pystage-reject-reason"]
    assert header.isascii() and unquote(header) == reason


# -- one-time passwords -------------------------------------------------------------


@pytest.fixture
def tfa_team(tmp_path, registry_server, run_pystage):
    user = registry_server.add_user("alice")
    ids = [_stage(registry_server, user, "batch-otp", v) for v in ("1.0.0", "1.0.1", "1.0.2")]
    user = registry_server.enrol_2fa(user)
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    return registry_server, user, npmrc, ids


def test_a_refused_reused_code_asks_for_the_next_one_at_the_prompt(tfa_team, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    server, user, npmrc, ids = tfa_team
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(
        NO_COLOR="1", HOME=str(tmp_path), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring"
    )
    child = pexpect.spawn(
        sys.executable,
        [
            "-m",
            "pystage",
            "approve",
            *ids[:2],
            "--registry",
            server.url,
            "--userconfig",
            str(npmrc),
        ],
        env=env,
        encoding="utf-8",
        timeout=60,
        cwd=str(tmp_path),
    )
    child.expect("About to approve 2 staged versions")
    child.expect(r"Approve and publish these 2 staged versions\? \[y/N\] ")
    child.sendline("y")
    child.expect("Enter OTP: ")
    child.sendline(server.totp_code(user))
    child.expect("approved and published successfully")
    # the same code went with the second approval; the registry takes each code once
    child.expect("refused the one-time password")
    child.expect("Enter the next OTP: ")
    child.sendline(server.totp_code(user))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert child.before.count("approved and published successfully") == 1  # + the one above
    assert _published(server, "batch-otp") == ["1.0.0", "1.0.1"]


def test_without_a_next_code_the_rest_of_the_batch_is_not_attempted(tfa_team, run_pystage):
    server, user, npmrc, ids = tfa_team
    result = run_pystage(
        "approve",
        *ids,
        "--otp",
        server.totp_code(user),
        "--registry",
        server.url,
        "--userconfig",
        npmrc,
        env={"CI": "true"},
    )
    assert result.returncode == 3, result.stderr
    assert f"Staged package {ids[0]} approved" in result.stdout
    assert "failed batch-otp@1.0.1" in result.stderr and "EOTP" in result.stderr
    assert "skipped batch-otp@1.0.2" in result.stderr and "not attempted" in result.stderr
    assert _published(server, "batch-otp") == ["1.0.0"]


def test_the_picker_approves_what_is_chosen(maintainer, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    server, user, npmrc, _ = maintainer
    ids = [_stage(server, user, "batch-pick", v) for v in ("1.0.0", "1.1.0", "1.2.0")]
    env = {**os.environ, "NO_COLOR": "1"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "pystage", "approve", "--registry", server.url, "--userconfig", str(npmrc)],
        env=env,
        encoding="utf-8",
        timeout=60,
        cwd=str(tmp_path),
    )
    child.expect("Staged versions you can approve:")
    child.expect("Approve which")
    child.sendline("1 3")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert _published(server, "batch-pick") == ["1.0.0", "1.2.0"]
    assert _staged(server, user) == ["batch-pick@1.1.0"]
    assert ids[1] not in child.before  # the lines printed after the answer


def test_the_picker_cancels_on_an_empty_answer(maintainer, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    server, user, npmrc, _ = maintainer
    _stage(server, user, "batch-cancel", "1.0.0")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "pystage", "reject", "--registry", server.url, "--userconfig", str(npmrc)],
        env={**os.environ, "NO_COLOR": "1"},
        encoding="utf-8",
        timeout=60,
        cwd=str(tmp_path),
    )
    child.expect("Reject which")
    child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert "ECANCELED" in child.before
    assert _staged(server, user) == ["batch-cancel@1.0.0"]


def test_no_id_without_a_terminal_is_a_usage_error(maintainer):
    _, _, _, ours = maintainer
    result = ours("approve")
    assert result.returncode == 2
    assert "Missing required <stage-id>" in result.stderr
