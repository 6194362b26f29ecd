"""Shared fixtures. Topic fixtures live in tests/fixtures_*.py and are loaded here."""

from __future__ import annotations

import os
import shutil
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


def _npm_version() -> tuple[int, ...] | None:
    npm = shutil.which("npm")
    if not npm:
        return None
    try:
        out = subprocess.run(
            [npm, "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "npm_config_userconfig": os.devnull},
        )
        return tuple(int(x) for x in out.stdout.strip().split(".")[:3])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


NPM_VERSION = _npm_version()


@pytest.fixture(scope="session")
def npm_version():
    return NPM_VERSION


def requires_npm(minimum: tuple[int, ...] = (11,)):
    """Skip cleanly when the real npm (at least `minimum`) is not on PATH."""
    return pytest.mark.skipif(
        NPM_VERSION is None or NPM_VERSION < minimum,
        reason=f"needs npm >= {'.'.join(map(str, minimum))} on PATH",
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
