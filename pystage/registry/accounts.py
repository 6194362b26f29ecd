"""Users, passwords, tokens and TOTP two-factor authentication.

Secrets at rest: passwords as scrypt hashes, tokens and recovery codes as
SHA-256 hashes. TOTP secrets must stay readable to verify codes, so they are
stored as is; the storage directory is created private to its owner.

One-time passwords: a code is accepted for the current 30-second step or one
step either side (clock skew), and each step is accepted once per user (no
replay). Wrong codes are counted twice: per credential (the token a request came
with, or a password from one address) and per account. After
``otp_max_failures`` wrong codes in a row through one credential that credential
refuses every code, right or wrong, for ``otp_lockout_seconds``; after
``otp_account_max_failures`` in a row, from any credential, the whole account does.
So a stolen token locks only itself, and only a sustained attack from many
credentials locks the real maintainer out too (docs/security.md has the trade-off).

Two-factor holds on every path: HTTP Basic credentials of an account with 2FA
need a valid ``npm-otp`` on the request, exactly like a couch login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, replace

import pyotp

from pystage.registry.config import RegistryConfig
from pystage.registry.db import Database
from pystage.registry.errors import RegistryError, otp_required
from pystage.registry.names import is_valid_username
from pystage.registry.throttle import PasswordThrottle
from pystage.registry.timefmt import now_iso
from pystage.registry.tokens import TokenRequest, TokenRights
from pystage.registry.webauth import WebAuth

TOTP_PERIOD = 30
TFA_MODES = ("auth-only", "auth-and-writes")


FULL_RIGHTS = TokenRights()


@dataclass(frozen=True)
class Credential:
    """How a request proved who it is: a token (with its rights) or a password."""

    kind: str  # "token" or "password"
    lockout_key: str  # what wrong one-time passwords are counted against
    address: str | None = None  # the client's address
    rights: TokenRights = FULL_RIGHTS
    token_key: str = ""  # the token's public id (``key``), for tokens
    token_hash: str = ""
    otp_verified: bool = False  # a password request whose npm-otp was already accepted


@dataclass(frozen=True)
class User:
    name: str
    email: str | None
    tfa_mode: str | None  # None unless two-factor is enrolled and confirmed
    credential: Credential | None = None

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


# Checked against when the user does not exist, so a wrong name costs as much time
# as a wrong password and timing does not tell which accounts exist.
_DUMMY_HASH = hash_password(secrets.token_hex(16))
TOKEN_PREVIEW = 12  # characters of a token shown in a list ("pystage_AbCd"); npm adds "…"


def _user(row) -> User:
    mode = row["tfa_mode"] if row["tfa_secret"] and not row["tfa_pending"] else None
    return User(row["name"], row["email"], mode)


class Accounts:
    def __init__(self, db: Database, config: RegistryConfig, web: WebAuth | None = None) -> None:
        self.db = db
        self.config = config
        self.web = web  # set when web authentication is on: its codes count as OTPs
        self.throttle = PasswordThrottle(
            config.password_max_failures,
            config.password_max_failures_per_address,
            config.password_window_seconds,
        )

    # -- users and tokens ------------------------------------------------------
    def _row(self, conn, name: str):
        return conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()

    def get(self, name: str) -> User | None:
        row = self._row(self.db.conn(), name)
        return _user(row) if row else None

    def verify_password(self, name: str, password: object, address: str | None):
        """The user's row when ``password`` is theirs, else None; throttled (429)."""
        self.throttle.check(name, address)
        row = self._row(self.db.conn(), name) if is_valid_username(name) else None
        ok = isinstance(password, str) and password_matches(
            password, row["password_hash"] if row is not None else _DUMMY_HASH
        )
        if ok and row is not None:
            return row
        self.throttle.failed(name, address)
        return None

    def login(
        self,
        name: str,
        password: object,
        email: object,
        otp: str | None,
        address: str | None = None,
    ) -> tuple[str, bool]:
        """Couch-style login or sign-up. Returns (token, created)."""
        if not is_valid_username(name):
            raise RegistryError(
                400, f"invalid user name {_shown(name)}: use lowercase letters, digits, - . _"
            )
        if not isinstance(password, str) or not password:
            raise RegistryError(400, "a password is required")
        if email is not None and not isinstance(email, str):
            raise RegistryError(400, '"email" must be a string')
        if self._row(self.db.conn(), name) is None:
            return self._sign_up(name, password, email), True
        row = self.verify_password(name, password, address)
        if row is None:
            raise RegistryError(401, "incorrect username or password")
        user = _user(row)
        if user.has_2fa:
            self.check_otp(self._password_user(user, address), otp)
        return self.new_token(name), False

    def _sign_up(self, name: str, password: str, email: str | None) -> str:
        if not self.config.open_registration:
            raise RegistryError(
                403,
                "user registration is disabled on this registry (start it with --open-registration)",
            )
        stamp = now_iso()
        password_hash = hash_password(password)
        with self.db.write() as conn:  # the account and its first token, or neither
            if self._row(conn, name) is not None:
                raise RegistryError(409, f'user "{name}" already exists')
            conn.execute(
                "INSERT INTO users (name, email, password_hash, created, updated) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, email, password_hash, stamp, stamp),
            )
            return self._insert_token(conn, name, TokenRights(), None)

    def new_token(
        self, name: str, rights: TokenRights | None = None, label: str | None = None
    ) -> str:
        with self.db.write() as conn:
            return self._insert_token(conn, name, rights or TokenRights(), label)

    @staticmethod
    def _insert_token(conn, name: str, rights: TokenRights, label: str | None) -> str:
        token = "pystage_" + secrets.token_urlsafe(32)
        stamp = now_iso()
        conn.execute(
            "INSERT INTO tokens (token_hash, user, created, key, preview, name, readonly, "
            "stage_only, cidr_whitelist, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                _sha256(token),
                name,
                stamp,
                secrets.token_hex(16),
                token[:TOKEN_PREVIEW],
                label,
                int(rights.readonly),
                int(rights.stage_only),
                json.dumps(list(rights.cidr_whitelist)),
                stamp,
            ),
        )
        return token

    def user_for_token(self, token: str, address: str | None = None) -> User | None:
        row = (
            self.db.conn()
            .execute(
                "SELECT users.*, tokens.key AS token_key, tokens.readonly, tokens.stage_only, "
                "tokens.cidr_whitelist FROM tokens JOIN users ON users.name = tokens.user "
                "WHERE tokens.token_hash = ?",
                (_sha256(token),),
            )
            .fetchone()
        )
        if row is None:
            return None
        rights = TokenRights(
            bool(row["readonly"]), bool(row["stage_only"]), tuple(json.loads(row["cidr_whitelist"]))
        )
        credential = Credential(
            "token",
            "token:" + row["token_key"],
            address,
            rights,
            row["token_key"],
            _sha256(token),
        )
        return replace(_user(row), credential=credential)

    def user_for_password(self, name: str, password: str, address: str | None):
        """The user whose password this is, else None (throttled: 429 when guessing)."""
        row = self.verify_password(name, password, address)
        return self._password_user(_user(row), address) if row is not None else None

    def user_for_basic(
        self, name: str, password: str, otp: str | None, address: str | None
    ) -> User:
        """HTTP Basic: the user, after the same two-factor challenge as a login."""
        user = self.user_for_password(name, password, address)
        if user is None:
            raise RegistryError(401, "incorrect username or password")
        if user.has_2fa:
            self.check_otp(user, otp)
            user = replace(user, credential=replace(user.credential, otp_verified=True))
        return user

    @staticmethod
    def _password_user(user: User, address: str | None) -> User:
        key = f"password:{user.name}@{address or '-'}"
        return replace(user, credential=Credential("password", key, address))

    def revoke_token(self, token: str) -> bool:
        with self.db.write() as conn:
            return (
                conn.execute("DELETE FROM tokens WHERE token_hash = ?", (_sha256(token),)).rowcount
                > 0
            )

    def create_token(self, user: User, request: TokenRequest, otp: str | None) -> dict:
        self._require_password(user, request.password)
        if user.has_2fa:
            self.check_otp(user, otp)
        token = self.new_token(user.name, request.rights, request.name)
        row = (
            self.db.conn()
            .execute("SELECT * FROM tokens WHERE token_hash = ?", (_sha256(token),))
            .fetchone()
        )
        return {**_token_entry(row), "token": token}

    def list_tokens(self, user: User) -> list[dict]:
        rows = self.db.conn().execute(
            "SELECT * FROM tokens WHERE user = ? ORDER BY created, rowid", (user.name,)
        )
        return [_token_entry(row) for row in rows]

    def delete_token(self, user: User, key_or_token: str, otp: str | None) -> None:
        """Revoke one of the user's tokens, named by its key or by its value (as npm allows)."""
        where = "user = ? AND (key = ? OR token_hash = ?)"
        args = (user.name, key_or_token, _sha256(key_or_token))
        if self.db.conn().execute(f"SELECT 1 FROM tokens WHERE {where}", args).fetchone() is None:
            raise RegistryError(404, "token not found")
        credential = user.credential
        itself = credential is not None and credential.token_hash in (
            _sha256(key_or_token),
            self._hash_of_key(key_or_token),
        )
        if user.needs_otp_for_writes and not itself:
            self.check_otp(user, otp)
        with self.db.write() as conn:
            conn.execute(f"DELETE FROM tokens WHERE {where}", args)

    def _hash_of_key(self, key: str) -> str | None:
        row = self.db.conn().execute("SELECT token_hash FROM tokens WHERE key = ?", (key,))
        found = row.fetchone()
        return found[0] if found else None

    def _require_password(self, user: User, password: object) -> None:
        address = user.credential.address if user.credential else None
        if self.verify_password(user.name, password, address) is None:
            raise RegistryError(403, "incorrect password")

    # -- one-time passwords ----------------------------------------------------
    def check_otp(self, who: User | str, code: str | None, *, pending: bool = False) -> None:
        """Accept ``code`` once for ``who`` or raise the 401/429 a client understands.

        ``who`` is the requesting ``User`` (wrong codes then count against its
        credential as well as its account) or, from older callers, a user name.
        """
        credential = who.credential if isinstance(who, User) else None
        name = who.name if isinstance(who, User) else who
        if credential is not None and credential.otp_verified and not pending:
            return  # this request's npm-otp already passed, at HTTP Basic authentication
        if not code:
            raise otp_required(
                "This operation requires a one-time password from your authenticator.", name
            )
        if self.web is not None and self.web.consume_otp(name, code.strip()):
            return
        now = time.time()
        key = credential.lockout_key if credential is not None else None
        with self.db.write() as conn:
            row = self._row(conn, name)
            lock = self._credential_lock(conn, key)
            if row["otp_locked_until"] > now:
                outcome, until = "account", row["otp_locked_until"]
            elif lock is not None and lock["locked_until"] > now:
                outcome, until = "credential", lock["locked_until"]
            elif self._accept(conn, row, code.strip(), now, pending):
                conn.execute("UPDATE users SET otp_failures = 0 WHERE name = ?", (name,))
                if key is not None:
                    conn.execute("DELETE FROM otp_lockouts WHERE credential = ?", (key,))
                outcome, until = "ok", 0
            else:
                outcome, until = self._count_failure(conn, row, key, lock, now)
        if outcome in ("account", "credential"):
            wait = max(1, int(until - now))
            what = (
                "account"
                if outcome == "account"
                else "token"
                if (key or "").startswith("token:")
                else "login"
            )
            raise RegistryError(
                429,
                f"too many wrong one-time passwords: {what} locked, try again in {wait} s",
                {"retry-after": str(wait)},
            )
        if outcome == "bad":
            raise otp_required("invalid or already used one-time password")

    @staticmethod
    def _credential_lock(conn, key: str | None):
        if key is None:
            return None
        return conn.execute("SELECT * FROM otp_lockouts WHERE credential = ?", (key,)).fetchone()

    def _count_failure(self, conn, row, key: str | None, lock, now: float):
        """One more wrong code: lock the credential and/or the account at their limits."""
        config = self.config
        until = now + config.otp_lockout_seconds
        outcome = "bad"
        account_failures = row["otp_failures"] + 1
        if account_failures >= config.otp_account_max_failures:
            conn.execute(
                "UPDATE users SET otp_failures = 0, otp_locked_until = ? WHERE name = ?",
                (until, row["name"]),
            )
            outcome = "account"
        else:
            conn.execute(
                "UPDATE users SET otp_failures = ? WHERE name = ?", (account_failures, row["name"])
            )
        if key is not None:
            failures = (lock["failures"] if lock is not None else 0) + 1
            locked = failures >= config.otp_max_failures
            conn.execute(
                "INSERT INTO otp_lockouts (credential, failures, locked_until) VALUES (?, ?, ?) "
                "ON CONFLICT (credential) DO UPDATE SET failures = excluded.failures, "
                "locked_until = excluded.locked_until",
                (key, 0 if locked else failures, until if locked else 0),
            )
            if locked and outcome == "bad":
                outcome = "credential"
        return outcome, until

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
                self.check_otp(user, otp)
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
        self._require_password(user, tfa.get("password"))
        if user.has_2fa:
            self.check_otp(user, otp)
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


def _token_entry(row) -> dict:
    """A token as ``GET /-/npm/v1/tokens`` lists it: never its value, only a preview."""
    entry = {
        "key": row["key"],
        "token": row["preview"] or "",
        "readonly": bool(row["readonly"]),
        "stage_only": bool(row["stage_only"]),
        "cidr_whitelist": json.loads(row["cidr_whitelist"]),
        "created": row["created"],
        "updated": row["updated"] or row["created"],
    }
    if row["name"]:
        entry["name"] = row["name"]
    return entry


def _shown(value: object) -> str:
    """A client-sent value quoted for an error message: escaped, and short."""
    text = json.dumps(value if isinstance(value, str) else str(value))
    return text if len(text) <= 80 else text[:76] + '..."'
