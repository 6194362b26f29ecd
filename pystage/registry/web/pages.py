"""Rendering the review page: the Jinja2 environment, its filters, the security headers.

Autoescaping is on for every template, so anything a package or the registry supplies
(names, file paths, messages, manifest strings) is text, never markup. On top of that
``shown`` makes invisible characters visible: control characters and bidirectional
overrides in a file name could otherwise make ``evil.js`` read as something harmless.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

# No script at all, styles only from our own stylesheet, forms only to ourselves,
# never framed: a hostile README that slipped through escaping could still do nothing.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # not no-referrer: with it Chromium sends "Origin: null" on our own form posts
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
}

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufffd"
    "\ud800-\udfff]"
)


def shown(value: object) -> Markup:
    """Escaped text in which every invisible or direction-changing character (and any
    lone surrogate or replacement mark from undecodable bytes) is shown as a marked
    ``U+XXXX``; tab and newline stay, so messages keep their lines."""
    text = "" if value is None else str(value)
    if not _INVISIBLE.search(text):
        return escape(text)
    parts = []
    for char in text:
        if _INVISIBLE.match(char):
            parts.append(Markup('<span class="ctl">U+{:04X}</span>').format(ord(char)))
        else:
            parts.append(escape(char))
    return Markup("").join(parts)


def size(value: object) -> str:
    if not isinstance(value, int):
        return ""
    if value < 1000:
        return f"{value} B"
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000:
            return f"{value:.1f} {unit}"
    return f"{value:.1f} TB"


def when(value: object) -> str:
    """'2024-01-02T03:04:05.678Z' -> '2024-01-02 03:04 UTC'."""
    if not isinstance(value, str):
        return ""
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def query_value(value: object) -> str:
    return quote("" if value is None else str(value), safe="")


def mode(value: object) -> str:
    return f"{value:04o}" if isinstance(value, int) else ""


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pystage.registry.web", "templates"),
        autoescape=True,  # every template, whatever its file name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(shown=shown, size=size, when=when, q=query_value, mode=mode)
    return env


class Pages:
    def __init__(self, base: str) -> None:
        self.env = make_environment()
        self.base = base  # the registry's root path, ending in "/"

    def render(self, template: str, status: int = 200, **context) -> HTMLResponse:
        page = self.env.get_template(template).render(base=self.base, **context)
        return HTMLResponse(page, status_code=status, headers=dict(SECURITY_HEADERS))
