"""The review's byte patterns run by RE2 (google-re2) where it gives the same answers.

Python's ``re`` tries every alternative at every position of the text when a
pattern starts with ``\\b`` or an alternation, as the review's signal patterns do:
about 1 µs per byte of code for all of them, 3 s for the 4 MB of JavaScript of
the review benchmark. RE2 runs them as automata in one pass, 15-20 times faster
(benchmarks/README.md, "Reviewing"). It is a drop-in for ``search``/``findall``/
``finditer`` on bytes, with a few differences handled here:

- ``\\s`` in ``re`` (bytes) includes the vertical tab, in RE2 it does not: it is
  spelled out as ``[\\t\\n\\x0b\\f\\r ]``;
- ``^``/``$``, back-references, look-arounds, ``(?P=``), possessive or atomic
  groups and any flag: not translated, the pattern stays with ``re``;
- google-re2 not installed (no wheel for the platform): every pattern stays with
  ``re``. Same findings, only slower.

``tests/test_review_fastre.py`` checks both engines agree on every pattern of
``pystage.review.content`` over real package code and attack snippets.
"""

from __future__ import annotations

import re

SPACE_IN_CLASS = rb"\t\n\x0b\f\r "
# what RE2 does not have, or treats differently: left to ``re``
_UNSAFE = re.compile(rb"\(\?[<=!>P]|\(\?[a-zA-Z]|\\[1-9]|\\[AZzG]|[*+?}]\+")


def compile_like(pattern: re.Pattern[bytes]):
    """An object with ``search``/``findall``/``finditer`` that answers as ``pattern``
    does, run by RE2 where that is safe, else ``pattern`` itself."""
    try:
        import re2
    except ImportError:
        return pattern
    if not isinstance(pattern.pattern, bytes) or pattern.flags & ~re.ASCII:
        return pattern
    translated = translate(pattern.pattern)
    if translated is None:
        return pattern
    try:
        return re2.compile(translated)
    except Exception:  # noqa: BLE001 - anything RE2 cannot build stays with re
        return pattern


def translate(source: bytes) -> bytes | None:
    """``source`` for RE2 (``\\s`` spelled out), or None when it uses what only ``re``
    has (anchors, look-arounds, back-references, inline flags)."""
    if _UNSAFE.search(source):
        return None
    out = bytearray()
    in_class = False
    i = 0
    while i < len(source):
        ch = source[i : i + 1]
        if ch == b"\\" and i + 1 < len(source):
            nxt = source[i + 1 : i + 2]
            if nxt == b"s":
                out += SPACE_IN_CLASS if in_class else b"[" + SPACE_IN_CLASS + b"]"
            elif nxt == b"S" and not in_class:
                out += b"[^" + SPACE_IN_CLASS + b"]"
            elif nxt == b"S":
                return None  # a negated class inside a class: not worth spelling out
            else:
                out += source[i : i + 2]
            i += 2
            continue
        if in_class:
            if ch == b"]":
                in_class = False
        elif ch == b"[":
            in_class = True
            out += ch
            i += 1
            # a ']' right after '[' or '[^' is a literal, not the end of the class
            if source[i : i + 1] == b"^":
                out += b"^"
                i += 1
            if source[i : i + 1] == b"]":
                out += b"]"
                i += 1
            continue
        elif ch in (b"^", b"$"):
            return None  # re's $ also matches before a final newline; RE2's does not
        out += ch
        i += 1
    return bytes(out)
