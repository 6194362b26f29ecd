"""history reads every page (or stops at --limit), token list follows ``urls.next`` on
the same registry, as npm token list does; scripted answers over a real socket."""

from __future__ import annotations

import json


def _npmrc(tmp_path, srv):
    npmrc = tmp_path / "npmrc"
    npmrc.write_text(f"{srv.url.split(':', 1)[1]}/:_authToken=npm_{'A' * 36}\n")
    return npmrc


def _events(start, count):
    return [
        {"seq": n, "at": f"t{n}", "event": "stage", "package": "pkg", "version": f"1.0.{n}"}
        for n in range(start, start - count, -1)
    ]


def test_history_reads_every_page_newest_first(scripted_server, run_pystage, tmp_path):
    srv = scripted_server
    srv.get(
        "/-/pystage/history?page=0&perPage=100", json={"events": _events(150, 100), "total": 150}
    )
    srv.get("/-/pystage/history?page=1&perPage=100", json={"events": _events(50, 50), "total": 150})
    result = run_pystage(
        "history", "--json", "--registry", srv.url + "/", "--userconfig", _npmrc(tmp_path, srv)
    )
    assert result.returncode == 0, result.stderr
    assert [e["seq"] for e in json.loads(result.stdout)] == list(range(150, 0, -1))
    assert [c.path for c in srv.calls] == [
        "/-/pystage/history?page=0&perPage=100",
        "/-/pystage/history?page=1&perPage=100",
    ]


def test_history_limit_stops_early(scripted_server, run_pystage, tmp_path):
    srv = scripted_server
    srv.get("/-/pystage/history", json={"events": _events(150, 5), "total": 150})
    result = run_pystage(
        "history",
        "pkg",
        "--limit",
        "5",
        "--json",
        "--registry",
        srv.url + "/",
        "--userconfig",
        _npmrc(tmp_path, srv),
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 5
    assert [c.path for c in srv.calls] == ["/-/pystage/history?page=0&perPage=5&package=pkg"]


def test_token_list_follows_next_pages(scripted_server, run_pystage, tmp_path):
    srv = scripted_server
    first = {"key": "k1", "token": "npm_aaaa", "created": "2026-01-01"}
    second = {"key": "k2", "token": "npm_bbbb", "created": "2026-01-02", "readonly": True}
    srv.get(
        "/-/npm/v1/tokens",
        json={"objects": [first], "urls": {"next": srv.url + "/-/npm/v1/tokens?page=1"}},
    )
    srv.get("/-/npm/v1/tokens?page=1", json={"objects": [second], "urls": {}})
    result = run_pystage(
        "token", "list", "--registry", srv.url + "/", "--userconfig", _npmrc(tmp_path, srv)
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "token", "kind", "created", "name", "cidr"]
    assert lines[1].split()[:3] == ["k1", "npm_aaaa…", "publish"]
    assert lines[2].split()[:3] == ["k2", "npm_bbbb…", "read-only"]


def test_an_ambiguous_token_id_revokes_nothing(scripted_server, run_pystage, tmp_path):
    srv = scripted_server
    srv.get(
        "/-/npm/v1/tokens",
        json={"objects": [{"key": "abc1", "token": "x"}, {"key": "abc2", "token": "y"}]},
    )
    result = run_pystage(
        "token",
        "revoke",
        "abc",
        "--registry",
        srv.url + "/",
        "--userconfig",
        _npmrc(tmp_path, srv),
    )
    assert result.returncode == 1 and "EAMBIGUOUS" in result.stderr, result.stderr
    assert [c.method for c in srv.calls] == ["GET"]
