"""The free-text notes that travel in headers: a stager's message, a rejection's reason.

CONTRACT-team.md: ``pystage-stage-message`` / ``pystage-reject-reason`` carry
percent-encoded UTF-8, at most 2,000 characters once decoded, with no control
characters other than newline and tab. The client refuses what the registry
would refuse, before any request; this module imports nothing so a registry
may share the rule.
"""

from __future__ import annotations

import re
from urllib.parse import quote

MAX_NOTE_CHARS = 2000
STAGE_MESSAGE_HEADER = "pystage-stage-message"
REJECT_REASON_HEADER = "pystage-reject-reason"

# C0 controls except tab (\x09) and newline (\x0a), DEL, C1 controls
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class NoteError(ValueError):
    """A note a registry must refuse; ``str(exc)`` says why."""


def check_note(text: str, what: str = "the message") -> str:
    """``text`` unchanged when it is an acceptable note, else NoteError naming ``what``."""
    if not isinstance(text, str):
        raise NoteError(f"{what} must be text")
    if not text.strip():
        raise NoteError(f"{what} is empty")
    if len(text) > MAX_NOTE_CHARS:
        raise NoteError(f"{what} has {len(text)} characters; at most {MAX_NOTE_CHARS} are allowed")
    bad = _FORBIDDEN.search(text)
    if bad:
        raise NoteError(
            f"{what} holds the control character U+{ord(bad.group()):04X} "
            "(only newlines and tabs are allowed)"
        )
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise NoteError(f"{what} is not valid Unicode (a lone surrogate)")
    return text


def encode_note(text: str) -> str:
    """The header value: percent-encoded UTF-8 (ASCII only, as a header must be)."""
    return quote(text, safe="")


def decode_note(value: str, what: str = "the message") -> str:
    """The note a header carried; NoteError when it is badly encoded or not acceptable."""
    from urllib.parse import unquote

    if re.search(r"%(?![0-9A-Fa-f]{2})", value) or any(ord(c) > 0x7E for c in value):
        raise NoteError(f"{what} is not percent-encoded UTF-8")
    try:
        text = unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise NoteError(f"{what} is not percent-encoded UTF-8") from None
    return check_note(text, what)
