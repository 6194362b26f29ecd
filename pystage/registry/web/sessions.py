"""Sign-in sessions of the review page.

The browser holds a random token in an HttpOnly, SameSite=Strict cookie (Secure over
https); the database holds only its SHA-256, with the user, the session's CSRF token
and two clocks: a session ends ``IDLE_SECONDS`` after its last request or
``LIFETIME_SECONDS`` after sign-in, whichever comes first. Signing out deletes the row,
so a stolen cookie is worthless afterwards. Rows live in SQLite, so a restart keeps
people signed in and several workers would agree.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from pystage.registry.accounts import Accounts, User
from pystage.registry.db import Database

IDLE_SECONDS = 30 * 60
LIFETIME_SECONDS = 12 * 3600
# A request refreshes ``seen`` only when it is older than this: most page views then
# cost no write (every write is an fsync).
TOUCH_AFTER = 60


@dataclass(frozen=True)
class Session:
    token_hash: str
    user: User
    csrf: str
    ends: float  # unix time when the session ends at the latest (for the cookie's Max-Age)
    flash: tuple[str, str] | None  # (kind, text) set by the previous request, if any


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class WebSessions:
    def __init__(
        self,
        db: Database,
        accounts: Accounts,
        *,
        idle: float = IDLE_SECONDS,
        lifetime: float = LIFETIME_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.accounts = accounts
        self.idle = idle
        self.lifetime = lifetime
        self.clock = clock

    def create(self, user_name: str) -> tuple[str, float]:
        """A new session for ``user_name``: (cookie token, seconds it may last)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self.db.write() as conn:
            # sessions past their lifetime go when anyone signs in: the table stays small
            conn.execute("DELETE FROM web_sessions WHERE created < ?", (now - self.lifetime,))
            conn.execute(
                "INSERT INTO web_sessions (token_hash, user, csrf, created, seen) "
                "VALUES (?, ?, ?, ?, ?)",
                (_sha256(token), user_name, secrets.token_urlsafe(32), now, now),
            )
        return token, self.lifetime

    def get(self, token: str | None) -> Session | None:
        """The live session the cookie names, or None (unknown, expired, user gone)."""
        if not token or len(token) > 200:
            return None
        token_hash = _sha256(token)
        row = (
            self.db.conn()
            .execute("SELECT * FROM web_sessions WHERE token_hash = ?", (token_hash,))
            .fetchone()
        )
        if row is None:
            return None
        now = self.clock()
        if now - row["seen"] > self.idle or now - row["created"] > self.lifetime:
            self.end(token_hash)
            return None
        user = self.accounts.get(row["user"])
        if user is None:
            self.end(token_hash)
            return None
        flash = tuple(json.loads(row["flash"])) if row["flash"] else None
        if flash is not None or now - row["seen"] > TOUCH_AFTER:
            with self.db.write() as conn:
                conn.execute(
                    "UPDATE web_sessions SET seen = ?, flash = NULL WHERE token_hash = ?",
                    (now, token_hash),
                )
        return Session(token_hash, user, row["csrf"], row["created"] + self.lifetime, flash)

    def end(self, token_hash: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))

    def flash(self, token_hash: str, kind: str, text: str) -> None:
        """A message for the next page this session loads (after a redirect)."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE web_sessions SET flash = ? WHERE token_hash = ?",
                (json.dumps([kind, text]), token_hash),
            )
