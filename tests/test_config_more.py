"""Configuration gaps of issue 4: workspace-root local prefix, proxies, inline CA,
login --scope and option validation. The real npm is the oracle where it applies."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from conftest import requires_npm

from pystage.config import load_config


def _npm(args, cwd, env):
    return subprocess.run([shutil.which("npm"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, check=True).stdout.strip()


@pytest.fixture
def mono(tmp_path):
    """root/ with workspaces, root/packages/a (a workspace), a home and a global npmrc."""
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "root"
    a = root / "packages" / "a"
    (a / "src").mkdir(parents=True)
    # npm config refuses to run inside a workspace (ENOWORKSPACES); a script shows
    # the tag npm resolved, through the npm_config_* variables npm exports to it
    (a / "package.json").write_text(json.dumps({
        "name": "a", "version": "1.0.0",
        "scripts": {"tag": "node -p process.env.npm_config_tag"}}))
    (root / ".npmrc").write_text("tag=from-root\n")
    (a / ".npmrc").write_text("tag=from-workspace\n")
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""),
           "npm_config_globalconfig": str(tmp_path / "globalrc"),
           "npm_config_cache": str(tmp_path / "cache"),
           "npm_config_update_notifier": "false"}
    return root, a, env


def _write_root(root, workspaces):
    (root / "package.json").write_text(json.dumps({"name": "root", "workspaces": workspaces}))


@requires_npm((11,))
@pytest.mark.parametrize("workspaces, expect_root", [
    (["packages/*"], True),
    ({"packages": ["packages/a"]}, True),
    (["other/*"], False),
    (["packages/*", "!packages/a"], False),
    (["packages/*", "!packages/a", "packages/a"], True),
])
@pytest.mark.parametrize("sub", ["", "src"])
def test_local_prefix_is_the_workspace_root_as_npm(mono, workspaces, expect_root, sub):
    root, a, env = mono
    _write_root(root, workspaces)
    cwd = a / sub if sub else a
    cfg = load_config(cwd=cwd, env=env)
    assert cfg.local_prefix == _npm(["prefix"], cwd, env)
    assert cfg.get("tag") == _npm(["run", "-s", "tag"], cwd, env)
    assert cfg.local_prefix == str(root if expect_root else a)
    assert cfg.get("tag") == ("from-root" if expect_root else "from-workspace")


@requires_npm((11,))
def test_package_without_workspaces_above_keeps_its_own_prefix(mono):
    root, a, env = mono
    (root / "package.json").write_text(json.dumps({"name": "root"}))
    cwd = a / "src"
    cfg = load_config(cwd=cwd, env=env)
    assert cfg.local_prefix == _npm(["prefix"], cwd, env) == str(a)
    assert cfg.get("tag") == "from-workspace"
