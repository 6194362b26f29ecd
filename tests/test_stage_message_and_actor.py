"""publish -m travels as the contract's header; list --by filters on the client."""

from __future__ import annotations

import json
from urllib.parse import unquote

from helpers import make_package, staged_item, write_npmrc


def test_message_is_sent_percent_encoded(stage_server, tmp_path, run_pystage):
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    pkg = make_package(tmp_path / "p", name="msg-pkg")
    note = "Release 1.0 — see https://example.com/pr/42\n\tthanks ✓"
    result = run_pystage(
        "publish", "-m", note, "--registry", stage_server.url, "--userconfig", npmrc, cwd=pkg
    )
    assert result.returncode == 0, result.stderr
    (post,) = [r for r in stage_server.requests if r.method == "POST"]
    header = post.headers["pystage-stage-message"]
    assert header.isascii() and unquote(header) == note


def test_no_message_no_header(stage_server, tmp_path, run_pystage):
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    pkg = make_package(tmp_path / "p", name="msg-none")
    result = run_pystage("publish", "--registry", stage_server.url, "--userconfig", npmrc, cwd=pkg)
    assert result.returncode == 0, result.stderr
    (post,) = [r for r in stage_server.requests if r.method == "POST"]
    assert "pystage-stage-message" not in post.headers


def test_a_message_too_long_is_refused_before_packing(stage_server, tmp_path, run_pystage):
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    pkg = make_package(tmp_path / "p", name="msg-long")
    result = run_pystage(
        "publish", "-m", "x" * 2001, "--registry", stage_server.url, "--userconfig", npmrc, cwd=pkg
    )
    assert result.returncode == 2
    assert "at most 2000" in result.stderr
    assert stage_server.requests == []


def test_list_by_actor(stage_server, tmp_path, run_pystage):
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    stage_server.state.items = [
        staged_item("a", "1.0.0", actor="alice"),
        staged_item("b", "1.0.0", actor="ci-bot", actorType="token"),
        staged_item("c", "1.0.0", actor="alice"),
    ]
    args = ("--registry", stage_server.url, "--userconfig", npmrc)
    result = run_pystage("list", "--by", "alice", "--json", *args)
    assert result.returncode == 0, result.stderr
    assert [i["packageName"] for i in json.loads(result.stdout)] == ["a", "c"]
    table = run_pystage("list", "--by", "ci-bot", *args)
    assert "b" in table.stdout and "alice" not in table.stdout


def test_list_by_an_unknown_or_malformed_actor(registry_server, tmp_path, run_pystage):
    user = registry_server.add_user("alice")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    args = ("--registry", registry_server.url, "--userconfig", str(npmrc))
    unknown = run_pystage("list", "--by", "nobody-here", *args)
    assert unknown.returncode == 4, unknown.stderr
    assert "no user nobody-here" in unknown.stderr
    known = run_pystage("list", "--by", "alice", *args)
    assert known.returncode == 0, known.stderr
    assert "No staged versions by alice." in known.stdout
    bad = run_pystage("list", "--by", "two words", *args)
    assert bad.returncode == 2 and "is not a user name" in bad.stderr
