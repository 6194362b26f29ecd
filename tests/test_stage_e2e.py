"""The stage flow end to end on the embedded registry, run with the real npm
and with pystage side by side: the same --json outputs for list and view, the
same downloaded files, and the same registry state after approve and reject."""

from __future__ import annotations

import json
import os

import pytest
from helpers import make_package, requires_npm, run_npm

pytestmark = [requires_npm((11,)), pytest.mark.npm]


def _enable_tfa(server, user):
    """Enrol TOTP 2FA for a user who exists already (as npm profile enable-2fa does)."""
    from dataclasses import replace
    from urllib.parse import parse_qs, urlparse

    answer = server.request(
        "POST",
        "-/npm/v1/user",
        user,
        json={"tfa": {"mode": "auth-and-writes", "password": user.password}},
    )
    answer.raise_for_status()
    secret = parse_qs(urlparse(answer.json()["tfa"]).query)["secret"][0]
    user = replace(user, totp_secret=secret)
    server.request(
        "POST", "-/npm/v1/user", user, json={"tfa": [server.totp_code(user)]}
    ).raise_for_status()
    return user


@pytest.fixture
def flow(tmp_path, registry_server, npm_env, run_pystage):
    # Two-factor is switched on by the tests once their first versions are published:
    # the registry takes each one-time password once, so every code spent costs time.
    user = registry_server.add_user("alice")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    env = {**npm_env, "npm_config_userconfig": str(npmrc)}
    url = registry_server.url

    def npm(*args, cwd=tmp_path):
        return run_npm([*args, "--registry", url], cwd=cwd, env=env)

    def ours(*args, cwd=tmp_path, **kw):
        return run_pystage(*args, "--registry", url, "--userconfig", npmrc, cwd=cwd, **kw)

    return registry_server, user, npm, ours


def _stage_pair(tmp_path, server, user, npm, ours, version):
    """Stage `version` of pkg-npm with npm and of pkg-py with pystage; return their ids."""
    ids = {}
    for tool, run in (("npm", npm), ("py", ours)):
        name = f"pkg-{tool}"
        pkg = make_package(
            tmp_path / f"{name}-{version}",
            name=name,
            version=version,
            description="e2e",
            files={"index.js": f"// {version}\n", "README.md": "# e2e\n"},
        )
        args = ("stage", "publish") if tool == "npm" else ("publish",)
        result = run(*args, "--json", cwd=pkg)
        assert result.returncode == 0, result.stderr
        ids[tool] = json.loads(result.stdout)[name]["stageId"]
    return ids


def _comparable(item: dict) -> dict:
    """A staged item with what must differ between the two packages taken out."""
    return {
        k: v
        for k, v in item.items()
        if k
        not in ("id", "packageName", "createdAt", "shasum", "integrity", "size", "unpackedSize")
    }


def _published_pair(server, user):
    for name in ("pkg-npm", "pkg-py"):
        server.publish(user, name, "1.0.0")
    return _enable_tfa(server, user)


def test_stage_list_view_download_approve_match_npm(tmp_path, flow):
    server, user, npm, ours = flow
    user = _published_pair(server, user)
    ids = _stage_pair(tmp_path, server, user, npm, ours, "1.1.0")

    # list and view: byte-for-byte the same JSON from both tools
    npm_list, our_list = npm("stage", "list", "--json"), ours("list", "--json")
    assert our_list.returncode == npm_list.returncode == 0, our_list.stderr
    assert json.loads(our_list.stdout) == json.loads(npm_list.stdout)
    assert len(json.loads(our_list.stdout)) == 2
    for stage_id in ids.values():
        theirs, mine = npm("stage", "view", stage_id, "--json"), ours("view", stage_id, "--json")
        assert json.loads(mine.stdout) == json.loads(theirs.stdout)
    # what pystage staged looks like what npm staged
    by_id = {i["id"]: i for i in json.loads(our_list.stdout)}
    assert _comparable(by_id[ids["py"]]) == _comparable(by_id[ids["npm"]])

    # download: same names, same bytes
    for stage_id in ids.values():
        (tmp_path / "dl-npm").mkdir(exist_ok=True)
        (tmp_path / "dl-py").mkdir(exist_ok=True)
        theirs = npm("stage", "download", stage_id, cwd=tmp_path / "dl-npm")
        mine = ours("download", stage_id, cwd=tmp_path / "dl-py")
        assert mine.returncode == theirs.returncode == 0, mine.stderr
        assert mine.stdout.strip() == theirs.stdout.strip()
    assert sorted(os.listdir(tmp_path / "dl-py")) == sorted(os.listdir(tmp_path / "dl-npm"))
    for name in os.listdir(tmp_path / "dl-py"):
        assert (tmp_path / "dl-py" / name).read_bytes() == (tmp_path / "dl-npm" / name).read_bytes()

    # approve: npm approves its own, pystage its own; the registry ends up the same
    approved_npm = npm("stage", "approve", ids["npm"], "--otp", server.totp_code(user))
    approved_py = ours("approve", ids["py"], "--otp", server.totp_code(user))
    assert approved_npm.returncode == approved_py.returncode == 0, approved_py.stderr
    packuments = {tool: server.request("GET", f"pkg-{tool}", user).json() for tool in ids}
    for tool in ids:
        assert packuments[tool]["dist-tags"] == {"latest": "1.1.0"}
        assert sorted(packuments[tool]["versions"]) == ["1.0.0", "1.1.0"]
    assert json.loads(ours("list", "--json").stdout) == []


