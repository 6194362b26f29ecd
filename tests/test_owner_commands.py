"""pystage owner ls|add|rm on the embedded registry, side by side with the real npm owner:
the same requests, the same outcome; OTP of an existing maintainer; unknown users and
packages are errors with no change."""

from __future__ import annotations

import json
import re

import pytest
from helpers import make_package, requires_npm, run_npm

_REQUEST = re.compile(r'"(GET|PUT|POST|DELETE|HEAD) (\S+) HTTP/[\d.]+" (\d{3})')


@pytest.fixture
def owners(tmp_path, run_pystage, npm_env):
    """alice (2FA) maintains pkg and other; bob and carol exist; the registry logs requests."""
    from helpers import start_registry

    reg = start_registry(tmp_path / "registry", extra_args=("--access-log",))
    try:
        alice = reg.add_user("alice")
        for name in ("pkg", "other"):
            reg.publish(alice, name, "1.0.0")
        reg.add_user("bob")
        reg.add_user("carol")
        reg.alice = reg.enrol_2fa(alice)
        npmrc = reg.write_npmrc(tmp_path / "npmrc", reg.alice)
        # dave has no 2FA (so no codes to wait for) and maintains two packages of his own
        dave = reg.add_user("dave")
        for name in ("dave-a", "dave-b"):
            reg.publish(dave, name, "1.0.0")
        reg.dave, reg.dave_npmrc = dave, reg.write_npmrc(tmp_path / "dave.npmrc", dave)

        def pystage(*args, npmrc=npmrc):
            return run_pystage(*args, "--registry", reg.url, "--userconfig", npmrc)

        def npm(*args, npmrc=npmrc):
            env = {**npm_env, "npm_config_userconfig": str(npmrc)}
            return run_npm([*args, "--registry", reg.url], cwd=tmp_path, env=env)

        reg.pystage, reg.npm = pystage, npm
        yield reg
    finally:
        reg.stop()


def _requests_since(reg, offset: int) -> list[tuple[str, str, str]]:
    found = []
    for method, path, status in _REQUEST.findall(reg.log_text(offset)):
        path = re.sub(r"/-rev/[^/?\s]+", "/-rev/<rev>", path)
        found.append((method, path, status))
    return found


def _owners(reg, package):
    return [m["name"] for m in reg.request("GET", package).json()["maintainers"]]


def test_owner_ls_prints_what_npm_prints(owners):
    ours = owners.pystage("owner", "ls", "pkg")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == "alice <alice@example.com>\n"
    if (theirs := owners.npm("owner", "ls", "pkg")).returncode == 0:
        assert theirs.stdout == ours.stdout
    data = json.loads(owners.pystage("owner", "ls", "pkg", "--json").stdout)
    assert data == [{"name": "alice", "email": "alice@example.com"}]


def test_owner_ls_without_a_package_reads_package_json(owners, tmp_path, run_pystage):
    here = tmp_path / "here"
    make_package(here, name="pkg")
    npmrc = tmp_path / "npmrc"
    ours = run_pystage("owner", "ls", "--registry", owners.url, "--userconfig", npmrc, cwd=here)
    assert ours.returncode == 0 and ours.stdout == "alice <alice@example.com>\n", ours.stderr
    (tmp_path / "empty").mkdir()
    none = run_pystage("owner", "ls", "--registry", owners.url, cwd=tmp_path / "empty")
    assert none.returncode == 2 and "no package.json" in none.stderr


def test_owner_add_needs_the_maintainers_otp(owners):
    refused = owners.pystage("owner", "add", "pkg", "bob")
    assert refused.returncode == 3, refused.stderr
    assert "EOTP" in refused.stderr
    assert _owners(owners, "pkg") == ["alice"]
    added = owners.pystage("owner", "add", "pkg", "bob", "--otp", owners.totp_code(owners.alice))
    assert added.returncode == 0, added.stderr
    assert added.stdout == "+ bob (pkg)\n"
    assert _owners(owners, "pkg") == ["alice", "bob"]


