"""Fixtures for the pack tests: the real npm, isolated, as the oracle."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest


@pytest.fixture(scope="session")
def npm_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("npm-cache")


@pytest.fixture
def npm_env(tmp_path, npm_cache):
    userconfig = tmp_path / "npmrc-isolated"
    userconfig.write_text("")
    return {
        **os.environ,
        "npm_config_userconfig": str(userconfig),
        "npm_config_cache": str(npm_cache),
        "npm_config_update_notifier": "false",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
    }


@pytest.fixture
def npm_pack(npm_env):
    """Run the real `npm pack --json` in a directory; returns (json item, .tgz path or None)."""

    def run(pkg_dir, destination=None, *extra):
        args = [shutil.which("npm"), "pack", "--json", *extra]
        if destination is not None:
            args += ["--pack-destination", str(destination)]
        proc = subprocess.run(
            args, cwd=pkg_dir, env=npm_env, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        item = json.loads(proc.stdout)[0]
        path = None if destination is None else os.path.join(destination, item["filename"])
        return item, path, proc

    return run
