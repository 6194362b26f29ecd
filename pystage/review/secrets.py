"""Secrets in shipped text, found by Yelp's detect-secrets (its plugins and filters,
default settings).

detect-secrets runs ~8 MB/s of short lines (its per-line work is Python), so a
cheap byte prefilter picks the lines any of its plugins could fire on (a
keyword, a known token prefix, a long quoted string) and only those are handed
to it; the prefilter is a superset of the plugins' triggers, the decision is
detect-secrets'. Only the secret's kind and line are kept: never its value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# keywords of the KeywordDetector (matched case-blind, on a lower-cased copy), token
# prefixes of the vendor plugins, and the quoted strings the high-entropy plugins look at.
# One small regex each, not one alternation: a pattern that starts with a literal is
# searched at memory speed by ``re``, an alternation of thirty is tried at every byte
# (measured: 2 GB/s against 5 MB/s over JavaScript).
_KEYWORDS = [
    re.compile(re.escape(word))
    for word in (b"key", b"secret", b"token", b"passw", b"pwd", b"auth", b"credential")
    + (b"bearer", b"private", b"api")
]
_PREFIXES = [
    re.compile(p)
    for p in (
        rb"AKIA",
        rb"ASIA",
        rb"ABIA",
        rb"ACCA",
        rb"A3T",
        rb"gh[pousr]_",
        rb"github_pat_",
        rb"glpat-",
        rb"npm_",
        rb"xox[abposr]",
        rb"k_live",
        rb"SG\.",
        rb"eyJ",
        rb"sq0",
        rb"AKC",
        rb"AP[0-9A-F]",
        rb"AC[a-z0-9]{32}",
        rb"SK[a-z0-9]{32}",
        rb"-us\d",
        rb"pypi-",
        rb"hooks\.slack",
        rb"discord",
        rb"bot\d",
        rb"AccountKey",
        rb"[\"'`][A-Za-z0-9+/=_.\-]{20,}",
    )
]
MAX_CANDIDATES = 2000  # lines per file handed to detect-secrets
MAX_LINE = 2000  # longer lines are scanned in overlapping windows


@dataclass(frozen=True)
class Secret:
    kind: str  # detect-secrets' type, e.g. "AWS Access Key"
    line: int


class CandidateLines:
    """Collects the lines of one file worth scanning, chunk by chunk."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []
        self._carry = b""
        self._line = 1
        self.truncated = False

    def feed(self, data: bytes) -> None:
        data = self._carry + data if self._carry else data
        cut = data.rfind(b"\n")
        if cut == -1 and len(data) < 1024 * 1024:
            self._carry = data
            return
        if cut == -1:
            cut = len(data) - 1
        self._carry = data[cut + 1 :]
        self._collect(data[: cut + 1])

    def finish(self) -> list[tuple[int, str]]:
        if self._carry:
            self._collect(self._carry)
            self._carry = b""
        return self.lines

    def _collect(self, text: bytes) -> None:
        if len(self.lines) >= MAX_CANDIDATES:
            self.truncated = True
            self._line += text.count(b"\n")
            return
        ends: dict[int, int] = {}  # line start -> line end, of every line with a trigger
        lower = text.lower()
        for patterns, haystack in ((_KEYWORDS, lower), (_PREFIXES, text)):
            for pattern in patterns:
                pos = 0
                while True:
                    match = pattern.search(haystack, pos)
                    if match is None:
                        break
                    start = text.rfind(b"\n", 0, match.start()) + 1
                    end = text.find(b"\n", match.end())
                    end = len(text) if end == -1 else end
                    ends[start] = end
                    pos = end + 1
        number, counted = self._line, 0
        for start in sorted(ends):
            number += text.count(b"\n", counted, start)
            counted = start
            line = text[start : ends[start]].decode("utf-8", errors="replace")
            for window in _windows(line):
                self.lines.append((number, window))
            if len(self.lines) >= MAX_CANDIDATES:
                self.truncated = True
                break
        self._line += text.count(b"\n")


def _windows(line: str) -> list[str]:
    if len(line) <= MAX_LINE:
        return [line]
    step = MAX_LINE - 200
    return [line[i : i + MAX_LINE] for i in range(0, len(line), step)][:50]


def detect(path: str, lines: list[tuple[int, str]]) -> list[Secret]:
    """detect-secrets over the candidate lines of ``path``; one Secret per kind and line."""
    if not lines:
        return []
    from detect_secrets.core.scan import _process_line_based_plugins
    from detect_secrets.settings import default_settings

    # detect-secrets takes the line number as an index into the lines it is given (for
    # its context filters): number them densely and map back
    dense = [(i + 1, text) for i, (_, text) in enumerate(lines)]
    found: dict[tuple[str, int], Secret] = {}
    with default_settings():
        for secret in _process_line_based_plugins(dense, filename=path):
            line = lines[secret.line_number - 1][0]
            found.setdefault((secret.type, line), Secret(secret.type, line))
    return sorted(found.values(), key=lambda s: (s.line, s.kind))
