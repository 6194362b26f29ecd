"""Users, passwords, tokens and TOTP two-factor authentication.

Secrets at rest: passwords as scrypt hashes, tokens and recovery codes as
SHA-256 hashes. TOTP secrets must stay readable to verify codes, so they are
stored as is; the storage directory is created private to its owner.

One-time passwords: a code is accepted for the current 30-second step or one
step either side (clock skew), and each step is accepted once per user (no
replay). After ``otp_max_failures`` wrong codes in a row the account refuses
every code, right or wrong, for ``otp_lockout_seconds``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

import pyotp

from pystage.registry.config import RegistryConfig
from pystage.registry.db import Database
from pystage.registry.errors import RegistryError, otp_required
from pystage.registry.names import is_valid_username
from pystage.registry.timefmt import now_iso
from pystage.registry.webauth import WebAuth

TOTP_PERIOD = 30
TFA_MODES = ("auth-only", "auth-and-writes")


@dataclass(frozen=True)
class User:
    name: str
    email: str | None
    tfa_mode: str | None  # None unless two-factor is enrolled and confirmed

    @property
    def has_2fa(self) -> bool:
        return self.tfa_mode is not None

    @property
    def needs_otp_for_writes(self) -> bool:
        return self.tfa_mode == "auth-and-writes"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def password_matches(password: str, stored: str) -> bool:
    _, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=2**14, r=8, p=1, dklen=32
    )
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _user(row) -> User:
    mode = row["tfa_mode"] if row["tfa_secret"] and not row["tfa_pending"] else None
    return User(row["name"], row["email"], mode)


class Accounts:
    def __init__(self, db: Database, config: RegistryConfig, web: WebAuth | None = None) -> None:
        self.db = db
        self.config = config
        self.web = web  # set when web authentication is on: its codes count as OTPs

    # -- users and tokens ------------------------------------------------------
    def _row(self, conn, name: str):
        return conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()

    def get(self, name: str) -> User | None:
        row = self._row(self.db.conn(), name)
        return _user(row) if row else None

    def login(
        self, name: str, password: object, email: object, otp: str | None
    ) -> tuple[str, bool]:
        """Couch-style login or sign-up. Returns (token, created)."""
        if not is_valid_username(name):
            raise RegistryError(
                400, f'invalid user name "{name}": use lowercase letters, digits, - . _'
            )
        if not isinstance(password, str) or not password:
            raise RegistryError(400, "a password is required")
        row = self._row(self.db.conn(), name)
        if row is None:
            if not self.config.open_registration:
                raise RegistryError(
                    403,
                    "user registration is disabled on this registry "
                    "(start it with --open-registration)",
                )
            stamp = now_iso()
            with self.db.write() as conn:
                if self._row(conn, name) is not None:
                    raise RegistryError(409, f'user "{name}" already exists')
                conn.execute(
                    "INSERT INTO users (name, email, password_hash, created, updated) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        name,
                        email if isinstance(email, str) else None,
                        hash_password(password),
                        stamp,
                        stamp,
                    ),
                )
            return self.new_token(name), True
        if not password_matches(password, row["password_hash"]):
            raise RegistryError(401, "incorrect username or password")
        if _user(row).has_2fa:
            self.check_otp(name, otp)
        return self.new_token(name), False

    def new_token(self, name: str) -> str:
        token = "pystage_" + secrets.token_urlsafe(32)
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO tokens (token_hash, user, created) VALUES (?, ?, ?)",
                (_sha256(token), name, now_iso()),
            )
        return token

    def user_for_token(self, token: str) -> User | None:
        row = (
            self.db.conn()
            .execute(
                "SELECT users.* FROM tokens JOIN users ON users.name = tokens.user "
                "WHERE tokens.token_hash = ?",
                (_sha256(token),),
            )
            .fetchone()
        )
        return _user(row) if row else None

    def user_for_password(self, name: str, password: str) -> User | None:
        row = self._row(self.db.conn(), name)
        if row is None or not password_matches(password, row["password_hash"]):
            return None
        return _user(row)

    def revoke_token(self, token: str) -> bool:
        with self.db.write() as conn:
            return (
                conn.execute("DELETE FROM tokens WHERE token_hash = ?", (_sha256(token),)).rowcount
                > 0
            )

    def create_token(self, user: User, password: object, otp: str | None) -> str:
        self._require_password(user.name, password)
        if user.has_2fa:
            self.check_otp(user.name, otp)
        return self.new_token(user.name)

    def _require_password(self, name: str, password: object) -> None:
        row = self._row(self.db.conn(), name)
        if not isinstance(password, str) or not password_matches(password, row["password_hash"]):
            raise RegistryError(403, "incorrect password")

    # -- one-time passwords ----------------------------------------------------
    def check_otp(self, name: str, code: str | None, *, pending: bool = False) -> None:
        """Accept ``code`` once for ``name`` or raise the 401/429 a client understands."""
        if not code:
            raise otp_required(
                "This operation requires a one-time password from your authenticator.", name
            )
        if self.web is not None and self.web.consume_otp(name, code.strip()):
            return
        now = time.time()
        outcome = "bad"
        with self.db.write() as conn:
            row = self._row(conn, name)
            if row["otp_locked_until"] > now:
                outcome = "locked"
            elif self._accept(conn, row, code.strip(), now, pending):
                conn.execute("UPDATE users SET otp_failures = 0 WHERE name = ?", (name,))
                outcome = "ok"
            elif row["otp_failures"] + 1 >= self.config.otp_max_failures:
                conn.execute(
                    "UPDATE users SET otp_failures = 0, otp_locked_until = ? WHERE name = ?",
                    (now + self.config.otp_lockout_seconds, name),
                )
                outcome = "locked"
            else:
                conn.execute(
                    "UPDATE users SET otp_failures = otp_failures + 1 WHERE name = ?", (name,)
                )
        if outcome == "locked":
            row = self._row(self.db.conn(), name)
            wait = max(1, int(row["otp_locked_until"] - now))
            raise RegistryError(
                429,
                f"too many wrong one-time passwords: account locked, try again in {wait} s",
                {"retry-after": str(wait)},
            )
        if outcome == "bad":
            raise otp_required("invalid or already used one-time password")

    def _accept(self, conn, row, code: str, now: float, pending: bool) -> bool:
        secret = row["tfa_secret"]
        if not secret or bool(row["tfa_pending"]) != pending:
            return False
        if code.isdigit() and len(code) == 6:
            totp = pyotp.TOTP(secret, interval=TOTP_PERIOD)
            current = int(now // TOTP_PERIOD)
            for step in (current - 1, current, current + 1):
                if hmac.compare_digest(totp.at(step * TOTP_PERIOD), code):
                    used = (
                        conn.execute(
                            "INSERT OR IGNORE INTO otp_used (user, step) VALUES (?, ?)",
                            (row["name"], step),
                        ).rowcount
                        == 0
                    )
                    conn.execute(
                        "DELETE FROM otp_used WHERE user = ? AND step < ?",
                        (row["name"], current - 2),
                    )
                    return not used
            return False
        codes = json.loads(row["recovery_codes"])
        if pending or _sha256(code) not in codes:
            return False
        codes.remove(_sha256(code))
        conn.execute(
            "UPDATE users SET recovery_codes = ? WHERE name = ?", (json.dumps(codes), row["name"])
        )
        return True

    # -- profile and two-factor enrolment --------------------------------------
    def profile(self, user: User) -> dict:
        row = self._row(self.db.conn(), user.name)
        tfa: object = False
        if row["tfa_secret"]:
            tfa = {"pending": bool(row["tfa_pending"]), "mode": row["tfa_mode"]}
        return {
            "name": row["name"],
            "email": row["email"] or "",
            "email_verified": False,
            "created": row["created"],
            "updated": row["updated"],
            "tfa": tfa,
            "fullname": "",
            "homepage": "",
            "freenode": "",
            "twitter": "",
            "github": "",
        }

    def update_profile(self, user: User, body: dict, otp: str | None) -> dict:
        tfa = body.get("tfa")
        if isinstance(tfa, dict):
            return self._set_tfa_mode(user, tfa, otp)
        if isinstance(tfa, list):
            return self._confirm_tfa(user, tfa)
        if tfa is not None:
            raise RegistryError(400, '"tfa" must be an object {mode, password} or a list of codes')
        if "email" in body:
            if user.needs_otp_for_writes:
                self.check_otp(user.name, otp)
            email = body["email"]
            if email is not None and not isinstance(email, str):
                raise RegistryError(400, '"email" must be a string')
            with self.db.write() as conn:
                conn.execute(
                    "UPDATE users SET email = ?, updated = ? WHERE name = ?",
                    (email, now_iso(), user.name),
                )
        return self.profile(user)

    def _set_tfa_mode(self, user: User, tfa: dict, otp: str | None) -> dict:
        mode = tfa.get("mode")
        if mode not in (*TFA_MODES, "disable"):
            raise RegistryError(
                400,
                f"unknown two-factor mode {mode!r}: use "
                '"auth-only", "auth-and-writes" or "disable"',
            )
        self._require_password(user.name, tfa.get("password"))
        if user.has_2fa:
            self.check_otp(user.name, otp)
            if mode != "disable":
                with self.db.write() as conn:
                    conn.execute(
                        "UPDATE users SET tfa_mode = ?, updated = ? WHERE name = ?",
                        (mode, now_iso(), user.name),
                    )
                return {"tfa": {"mode": mode, "pending": False}}
        if mode == "disable":
            with self.db.write() as conn:
                conn.execute(
                    "UPDATE users SET tfa_mode = NULL, tfa_secret = NULL, tfa_pending = 0, "
                    "recovery_codes = '[]', updated = ? WHERE name = ?",
                    (now_iso(), user.name),
                )
            return {"tfa": False}
        secret = pyotp.random_base32()
        with self.db.write() as conn:
            conn.execute(
                "UPDATE users SET tfa_mode = ?, tfa_secret = ?, tfa_pending = 1, "
                "updated = ? WHERE name = ?",
                (mode, secret, now_iso(), user.name),
            )
        uri = pyotp.TOTP(secret, interval=TOTP_PERIOD).provisioning_uri(
            name=user.name, issuer_name="pystage registry"
        )
        return {"tfa": uri}

    def _confirm_tfa(self, user: User, codes: list) -> dict:
        row = self._row(self.db.conn(), user.name)
        if not row["tfa_secret"] or not row["tfa_pending"]:
            raise RegistryError(
                409, "no two-factor enrolment is pending: send {tfa: {mode, password}} first"
            )
        if len(codes) != 1 or not isinstance(codes[0], str):
            raise RegistryError(400, '"tfa" must hold exactly one code')
        self.check_otp(user.name, codes[0], pending=True)
        recovery = [secrets.token_hex(5) for _ in range(5)]
        with self.db.write() as conn:
            conn.execute(
                "UPDATE users SET tfa_pending = 0, recovery_codes = ?, updated = ? WHERE name = ?",
                (json.dumps([_sha256(c) for c in recovery]), now_iso(), user.name),
            )
        return {"tfa": recovery}
