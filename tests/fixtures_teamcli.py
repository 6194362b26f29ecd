"""The team commands driven through the CLI, as maintainers run them: ``crew`` is an
embedded registry where alice (2FA) publishes ``pkg`` 1.0.0, bob (2FA) and carol exist,
and ``crew.run(user, *args)`` runs ``python -m pystage`` logged in as that user."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


class Crew:
    def __init__(self, reg, home: Path) -> None:
        self.reg = reg
        self.home = home
        self.url = reg.url
        self.npmrcs: dict[str, Path] = {}

    def login(self, user) -> None:
        """Give ``user`` an npmrc of its own (its token for this registry)."""
        self.npmrcs[user.name] = self.reg.write_npmrc(self.home / f"{user.name}.npmrc", user)

    def env(self, user, **extra) -> dict:
        return {
            **os.environ,
            "NO_COLOR": "1",
            "HOME": str(self.home),
            "npm_config_userconfig": str(self.npmrcs[user.name]),
            **extra,
        }

    def args(self, user, *args) -> list[str]:
        return [sys.executable, "-m", "pystage", *map(str, args), "--registry", self.url]

    def run(self, user, *args, cwd=None, input=None, timeout=120, **env):
        return subprocess.run(
            self.args(user, *args),
            cwd=cwd or self.home,
            env=self.env(user, **env),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, user, *args, cwd=None, **env) -> subprocess.Popen:
        return subprocess.Popen(
            self.args(user, *args),
            cwd=cwd or self.home,
            env=self.env(user, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def code(self, user) -> str:
        return self.reg.totp_code(user)


def make_crew(tmp_path, reg, before_2fa=None) -> Crew:
    """``before_2fa(crew)`` runs while alice has no second factor yet: set-up that would
    otherwise spend her codes (each user has about three per 30 s)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    crew = Crew(reg, home)
    crew.alice = reg.add_user("alice")
    reg.publish(crew.alice, "pkg", "1.0.0")
    crew.bob = reg.add_user("bob", tfa=True)
    crew.carol = reg.add_user("carol")
    for user in (crew.alice, crew.bob, crew.carol):
        crew.login(user)
    if before_2fa is not None:
        before_2fa(crew)
    crew.alice = reg.enrol_2fa(crew.alice)  # the same token: her npmrc stays
    return crew


@pytest.fixture
def crew(tmp_path, registry_server):
    return make_crew(tmp_path, registry_server)
