"""The real npm, isolated, as the oracle: one npm cache for the session and an
environment that reads no user npmrc and phones nowhere.

(There used to be two ``npm_env`` fixtures, in fixtures_pack.py and fixtures_stage.py,
each with its own cache; the later plugin silently won. This is the one that won.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from helpers import NPM_VERSION


@pytest.fixture(scope="session")
def npm_version():
    return NPM_VERSION


@pytest.fixture(scope="session")
def npm_cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("npm-cache"))


@pytest.fixture
def npm_env(tmp_path, npm_cache_dir):
    """Environment for running the real npm in isolation."""
    userconfig = tmp_path / "npm-userconfig"
    if not userconfig.exists():
        userconfig.write_text("")
    return {
        **os.environ,
        "npm_config_userconfig": str(userconfig),
        "npm_config_cache": npm_cache_dir,
        "npm_config_update_notifier": "false",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "NO_COLOR": "1",
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
