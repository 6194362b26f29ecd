"""Password guesses are throttled on every path, the web sign-in included, and only
inside the sliding window: a guess leaves the count when the window has moved past it.

The window's arithmetic is tested on ``PasswordThrottle`` with an injected clock;
the paths over real HTTP against ``pystage registry serve``."""

from __future__ import annotations

import base64
import time
from urllib.parse import urlsplit

import pytest
from helpers import start_registry

from pystage.registry.errors import RegistryError
from pystage.registry.throttle import PasswordThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused(throttle, account, address=None) -> RegistryError | None:
    try:
        throttle.check(account, address)
    except RegistryError as exc:
        return exc
    return None


def test_guesses_leave_the_count_when_the_window_moves_past_them():
    clock = Clock()
    throttle = PasswordThrottle(per_account=3, per_address=100, window=60, clock=clock)
    for step in (0, 10, 20):  # three wrong passwords at t=0, 10, 20
        clock.now = 1000 + step
        assert refused(throttle, "carol") is None
        throttle.failed("carol", "192.0.2.1")
    clock.now = 1030
    blocked = refused(throttle, "carol")
    assert blocked is not None and blocked.status == 429
    # the oldest guess (t=0) leaves at t=60: retry-after says so, rounded up
    assert int(blocked.headers["retry-after"]) == 31
    clock.now = 1059.9
    assert refused(throttle, "carol") is not None
    clock.now = 1060.0
    assert refused(throttle, "carol") is None  # two guesses left in the window
    throttle.failed("carol", "192.0.2.1")  # a third inside the window: blocked again
    assert refused(throttle, "carol") is not None
    clock.now = 1070.0  # the t=10 guess has left
    assert refused(throttle, "carol") is None


def test_the_address_window_is_counted_across_accounts():
    clock = Clock()
    throttle = PasswordThrottle(per_account=100, per_address=2, window=5, clock=clock)
    throttle.failed("a", "192.0.2.7")
    throttle.failed("b", "192.0.2.7")
    assert "your address" in refused(throttle, "c", "192.0.2.7").message
    assert refused(throttle, "c", "192.0.2.8") is None  # another address
    clock.now += 5
    assert refused(throttle, "c", "192.0.2.7") is None


def basic(name, password):
    return {"authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


@pytest.fixture
def throttled(tmp_path):
    """A registry with the web login, allowing 3 wrong passwords per address in 2 seconds."""
    server = start_registry(
        tmp_path / "r",
        extra_args=(
            "--web-auth",
            "--password-max-failures-per-address",
            "3",
            "--password-window",
            "2",
        ),
    )
    try:
        server.add_user("erin")
        yield server
    finally:
        server.stop()


def web_sign_in(server, name, password):
    start = server.request("POST", "-/v1/login", json={})
    assert start.status_code == 200, start.text
    login_path = urlsplit(start.json()["loginUrl"]).path
    return server.request(
        "POST",
        login_path,
        data={"name": name, "password": password},
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


def test_wrong_passwords_at_the_web_sign_in_count_against_the_address(throttled):
    for n in range(3):  # three accounts, one address, through the web login page
        assert web_sign_in(throttled, f"user{n}", "guess").status_code == 401
    # the address has used its guesses: the right password by Basic is refused too
    blocked = throttled.request("GET", "-/whoami", headers=basic("erin", "correct horse"))
    assert blocked.status_code == 429, blocked.text
    assert "your address" in blocked.json()["error"]
    # and so is the web sign-in itself
    assert web_sign_in(throttled, "erin", "correct horse").status_code == 429


def test_a_throttled_address_may_guess_again_once_the_window_has_passed(throttled):
    for n in range(3):
        assert throttled.request("GET", "-/whoami", headers=basic(f"u{n}", "x")).status_code == 401
    first = throttled.request("GET", "-/whoami", headers=basic("erin", "correct horse"))
    assert first.status_code == 429
    assert 1 <= int(first.headers["retry-after"]) <= 3
    time.sleep(2.1)  # the window (2 s) has moved past all three guesses
    again = throttled.request("GET", "-/whoami", headers=basic("erin", "correct horse"))
    assert again.status_code == 200, again.text
    assert again.json()["username"] == "erin"


def test_wrong_passwords_at_the_review_page_sign_in_count_against_the_address(throttled):
    from dataclasses import replace

    from helpers import WebClient

    fay = throttled.add_user("fay")
    browser = WebClient(throttled)
    try:
        for name in ("fay", "fay", "nobody"):  # a known and an unknown name, one address
            answer = browser.sign_in(replace(fay, name=name), password="guess")
            assert answer.status_code == 401, answer.text
    finally:
        browser.http.close()
    # the address has used its guesses: erin's right password is refused everywhere
    blocked = throttled.request("GET", "-/whoami", headers=basic("erin", "correct horse"))
    assert blocked.status_code == 429, blocked.text
    assert "your address" in blocked.json()["error"]
