"""What the stage commands print on a terminal or a pipe, end to end against the
embedded registry or a scripted one."""

from __future__ import annotations

import re

import pytest


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
