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


# --- names beyond ASCII: the Unicode Collation Algorithm ---------------------------
#
# ICU's root collation is the UCA's default table (DUCET), which pyuca implements:
# it puts punctuation, symbols and every script where ICU does. It is used for a
# whole list as soon as one name in it is not ASCII (keys of the two kinds must not
# meet in one sort); all-ASCII lists keep the fast table above.

# DUCET tertiary weights of upper-case forms (UCA table "tertiary weight
# assignments"): what ICU's case level tells apart
_UPPER_TERTIARY = frozenset({0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0E, 0x11, 0x12, 0x1D})


@functools.lru_cache(maxsize=1)
def _collator():
    from pyuca import Collator

    return Collator()


def _elements(text: str) -> list:
    return _collator().collation_elements(unicodedata.normalize("NFD", text))


@functools.lru_cache(maxsize=65536)
def uca_sort_key(s: str, numeric: bool = False, case_only: bool = False):
    """localeCompare's order for any string ('variant' sensitivity, or 'case')."""
    import re

    primary, secondary, tertiary, case = [], [], [], []
    parts = re.split(r"(\d+)", s) if numeric else [s]
    for i, part in enumerate(parts):
        if i % 2:  # a run of digits compares as the number it writes (ICU numeric)
            digits = "".join(str(unicodedata.digit(c)) for c in part).lstrip("0") or "0"
            primary.append((_digit_primary(), len(digits), digits))
            case.append(0)
            continue
        for element in _elements(part):
            p, s2, t = element[0], element[1], element[2]
            if p:
                primary.append((p, 0, ""))
                case.append(1 if t in _UPPER_TERTIARY else 0)
            if s2:
                secondary.append(s2)
            if t:
                tertiary.append(t)
    if case_only:
        return (tuple(primary), tuple(case))
    return (tuple(primary), tuple(secondary), tuple(tertiary))


@functools.lru_cache(maxsize=1)
def _digit_primary() -> int:
    return _elements("0")[0][0]


def key_for(strings):
    """The sort-key function for a list: the fast ASCII table when every string is
    ASCII, else the UCA one. Both take (s, numeric=False, case_only=False)."""
    return sort_key if all(s.isascii() for s in strings) else uca_sort_key
