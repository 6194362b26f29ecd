"""What a registry sends to the team commands is shown inert (escape sequences, bidi
overrides and newlines escaped, never acted on), and answers they cannot use are one-line
errors: a hostile or broken registry, scripted over a real socket."""

from __future__ import annotations

import json

HOSTILE = "evil\x1b]8;;https://x.example/\x07link\x1b[2J\u202e\nnext"


def _run(run_pystage, srv, tmp_path, *args):
    npmrc = tmp_path / "npmrc"
    npmrc.write_text(f"{srv.url.split(':', 1)[1]}/:_authToken=npm_{'A' * 36}\n")
    return run_pystage(*args, "--registry", srv.url + "/", "--userconfig", npmrc)


def _inert(text: str) -> None:
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "\nnext" not in text


def test_owners_tokens_and_history_escape_registry_text(scripted_server, run_pystage, tmp_path):
    srv = scripted_server
    srv.get(
        "/pkg",
        json={"_id": "pkg", "_rev": "1-a", "maintainers": [{"name": HOSTILE, "email": HOSTILE}]},
    )
    srv.get(
        "/-/npm/v1/tokens",
        json={
            "objects": [
                {"key": "k1" + HOSTILE, "token": HOSTILE, "name": HOSTILE, "created": HOSTILE}
            ],
            "urls": {},
        },
    )
    srv.get(
        "/-/pystage/history",
        json={
            "events": [
                {
                    "seq": 1,
                    "at": HOSTILE,
                    "event": "reject",
                    "package": HOSTILE,
                    "version": HOSTILE,
                    "actor": HOSTILE,
                    "detail": {"reason": HOSTILE, HOSTILE: HOSTILE},
                }
            ],
            "total": 1,
        },
    )
    for args in (("owner", "ls", "pkg"), ("token", "list"), ("history",)):
        result = _run(run_pystage, srv, tmp_path, *args)
        assert result.returncode == 0, (args, result.stderr)
        assert "evil" in result.stdout
        _inert(result.stdout + result.stderr)
    as_json = _run(run_pystage, srv, tmp_path, "history", "--json")
    _inert(as_json.stdout)  # JSON escapes, the same value for a parser
    assert json.loads(as_json.stdout)[0]["detail"]["reason"] == HOSTILE


def test_a_created_token_from_the_registry_is_escaped_too(scripted_server, run_pystage, tmp_path):
    srv = scripted_server
    srv.post("/-/npm/v1/tokens", status=201, json={"token": "tok\x1b[31m", "key": "k"})
    npmrc = tmp_path / "npmrc"
    npmrc.write_text(f"{srv.url.split(':', 1)[1]}/:_authToken=npm_{'A' * 36}\n")
    result = run_pystage(
        "token",
        "create",
        "--password-stdin",
        "--registry",
        srv.url + "/",
        "--userconfig",
        npmrc,
        input="pw\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Created token tok\\x1b[31m\n"


def test_answers_that_cannot_be_used_are_one_line_errors(scripted_server, run_pystage, tmp_path):
    srv = scripted_server
    srv.get("/-/pystage/policy/pkg", json={"approvers": "two"})
    srv.get("/-/pystage/history", json={"events": "none"})
    srv.get("/-/npm/v1/tokens", json={"objects": [], "urls": {"next": "http://elsewhere.example/"}})
    for args in (("policy", "show", "pkg"), ("history",), ("token", "list")):
        result = _run(run_pystage, srv, tmp_path, *args)
        assert result.returncode == 1, (args, result.stderr)
        assert "EBADRESPONSE" in result.stderr and "Traceback" not in result.stderr
    assert not any("elsewhere" in c.path for c in srv.calls)


def test_token_revoke_by_value_keeps_the_value_out_of_verbose_lines(
    scripted_server, run_pystage, tmp_path
):
    srv = scripted_server
    value = "pystage_" + "S" * 40
    srv.get(
        "/-/npm/v1/tokens",
        json={"objects": [{"key": "abc123", "token": value[:12]}], "urls": {}},
    )
    srv.delete(f"/-/npm/v1/tokens/token/{value}", status=204)
    result = _run(run_pystage, srv, tmp_path, "token", "revoke", value, "-v", "--json")
    assert result.returncode == 0, result.stderr
    assert value not in result.stderr and value not in result.stdout
    assert "DELETE" in result.stderr  # the -v line is there, its URL redacted
