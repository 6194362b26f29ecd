"""Fixtures for the team workflow on the embedded registry: a team of maintainers and a
webhook receiver (the helpers that drive owners, policies, approvals and history over
real HTTP are in helpers.py)."""

from __future__ import annotations

import pytest
from helpers import Receiver, add_owner


@pytest.fixture
def team(registry_server):
    """alice and bob (both 2FA) maintain ``pkg`` (1.0.0 published); carol has no 2FA and
    maintains nothing. Tests where a second factor is not the point use carol's packages."""
    reg = registry_server
    alice = reg.add_user("alice")
    reg.publish(alice, "pkg", "1.0.0")
    reg.bob = reg.add_user("bob", tfa=True)
    reg.carol = reg.add_user("carol")
    response = add_owner(reg, alice, "bob", "pkg")
    assert response.status_code == 200, response.text
    # enrolled last: TOTP gives each user about three codes per 30 s, so spend none here
    reg.alice = reg.enrol_2fa(alice)
    return reg


@pytest.fixture
def receiver():
    hook = Receiver()
    yield hook
    hook.stop()
