"""Secrets out of every string that leaves the process.

A secret (a token, a password, a one-time password, a TOTP secret) is masked
in every form in which pystage sends or shows it: as it is, percent-encoded
(a token in a request path: ``DELETE /-/user/token/<quoted token>``, upper or
lower case hex, ``/`` kept or not, ``+`` for a space), base64 (HTTP Basic:
``user:password``), and JSON-escaped. Text that merely looks secret (a
``scheme://user:password@`` URL, ``Bearer <x>``, ``npm_<36>`` tokens, npmrc
credential lines, ``otpauth://`` URIs, JSON ``"password": "..."``) is masked
whether or not pystage knew the value.

Every secret a ``Redactor`` learns is also remembered for the process, so
the last lines of defence (the error line and the ``-v`` traceback, printed
by ``cli/``) mask it too without holding the client. This module imports
nothing from the client: ``render/`` and ``cli/`` use it directly.

Results (the data a command prints) are masked of one kind of secret only: the
credentials the process *sent* (``Redactor.add_sent``: a token, an ``_auth`` or
URL password), which a registry has no business putting in its data (a CI log
would publish them). Nothing else there: a secret-shaped pattern would mangle
ordinary data ("Bearer tokens" in a description), a one-time password is six
digits a size or a version may hold, and a token the command itself made
(``token create``) is the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
# very short values would mangle ordinary text; OTP codes have 6+ digits
MIN_SECRET_LENGTH = 4

_SECRET_PATTERN_SOURCES = [
    (r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+(:[^/\s@]*)?@", r"\1" + MASK + "@"),
    (r"(?i)\b(bearer|basic)\s+(?!realm\b)[A-Za-z0-9._~+/=%-]{4,}", r"\1 " + MASK),
    (r"\bnpm_[A-Za-z0-9]{36}\b", "npm_" + MASK),
    (r"(?i)(:_authToken|:_auth|:_password)\s*=\s*\S+", r"\1=" + MASK),
    (r"(?i)otpauth://\S+", "otpauth://" + MASK),
    (r'(?i)("(?:password|token|otp|secret)"\s*:\s*)"[^"]*"', r'\1"' + MASK + '"'),
]
# a sent credential this short is not masked in results (it would hit ordinary words)
MIN_SENT_LENGTH = 8

_compiled: list[tuple[re.Pattern[str], str]] = []
_remembered: set[str] = set()
_sent: set[str] = set()
_sent_pattern: re.Pattern[str] | None = None


def _secret_patterns() -> list[tuple[re.Pattern[str], str]]:
    """Compiled on the first redaction, not at import (a command that fails nowhere
    never needs them)."""
    if not _compiled:
        _compiled.extend((re.compile(p), repl) for p, repl in _SECRET_PATTERN_SOURCES)
    return _compiled


def encodings(secret: str) -> set[str]:
    """``secret`` in each form it can take on the wire or in a message."""
    import base64
    import json
    from urllib.parse import quote, quote_plus

    forms = {secret}
    for quoted in (quote(secret, safe=""), quote(secret), quote_plus(secret)):
        forms.add(quoted)
        # a server or a proxy may echo the escapes in lower case
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quoted))
    forms.add(json.dumps(secret)[1:-1])
    raw = secret.encode("utf-8")
    forms.add(base64.b64encode(raw).decode("ascii"))
    forms.add(base64.b64encode(raw).decode("ascii").rstrip("="))
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


def basic_credentials(username: str, password: str) -> set[str]:
    """What HTTP Basic sends for ``username:password`` (base64), plus the password itself."""
    import base64

    pair = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return {pair} | encodings(password)


def remember(*secrets: str | None) -> None:
    """Mask ``secrets`` (in every encoding) in everything redacted from now on."""
    for s in secrets:
        if s and len(str(s)) >= MIN_SECRET_LENGTH:
            _remembered.update(encodings(str(s)))


def remember_sent(*secrets: str | None) -> None:
    """``secrets`` went out as credentials: mask them (in every encoding) in results too."""
    global _sent_pattern
    forms: set[str] = set()
    for s in secrets:
        if s and len(str(s)) >= MIN_SENT_LENGTH:
            forms.update(f for f in encodings(str(s)) if len(f) >= MIN_SENT_LENGTH)
    _remembered.update(forms)
    if forms - _sent:
        _sent.update(forms)
        # one alternation, longest first: a result is scanned once, whatever the count
        _sent_pattern = re.compile("|".join(map(re.escape, sorted(_sent, key=len, reverse=True))))


def mask_sent(text: str) -> str:
    """``text`` (a result: registry data about to be shown) without the credentials
    this process sent."""
    if _sent_pattern is None or not text:
        return text
    return _sent_pattern.sub(MASK, text)


def forget_all() -> None:
    """For tests: start from no known secret."""
    global _sent_pattern
    _remembered.clear()
    _sent.clear()
    _sent_pattern = None


def _mask(text: str, known: Iterable[str]) -> str:
    for s in sorted(known, key=len, reverse=True):
        if s in text:
            text = text.replace(s, MASK)
    for pattern, repl in _secret_patterns():
        text = pattern.sub(repl, text)
    return text


class Redactor:
    """Masks the secrets it was told about (and every secret the process knows), and
    anything secret-shaped."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        for s in secrets:
            if s and len(str(s)) >= MIN_SECRET_LENGTH:
                self._secrets.update(encodings(str(s)))
                remember(str(s))

    def add_sent(self, *secrets: str | None) -> None:
        """Credentials that go out with requests: masked everywhere, results included."""
        self.add(*secrets)
        remember_sent(*secrets)

    def add_basic(self, username: str, password: str) -> None:
        """A ``user:password`` sent as HTTP Basic (a registry URL's userinfo)."""
        forms = basic_credentials(username, password)
        self._secrets.update(forms)
        _remembered.update(forms)
        remember_sent(password, *(f for f in forms if f not in encodings(password)))

    def __call__(self, text: str) -> str:
        if not text:
            return text
        return _mask(text, self._secrets | _remembered)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without any secret the process knows, ``secrets``, or secret-shaped text."""
    if not text:
        return text
    extra: set[str] = set()
    for s in secrets:
        if s and len(str(s)) >= MIN_SECRET_LENGTH:
            extra.update(encodings(str(s)))
    return _mask(text, extra | _remembered)
