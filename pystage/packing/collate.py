"""String ordering as Node's ``String.prototype.localeCompare(b, 'en')`` gives it.

npm sorts the tarball entries (npm-packlist) and the printed contents
(``npm pack``) with ICU's root collation. This is a three-level collation
(base letter, accent, case) with ICU's order of ASCII punctuation, which is
what file names in packages use; other characters fall back to their
decomposed base letter, then code point order after the ASCII letters.
"""

from __future__ import annotations

import functools
import unicodedata

# ICU root order of printable ASCII at the primary level (letters case-folded).
_ASCII_ORDER = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"
_PRIMARY = {c: i + 1 for i, c in enumerate(_ASCII_ORDER)}
_DIGIT_RANK = _PRIMARY["0"]
_OTHER_BASE = len(_ASCII_ORDER) + 10
_WHITESPACE = {"\t": 0.2, "\n": 0.4, "\x0b": 0.5, "\x0c": 0.6, "\r": 0.7}


@functools.lru_cache(maxsize=4096)
def _char_weights(ch: str):
    """(primary, secondary, tertiary) for one character, or None when ignorable."""
    if ch in _WHITESPACE:
        return (_WHITESPACE[ch], 0, 0)
    lower = ch.lower() if len(ch.lower()) == 1 else ch
    if lower in _PRIMARY:
        return (_PRIMARY[lower], 0, 1 if ch != lower else 0)
    if unicodedata.category(ch) in ("Cc", "Cf"):
        return None
    decomposed = unicodedata.normalize("NFD", ch)
    base = decomposed[0]
    base_lower = base.lower() if len(base.lower()) == 1 else base
    accents = sum(ord(c) for c in decomposed[1:])
    if base_lower in _PRIMARY and len(decomposed) > 1:
        return (_PRIMARY[base_lower], accents, 1 if base != base_lower else 0)
    return (_OTHER_BASE + ord(lower), accents, 1 if ch != lower else 0)


def _levels(s: str, numeric: bool):
    primary, secondary, tertiary = [], [], []
    i = 0
    while i < len(s):
        ch = s[i]
        if numeric and ch.isascii() and ch.isdigit():
            j = i
            while j < len(s) and s[j].isascii() and s[j].isdigit():
                j += 1
            digits = s[i:j].lstrip("0") or "0"
            primary.append((_DIGIT_RANK, len(digits), digits))
            secondary.append(0)
            tertiary.append(0)
            i = j
            continue
        w = _char_weights(ch)
        i += 1
        if w is None:
            continue
        primary.append((w[0], 0, ""))
        secondary.append(w[1])
        tertiary.append(w[2])
    return primary, secondary, tertiary


@functools.lru_cache(maxsize=65536)
def sort_key(s: str, numeric: bool = False, case_only: bool = False):
    """A key whose order is localeCompare's ('variant' sensitivity, or 'case')."""
    p, s2, t = _levels(s, numeric)
    if case_only:
        return (p, t)
    return (p, s2, t)


def locale_compare(a: str, b: str, *, numeric: bool = False, case_only: bool = False) -> int:
    ka, kb = sort_key(a, numeric, case_only), sort_key(b, numeric, case_only)
    return (ka > kb) - (ka < kb)
