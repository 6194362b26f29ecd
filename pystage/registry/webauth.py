"""Sessions of npm's web flows: browser login and browser one-time-password confirmation.

Both flows pair a page the user opens (``loginUrl`` / ``authUrl``) with a ``doneUrl``
the client polls: 202 while the user has not finished, then 200 ``{"token"}`` once.
For login the token is an ordinary access token; for a one-time password it is a
single-use code that ``Accounts.check_otp`` accepts once for that user.

State lives in memory: a session is short-lived (``SESSION_SECONDS``) and a restart
only means the user starts the command again. Session ids and issued codes are
random 192-bit strings; issued codes are kept as SHA-256 hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

SESSION_SECONDS = 600
POLL_SECONDS = 1
WEB_OTP_PREFIX = "webotp_"


@dataclass
class Session:
    kind: str  # "login" or "otp"
    user: str | None  # the user an OTP session confirms for; None for login
    expires: float
    token: str | None = None  # set once the user finished in the browser


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class WebAuth:
    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._otp_codes: dict[str, tuple[str, float]] = {}  # sha256(code) -> (user, expires)

    def _expire(self) -> None:
        now = self._clock()
        for key in [k for k, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[key]
        for key in [k for k, (_, exp) in self._otp_codes.items() if exp <= now]:
            del self._otp_codes[key]

    def start(self, kind: str, user: str | None = None) -> str:
        session_id = secrets.token_urlsafe(24)
        with self._lock:
            self._expire()
            self._sessions[session_id] = Session(kind, user, self._clock() + SESSION_SECONDS)
        return session_id

    def pending(self, kind: str, session_id: str) -> Session | None:
        """The session while the user has yet to finish it in the browser."""
        with self._lock:
            self._expire()
            session = self._sessions.get(session_id)
        if session is None or session.kind != kind or session.token is not None:
            return None
        return session

    def finish_login(self, session_id: str, token: str) -> bool:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.kind != "login" or session.token is not None:
                return False
            session.token = token
            return True

    def finish_otp(self, session_id: str) -> bool:
        """Issue the single-use code the client will send as ``npm-otp``."""
        code = WEB_OTP_PREFIX + secrets.token_urlsafe(24)
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.kind != "otp" or session.token is not None:
                return False
            if session.user is None:  # an OTP session always names its user
                return False
            session.token = code
            self._otp_codes[_sha256(code)] = (session.user, self._clock() + SESSION_SECONDS)
            return True

    def poll(self, kind: str, session_id: str) -> tuple[bool, str | None]:
        """(known, token): token is handed out once, after which the session is gone."""
        with self._lock:
            self._expire()
            session = self._sessions.get(session_id)
            if session is None or session.kind != kind:
                return False, None
            if session.token is None:
                return True, None
            del self._sessions[session_id]
            return True, session.token

    def consume_otp(self, user: str, code: str) -> bool:
        """Accept a code issued by ``finish_otp`` for ``user``, once."""
        if not code.startswith(WEB_OTP_PREFIX):
            return False
        digest = _sha256(code)
        with self._lock:
            self._expire()
            entry = self._otp_codes.get(digest)
            if entry is None or not hmac.compare_digest(entry[0], user):
                return False
            del self._otp_codes[digest]
            return True
