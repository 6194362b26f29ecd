"""What the stage commands print on a terminal or a pipe, end to end against the
embedded registry or a scripted one."""

from __future__ import annotations

import json
import re

import pytest
from helpers import (
    STAGE_ID,
    assert_clean_failure,
)


@pytest.fixture
def staged(registry_server, tmp_path):
    """A registry with one staged version and an npmrc logged in to it."""
    user = registry_server.add_user("alice")
    registry_server.publish(user, "@acme/some-long-package-name", "0.1.0")
    stage_id = registry_server.stage(user, "@acme/some-long-package-name", "1.0.0-beta.1")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    return stage_id, {"npm_config_userconfig": str(npmrc)}


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_forced_colour_does_not_fold_the_piped_list_table_to_80_columns(run_pystage, staged):
    stage_id, env = staged
    plain = run_pystage("list", env=env)
    coloured = run_pystage("list", "--color", env=env)
    assert coloured.returncode == 0, coloured.stderr
    assert "\x1b[" in coloured.stdout
    assert _strip_ansi(coloured.stdout) == plain.stdout
    row = plain.stdout.splitlines()[1]
    assert row.split()[:3] == [stage_id, "@acme/some-long-package-name", "1.0.0-beta.1"]


EVIL_ITEM = {
    "id": STAGE_ID,
    "packageName": "pkg\x1b[2J",
    "version": "1.0.0\r9.9.9",
    "tag": "latest",
    "actor": "\x1b]0;pwned\x07mallory\x1b[1A",
    "actorType": "user",
    "note": "line1\nversion: 0.0.1\x9b2K",
}


@pytest.mark.parametrize("args", [("list",), ("view", STAGE_ID), ("list", "--json")])
def test_registry_text_cannot_inject_terminal_escapes(scripted_cli, args):
    # the item summary is what a maintainer checks before typing an OTP: a registry (or
    # anything it echoes) must not be able to move the cursor or rewrite lines
    scripted_cli.script[("GET", "/-/stage")] = (200, {}, {"items": [EVIL_ITEM], "total": 1})
    scripted_cli.script[("GET", f"/-/stage/{STAGE_ID}")] = (200, {}, EVIL_ITEM)
    result = scripted_cli.run(*args)
    assert result.returncode == 0, result.stderr
    if "--json" in args:
        assert json.loads(result.stdout) == [EVIL_ITEM]  # data stays data
        return
    for stream in (result.stdout, result.stderr):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", stream), repr(stream)
    assert "mallory" in result.stdout and "pkg" in result.stdout


def test_registry_error_text_cannot_inject_terminal_escapes(scripted_cli):
    scripted_cli.script[("GET", f"/-/stage/{STAGE_ID}")] = (
        403,
        {},
        {"error": "forbidden\x1b[2K\rpystage: all good\x1b]0;x\x07"},
    )
    result = scripted_cli.run("view", STAGE_ID)
    assert_clean_failure(result, "E403")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.stderr), repr(result.stderr)