def test_unknown_user_or_package_is_an_error_with_no_change(owners):
    code = owners.totp_code(owners.alice)
    for args, words in (
        (("owner", "add", "pkg", "nobody"), "no user nobody"),
        (("owner", "add", "no-such-pkg", "bob"), "no package no-such-pkg"),
        (("owner", "rm", "pkg", "nobody"), "no user nobody"),
        (("owner", "ls", "no-such-pkg"), "no package no-such-pkg"),
    ):
        offset = len(owners.log_text())
        result = owners.pystage(*args, *(("--otp", code) if args[1] != "ls" else ()))
        assert result.returncode == 4, (args, result.stderr)
        assert words in result.stderr and "Traceback" not in result.stderr
        assert all(m != "PUT" for m, _, _ in _requests_since(owners, offset)), args
    assert _owners(owners, "pkg") == ["alice"]
    bad = owners.pystage("owner", "add", "pkg", "bad/name")
    assert bad.returncode == 2 and "not a user name" in bad.stderr


def test_removing_the_last_owner_is_refused_before_any_write(owners):
    offset = len(owners.log_text())
    result = owners.pystage("owner", "rm", "pkg", "alice", "--otp", "123456")
    assert result.returncode == 1, result.stderr
    assert "EOWNERRM" in result.stderr
    assert all(m != "PUT" for m, _, _ in _requests_since(owners, offset))


def test_adding_an_owner_twice_changes_nothing(owners):
    owners.pystage("owner", "add", "pkg", "bob", "--otp", owners.totp_code(owners.alice))
    again = owners.pystage("owner", "add", "pkg", "bob", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["changed"] is False
    assert _owners(owners, "pkg") == ["alice", "bob"]


@requires_npm()
def test_owner_add_and_rm_send_what_npm_owner_sends(owners):
    """pystage on dave-a, npm on dave-b: the same requests (revisions aside), the same
    owners after. (dave has no 2FA: the OTP rule is test_owner_add_needs_the_maintainers_otp's.)"""
    runs = {}
    for tool, package in (("pystage", "dave-a"), ("npm", "dave-b")):
        offset = len(owners.log_text())
        for action in ("add", "rm"):
            if tool == "pystage":
                result = owners.pystage("owner", action, package, "bob", npmrc=owners.dave_npmrc)
            else:
                result = owners.npm("owner", action, "bob", package, npmrc=owners.dave_npmrc)
            assert result.returncode == 0, (tool, action, result.stderr)
            expected = "+" if action == "add" else "-"
            assert result.stdout.strip() == f"{expected} bob ({package})"
            assert ("bob" in _owners(owners, package)) == (action == "add")
        runs[tool] = [
            (m, p.replace(f"/{package}", "/<pkg>"), s)
            for m, p, s in _requests_since(owners, offset)
        ]
        assert _owners(owners, package) == ["dave"]
    assert runs["pystage"] == runs["npm"]
    assert [m for m, _, _ in runs["pystage"]].count("PUT") == 2
    history = owners.pystage("history", "dave-a", "--json", npmrc=owners.dave_npmrc)
    events = [(e["event"], e["detail"]) for e in json.loads(history.stdout)]
    assert events[:2] == [("owner-rm", {"user": "bob"}), ("owner-add", {"user": "bob"})]


def test_scoped_packages_and_policies(owners):
    """dave (no 2FA: the OTP rule is tested above) on a scoped package."""
    dave = owners.dave_npmrc
    owners.publish(owners.dave, "@team/lib", "1.0.0")
    added = owners.pystage("owner", "add", "@team/lib", "bob", npmrc=dave)
    assert added.returncode == 0 and added.stdout == "+ bob (@team/lib)\n", added.stderr
    assert owners.pystage("owner", "ls", "@team/lib", npmrc=dave).stdout.splitlines() == [
        "bob <bob@example.com>",
        "dave <dave@example.com>",
    ]
    changed = owners.pystage("policy", "set", "@team/lib", "--approvers", "2", npmrc=dave)
    assert changed.returncode == 0, changed.stderr
    shown = owners.pystage("policy", "show", "@team/lib", "--json", npmrc=dave)
    assert json.loads(shown.stdout) == {"package": "@team/lib", "approvers": 2, "expireAfter": None}


def test_only_a_maintainer_changes_the_owners(owners):
    erin_rc = owners.write_npmrc(owners.storage.parent / "erin.npmrc", owners.add_user("erin"))
    offset = len(owners.log_text())
    refused = owners.pystage("owner", "add", "pkg", "erin", npmrc=erin_rc)
    assert refused.returncode == 3, refused.stderr
    assert "permission" in refused.stderr
    assert _owners(owners, "pkg") == ["alice"]
    assert [s for m, _, s in _requests_since(owners, offset) if m == "PUT"] == ["403"]
