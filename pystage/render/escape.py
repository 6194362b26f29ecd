"""Text from a registry (or a tarball) made inert for a terminal.

The one escaping rule of pystage: every string a registry or a package sent
goes through ``escape_registry_text`` before it is written anywhere a person
reads it (stdout, stderr, ``-v`` log lines, tracebacks). Rich markup is the
other half: ``pystage.render`` hands such text to Rich only as ``Text`` objects,
which Rich never parses for markup or emoji codes.

No Rich import here, nor anything else heavy: the client layer (``http.py``'s
log lines) may use this module without loading the renderers.
"""

from __future__ import annotations

import re

from pystage.redact import mask_sent

# What a terminal acts on, or what makes text read other than it is:
# - C0 controls, DEL and C1 controls: ESC sequences (colours, cursor moves, OSC 8 links,
#   window titles), CSI as the single byte U+009B, carriage returns that overwrite a line,
#   newlines that forge a line of our own, backspaces, bells;
# - Unicode format characters (category Cf): bidi embeddings/overrides/isolates
#   (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C) that reorder what is shown,
#   zero-width characters that hide a difference between two names, tag characters;
# - line and paragraph separators (U+2028, U+2029), which some terminals break on;
# - lone surrogates (a JSON "\\ud800"), which cannot even be encoded for output.
# (the Cf ranges of Unicode 15; a test checks them against the running Python's database)
_NON_ASCII_INERT = (
    "\\x80-\\x9f"  # C1 (U+009B is CSI for some terminals)
    "\\u2028\\u2029"  # line and paragraph separators
    "\\ud800-\\udfff"  # lone surrogates
    "\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891\\u08e2\\u180e"
    "\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb"
    "\\U000110bd\\U000110cd\\U00013430-\\U0001343f\\U0001bca0-\\U0001bca3"
    "\\U0001d173-\\U0001d17a\\U000e0001\\U000e0020-\\U000e007f"
)
_INERT = re.compile(f"[\\x00-\\x1f\\x7f{_NON_ASCII_INERT}]")
# inside a JSON document C0 is already escaped, and outside its strings a newline is layout
_JSON_INERT = re.compile(f"[{_NON_ASCII_INERT}]")

_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escaped(match: re.Match) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    cp = ord(char)
    if cp < 0x100:
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def escape_registry_text(value: object, limit: int | None = None) -> str:
    """``value`` as text a terminal shows and never acts on.

    Every character that could move the cursor, colour, link, overwrite, reorder or
    hide text is shown as its Python escape (``\\x1b``, ``\\r``, ``\\u202e``); the rest
    is kept as it is. ``limit``: at most this many characters of the (escaped) text,
    the rest replaced by a note of how much was left out (one-line messages, log
    lines; a registry can send a field of megabytes)."""
    # a credential pystage sent, echoed in the registry's data, is not shown either
    text = mask_sent(value if isinstance(value, str) else str(value))
    if text.isascii() and text.isprintable():
        escaped = text  # the common case, without the regex
    else:
        escaped = _INERT.sub(_escaped, text)
    if limit is not None and len(escaped) > limit:
        left_out = len(escaped) - limit
        escaped = f"{escaped[:limit]}… ({left_out} more characters)"
    return escaped


def escape_json_text(dumped: str) -> str:
    """A JSON document (``json.dumps(..., ensure_ascii=False)``) with the characters
    ``escape_registry_text`` would escape written as JSON ``\\uXXXX`` escapes: the same
    JSON value, but nothing in it a terminal acts on (json.dumps already escapes C0;
    C1 controls, bidi overrides and lone surrogates it writes raw). A credential
    pystage sent, echoed in the data, is written as ``***`` (the one change)."""
    dumped = mask_sent(dumped)
    if dumped.isascii():
        return dumped

    def as_json(match: re.Match) -> str:
        cp = ord(match.group())
        if cp < 0x10000:
            return f"\\u{cp:04x}"
        cp -= 0x10000  # an astral format character (a tag): a surrogate pair
        return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"

    return _JSON_INERT.sub(as_json, dumped)