def test_reject_matches_npm(tmp_path, flow):
    server, user, npm, ours = flow
    user = _published_pair(server, user)
    ids = _stage_pair(tmp_path, server, user, npm, ours, "1.2.0")
    rejected_npm = npm("stage", "reject", ids["npm"], "--otp", server.totp_code(user))
    rejected_py = ours("reject", "pkg-py@1.2.0", "--otp", server.totp_code(user))
    assert rejected_npm.returncode == rejected_py.returncode == 0, rejected_py.stderr
    assert json.loads(npm("stage", "list", "--json").stdout) == []
    for tool in ids:
        packument = server.request("GET", f"pkg-{tool}", user).json()
        assert sorted(packument["versions"]) == ["1.0.0"]
        assert packument["dist-tags"] == {"latest": "1.0.0"}
    # the version is free again: it can be staged anew
    again = ours("publish", cwd=tmp_path / "pkg-py-1.2.0")
    assert again.returncode == 0, again.stderr


def test_approve_needs_the_otp_and_exits_non_zero_without_it(tmp_path, flow):
    server, user, npm, ours = flow
    server.publish(user, "pkg-py", "1.0.0")
    user = _enable_tfa(server, user)
    stage_id = server.stage(user, "pkg-py", "1.1.0")
    result = ours("approve", stage_id, input="")
    assert result.returncode == 3
    assert "pystage error EOTP" in result.stderr
    wrong = ours("approve", stage_id, "--otp", "000000")
    assert wrong.returncode != 0
    assert [i["id"] for i in json.loads(ours("list", "--json").stdout)] == [stage_id]
    assert "1.1.0" not in server.request("GET", "pkg-py", user).json()["versions"]


def test_staging_a_version_that_is_already_staged_is_refused(tmp_path, flow):
    server, user, npm, ours = flow
    server.publish(user, "pkg-py", "1.0.0")
    pkg = make_package(tmp_path / "pkg", name="pkg-py", version="1.1.0")
    first = ours("publish", cwd=pkg)
    assert first.returncode == 0, first.stderr
    second = ours("publish", cwd=pkg)
    assert second.returncode == 5
    assert "pystage error E409" in second.stderr
    assert len(json.loads(ours("list", "--json").stdout)) == 1


def test_approve_on_a_terminal_shows_the_item_then_asks_for_the_code(tmp_path, flow):
    pexpect = pytest.importorskip("pexpect")
    import sys

    server, user, _, _ = flow
    server.publish(user, "pkg-py", "1.0.0")
    user = _enable_tfa(server, user)
    stage_id = server.stage(user, "pkg-py", "1.1.0")
    npmrc = tmp_path / "npmrc"
    child = pexpect.spawn(
        sys.executable,
        [
            "-m",
            "pystage",
            "approve",
            "pkg-py@1.1.0",
            "--registry",
            server.url,
            "--userconfig",
            str(npmrc),
        ],
        env={**os.environ, "NO_COLOR": "1"},
        encoding="utf-8",
        timeout=60,
    )
    child.expect("package name: pkg-py")
    child.expect("version: 1.1.0")
    child.expect(r"Approve and publish pkg-py@1.1.0\? \[y/N\] ")
    child.sendline("y")
    child.expect("(?i)one-time password")
    child.sendline(server.totp_code(user))
    child.expect("approved and published successfully")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert stage_id not in json.dumps(server.request("GET", "-/stage", user).json())
    assert server.request("GET", "pkg-py", user).json()["dist-tags"]["latest"] == "1.1.0"
