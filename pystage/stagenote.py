"""The free-text notes of the team workflow: a stager's message and a reject reason.

Both travel as one HTTP header (``pystage-stage-message``, ``pystage-reject-reason``)
holding percent-encoded UTF-8, so any language fits in a header's latin-1 bytes.
The client encodes with ``encode_note``; the embedded registry decodes with
``decode_note``, which enforces the same rules the client checks before sending
(``note_problem``). Shared by both sides, so it imports neither.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote, unquote

MESSAGE_HEADER = "pystage-stage-message"
REASON_HEADER = "pystage-reject-reason"
MAX_NOTE_CHARS = 2000
# Lines and indentation are fine in a note; every other control character could
# rewrite a terminal or hide text on a review page.
_ALLOWED_CONTROLS = {"\n", "\t"}


def note_problem(text: str) -> str | None:
    """Why ``text`` cannot be a note, or None."""
    if len(text) > MAX_NOTE_CHARS:
        return f"is {len(text)} characters long, over the limit of {MAX_NOTE_CHARS}"
    for char in text:
        if char in _ALLOWED_CONTROLS:
            continue
        # Cc: C0/C1 controls and DEL; Cs: lone surrogates (not UTF-8 encodable);
        # bidirectional overrides and isolates (Cf) can reorder what a reviewer reads.
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or char in _BIDI_CONTROLS:
            return f"holds the control character U+{ord(char):04X}"
    return None


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def encode_note(text: str) -> str:
    """The header value for ``text`` (ASCII only)."""
    return quote(text, safe=" !#$&'()*+,/:;=?@[]~")


def decode_note(value: str) -> str:
    """The note a header value holds; raises ValueError saying what is wrong with it."""
    if not value.isascii():
        raise ValueError("is not percent-encoded (raw non-ASCII bytes)")
    try:
        raw = unquote(value, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ValueError("is not percent-encoded UTF-8") from None
    problem = note_problem(raw)
    if problem:
        raise ValueError(problem)
    return raw
