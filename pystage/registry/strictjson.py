"""JSON as the registry accepts it from a client: bounded nesting, valid Unicode only.

``json.loads`` takes 100,000 nested ``[`` down to a ``RecursionError`` and happily
returns strings holding lone surrogates (``"\\ud800"``, or the raw bytes ED A0 80,
which it decodes with ``surrogatepass``). Such a string cannot be encoded as UTF-8,
so it breaks later and far away: hashing a password, writing SQLite, or serving
every packument that stored it. Both are refused here, at the door, with a short
reason (``JSONRejected``), for the small bodies and (via ``jsonstream``) the
publish documents alike.
"""

from __future__ import annotations

import json
import re

MAX_DEPTH = 64
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONRejected(ValueError):
    """The body is not JSON the registry accepts; the message is a short reason."""


def has_lone_surrogate(text: str) -> bool:
    return _LONE_SURROGATE.search(text) is not None


def loads(body: bytes | str) -> object:
    try:
        value = json.loads(body)
    except RecursionError:
        raise JSONRejected(f"malformed JSON: nesting deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise JSONRejected(f"malformed JSON: {_short(exc)}") from None
    check(value)
    return value


def check(value: object) -> None:
    """Refuse nesting deeper than MAX_DEPTH and strings (or keys) with lone surrogates."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if has_lone_surrogate(item):
                raise JSONRejected("malformed JSON: a string holds a lone UTF-16 surrogate")
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                raise JSONRejected(f"malformed JSON: nesting deeper than {MAX_DEPTH} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    stack.append((key, depth + 1))
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."
