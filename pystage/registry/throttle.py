"""Throttling password guesses: per account and per client address, in a sliding window.

Every wrong password (couch login, HTTP Basic, token creation, two-factor settings)
counts against the account it named and against the address it came from. Once
either has ``limit`` failures inside ``window`` seconds, password checks for it
answer 429 until the oldest of those failures leaves the window; a right password
then is refused too, or throttling would tell the guesser when they got it right.

Only passwords are throttled here: tokens are 256-bit random strings, and one-time
passwords have their own lockout (``accounts``). State is in memory: a restart
forgets it, which costs an attacker a restart they cannot cause.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from pystage.registry.errors import RegistryError

MAX_KEYS = 100_000  # bounded memory whatever the number of addresses guessing


class PasswordThrottle:
    def __init__(
        self,
        per_account: int,
        per_address: int,
        window: float,
        clock=time.monotonic,
    ) -> None:
        self._limits = {"account": per_account, "address": per_address}
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def _keys(self, account: str, address: str | None) -> list[tuple[str, str]]:
        keys = [("account", account)]
        if address:
            keys.append(("address", address))
        return keys

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def check(self, account: str, address: str | None) -> None:
        """Raise 429 when the account or the address has used up its guesses."""
        now = self._clock()
        with self._lock:
            for key in self._keys(account, address):
                times = self._recent(key, now)
                if len(times) >= self._limits[key[0]]:
                    wait = max(1, int(times[0] + self._window - now) + 1)
                    what = "this account" if key[0] == "account" else "your address"
                    raise RegistryError(
                        429,
                        f"too many wrong passwords for {what}: try again in {wait} s",
                        {"retry-after": str(wait)},
                    )

    def failed(self, account: str, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) >= MAX_KEYS:
                for key in list(self._failures):
                    self._recent(key, now)
                for key in list(self._failures)[: len(self._failures) // 2 or None]:
                    if len(self._failures) < MAX_KEYS // 2:
                        break
                    del self._failures[key]  # the oldest keys first (dicts keep order)
            for key in self._keys(account, address):
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)
