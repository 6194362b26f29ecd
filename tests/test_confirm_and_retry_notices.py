"""approve/reject ask before acting at a terminal (default No, -y/--yes skips) and warn
about a rejection only once the item is found; a retried request says so and for how
long; an upload counts the tarball's bytes."""

from __future__ import annotations

import json
import random

from terminal_screen import Terminal

from pystage.publishing.document import build_publish_document


def _staged(registry_server, tmp_path):
    user = registry_server.add_user("alice")
    registry_server.publish(user, "pkg", "0.1.0")
    stage_id = registry_server.stage(user, "pkg", "0.2.0")
    return stage_id, registry_server.write_npmrc(tmp_path / "npmrc", user)


def test_reject_of_what_is_not_staged_is_e404_without_the_permanent_warning(
    registry_server, tmp_path, run_pystage
):
    _, npmrc = _staged(registry_server, tmp_path)
    result = run_pystage("reject", "pkg@9.9.9", "--userconfig", npmrc)
    assert result.returncode == 4
    assert "pystage error E404: no staged version matches pkg@9.9.9" in result.stderr
    assert "permanently" not in result.stderr


def test_reject_warns_once_the_item_is_found_even_without_a_terminal(
    registry_server, tmp_path, run_pystage
):
    stage_id, npmrc = _staged(registry_server, tmp_path)
    result = run_pystage("reject", stage_id, "--userconfig", npmrc)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("warning Rejecting will permanently delete") == 1


def test_yes_skips_the_question_at_a_terminal(registry_server, tmp_path):
    stage_id, npmrc = _staged(registry_server, tmp_path)
    term = Terminal(["reject", stage_id, "-y", "--userconfig", npmrc], columns=100, cwd=tmp_path)
    assert term.finish() == 0, term.text()
    assert "[y/N]" not in term.raw
    assert "has been rejected" in term.text()


def test_end_of_input_at_the_question_is_no(registry_server, tmp_path, run_pystage):
    stage_id, npmrc = _staged(registry_server, tmp_path)
    term = Terminal(["approve", stage_id, "--userconfig", npmrc], columns=100, cwd=tmp_path)
    term.expect(r"\[y/N\] ")
    term.child.sendeof()
    assert term.finish() == 1
    assert "pystage error ECANCELED: cancelled: nothing was approved" in term.text()
    listed = json.loads(run_pystage("list", "--json", "--userconfig", npmrc).stdout)
    assert [i["id"] for i in listed] == [stage_id]


def test_a_retried_request_says_it_will_retry_and_when(recording_server, run_pystage, tmp_path):
    server = recording_server()
    calls = []

    def flaky(req):
        calls.append(req)
        if len(calls) == 1:
            return 503, {}, {"error": "down for a moment"}
        return 200, {}, {"items": [], "total": 0}

    server.script[("GET", "/-/stage")] = flaky
    (tmp_path / "npmrc").write_text("")
    env = {"npm_config_fetch_retry_mintimeout": "1000", "npm_config_fetch_retry_maxtimeout": "1000"}
    args = ("list", "--registry", server.url, "--userconfig", tmp_path / "npmrc")
    result = run_pystage(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert len(calls) == 2
    assert (
        "pystage notice the request to the registry failed; retrying in 1 s (-v shows why)"
        in result.stderr
    )
    calls.clear()
    quiet = run_pystage(*args, "-q", env=env)
    assert quiet.returncode == 0 and "retrying" not in quiet.stderr


def test_short_retry_waits_are_not_announced(recording_server, run_pystage, tmp_path):
    server = recording_server()
    server.script[("GET", "/-/stage")] = (503, {}, {"error": "down"})
    (tmp_path / "npmrc").write_text("")
    env = {"npm_config_fetch_retry_mintimeout": "10", "npm_config_fetch_retry_maxtimeout": "20"}
    result = run_pystage(
        "list", "--registry", server.url, "--userconfig", tmp_path / "npmrc", env=env
    )
    assert result.returncode == 7
    assert "retrying" not in result.stderr


def test_the_upload_counts_tarball_bytes_not_base64_bytes(tmp_path):
    tarball = tmp_path / "t.tgz"
    size = 2 * 1024 * 1024 + 7
    tarball.write_bytes(random.Random(1).randbytes(size))
    _, body = build_publish_document(
        {"name": "p", "version": "1.0.0"},
        registry="http://r/",
        tag="latest",
        access=None,
        tarball_path=str(tarball),
        tarball_size=size,
        shasum="x",
        integrity="sha512-x",
    )
    carried, sent = [], []
    body.on_tarball_sent, body.on_sent = carried.append, sent.append
    data = body.read_all()
    assert sum(carried) == size and len(carried) > 1
    assert sum(sent) == len(data) > size * 4 // 3
