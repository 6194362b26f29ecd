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
import threading
from dataclasses import dataclass

# What any of detect-secrets' plugins could fire on, as a superset: the
# KeywordDetector's denylist; a key name ending in key/pass/pw/token followed by an
# assignment (the IBM, SoftLayer and Cloudant plugins); the private-key headers
# (matched case-blind, on a lower-cased copy); the vendor plugins' token prefixes; a
# URL with credentials; and the quoted strings the high-entropy plugins look at (20
# characters and more, as before). Bare
# "key" is not a trigger: `Object.keys(` and `keydown` were two thirds of the lines
# handed to detect-secrets in JavaScript, at ~0.3 ms a line.
# One small regex each, not one alternation: a pattern that starts with a literal is
# searched at memory speed by ``re``, an alternation of thirty is tried at every byte
# (measured: 2 GB/s against 5 MB/s over JavaScript).
_ASSIGNED = rb"['\"\]]{0,2} *(?:=|:| )"
_KEYWORDS = [  # searched in a lower-cased copy of the text
    re.compile(p)
    for p in (
        rb"api_?key", rb"auth_?key", rb"service_?key", rb"account_?key", rb"db_?key",
        rb"database_?key", rb"priv_?key", rb"private_?key", rb"client_?key", rb"db_?pass",
        rb"database_?pass", rb"key_?pass", rb"passw", rb"pwd", rb"secret", rb"contrase",
        *(word + _ASSIGNED for word in (rb"key", rb"pass", rb"pw", rb"token")),
        rb"private key", rb"putty-user-key", rb"softlayer", rb"cloudant",
    )
]  # fmt: skip
_PREFIXES = [
    re.compile(p)
    for p in (
        rb"AKIA", rb"ASIA", rb"ABIA", rb"ACCA", rb"A3T", rb"gh[pousr]_", rb"github_pat_",
        rb"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-", rb"GR1348941", rb"npm_",
        rb"xox[abposr]", rb"hooks\.slack", rb"k_live", rb"SG\.", rb"eyJ", rb"sq0",
        rb"AKC[a-zA-Z0-9]{10}", rb"AP[\dA-F][a-zA-Z0-9]{8}", rb"AC[a-z0-9]{32}",
        rb"SK[a-z0-9]{32}", rb"-us\d", rb"pypi-", rb"AccountKey", rb"T3BlbkFJ",
        rb":[0-9A-Za-z_-]{35}",  # Telegram
        rb"\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}",  # Discord
        rb"://[^{}\s]+:[^{}\s]+@",  # credentials in a URL
        # a quoted string made only of the base64 plugin's charset (a superset of the hex
        # one's), as its regex requires: `'a.b.c'` or a sentence never qualifies; AWS's
        # secret access key is a quoted 40-character one
        rb"([\"'])[A-Za-z0-9+/=_\\\-]{20,}\1",
    )
]  # fmt: skip
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
        for table, haystack in ((_KEYWORDS, lower), (_PREFIXES, text)):
            for pattern in table:
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


_settings_lock = threading.Lock()
_settings_ready = False


def _default_settings() -> None:
    """detect-secrets' default settings (every plugin, the default filters), made once
    for the process. Its ``default_settings()`` context rebuilds every plugin and filter
    cache on entry and on exit: per file, that was a fifth of a review's time."""
    global _settings_ready
    if _settings_ready:
        return
    with _settings_lock:
        if _settings_ready:
            return
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        from detect_secrets.settings import cache_bust, configure_settings_from_baseline

        cache_bust()
        # annotated: detect-secrets types the mapping with a TypeVar its return alone binds
        plugins: dict[str, type] = get_mapping_from_secret_type_to_class()
        configure_settings_from_baseline(
            {"plugins_used": [{"name": plugin.__name__} for plugin in plugins.values()]}
        )
        _settings_ready = True


def detect(path: str, lines: list[tuple[int, str]]) -> list[Secret]:
    """detect-secrets over the candidate lines of ``path``; one Secret per kind and line."""
    if not lines:
        return []
    from detect_secrets.core.scan import _process_line_based_plugins

    _default_settings()
    # detect-secrets takes the line number as an index into the lines it is given (for
    # its context filters): number them densely and map back
    dense = [(i + 1, text) for i, (_, text) in enumerate(lines)]
    found: dict[tuple[str, int], Secret] = {}
    for secret in _process_line_based_plugins(dense, filename=path):
        line = lines[secret.line_number - 1][0]
        found.setdefault((secret.type, line), Secret(secret.type, line))
    return sorted(found.values(), key=lambda s: (s.line, s.kind))
