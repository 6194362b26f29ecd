"""Cross-site request forgery checks for the review page's forms.

Three layers, each enough on its own against a form posted from another site:

- every state-changing form carries the session's token in a hidden field, compared in
  constant time with the one stored for the session (the synchronizer-token pattern);
- the sign-in form, which has no session yet, carries a random value that must equal
  a cookie set with the form (double submit), so a site cannot sign a victim in to the
  attacker's account;
- cookies are SameSite=Strict, and a POST whose ``Origin`` header names another origin
  is refused before anything else.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

FIELD = "csrf"
SIGNIN_COOKIE = "pystage_web_signin"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def matches(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def origin_allowed(origin: str | None, host: str | None, public_url: str | None) -> bool:
    """A POST from a browser names its page's origin; it must be this registry's."""
    if origin is None:
        return True  # not sent by old browsers and non-browser clients: the token decides
    if origin == "null":
        return False  # sandboxed frames, data: pages: never one of ours
    netloc = urlsplit(origin).netloc
    allowed = {host} | ({urlsplit(public_url).netloc} if public_url else set())
    return netloc in allowed
