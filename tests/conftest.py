"""Shared fixtures. Topic fixtures live in tests/fixtures_*.py and are loaded here;
what test modules import (plain functions and classes) lives in tests/helpers.py."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
# Topic fixtures (tests/fixtures_*.py) are plugins, so each area owns its own file.
pytest_plugins = sorted(
    name[:-3]
    for name in os.listdir(os.path.dirname(__file__))
    if name.startswith("fixtures_") and name.endswith(".py")
)


@pytest.fixture
def run_pystage(tmp_path):
    """Run the real `pystage` entry point in a subprocess, as a user would."""

    def run(*args, cwd=None, env=None, input=None, timeout=120):
        full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "pystage", *map(str, args)],
            cwd=cwd or tmp_path,
            env=full_env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
