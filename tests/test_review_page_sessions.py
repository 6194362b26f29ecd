"""Sign-in sessions of the review page expire: after idling, and after their lifetime,
whatever the browser keeps sending; and the database never holds the cookie itself."""

from __future__ import annotations

import pytest

from pystage.registry.config import RegistryConfig
from pystage.registry.service import Registry
from pystage.registry.web.sessions import WebSessions
from pystage.registry.web.store import create_tables


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def registry(tmp_path):
    registry = Registry(RegistryConfig(storage=tmp_path / "registry", open_registration=True))
    create_tables(registry.db)
    registry.accounts.login("alice", "alice password", None, None)
    return registry


def sessions(registry, clock):
    return WebSessions(registry.db, registry.accounts, idle=600, lifetime=3600, clock=clock)


def test_a_session_ends_after_idling(registry):
    clock = Clock()
    store = sessions(registry, clock)
    token, _ = store.create("alice")
    clock.now += 599
    assert store.get(token).user.name == "alice"
    clock.now += 599  # each request moves the idle clock (after a minute's grace)
    assert store.get(token) is not None
    clock.now += 601
    assert store.get(token) is None
    clock.now -= 601
    assert store.get(token) is None  # ended for good, not just hidden


def test_a_session_ends_after_its_lifetime_even_when_used(registry):
    clock = Clock()
    store = sessions(registry, clock)
    token, age = store.create("alice")
    assert age == 3600
    for _ in range(7):
        clock.now += 500
        assert store.get(token) is not None
    clock.now += 101
    assert store.get(token) is None


def test_only_a_hash_of_the_cookie_is_stored(registry):
    store = sessions(registry, Clock())
    token, _ = store.create("alice")
    dump = "\n".join(registry.db.conn().iterdump())
    assert token not in dump
    assert store.get(token + "x") is None and store.get("") is None and store.get(None) is None


def test_a_message_is_shown_once(registry):
    store = sessions(registry, Clock())
    token, _ = store.create("alice")
    session = store.get(token)
    store.flash(session.token_hash, "ok", "left-pad@1.0.1 published")
    assert store.get(token).flash == ("ok", "left-pad@1.0.1 published")
    assert store.get(token).flash is None
