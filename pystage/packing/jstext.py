"""JavaScript's notion of whitespace, for text npm trims with ``String.prototype.trim``.

It differs from Python's ``str.strip()``: JavaScript trims the byte-order mark
U+FEFF (which Windows editors put at the start of files) but not the
separators U+001C..U+001F or NEXT LINE U+0085, which Python strips.
"""

from __future__ import annotations

JS_WHITESPACE = (
    "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def js_trim(text: str) -> str:
    return text.strip(JS_WHITESPACE)
