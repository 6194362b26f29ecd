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

# keywords of the KeywordDetector, token prefixes of the vendor plugins, and the quoted
# strings the high-entropy plugins look at
_CANDIDATE = re.compile(
    rb"(?i:key|secret|token|passw|pwd|auth|credential|bearer|private|api)"
    rb"|AKIA|ASIA|ABIA|ACCA|A3T|gh[pousr]_|github_pat_|glpat-|npm_|xox[abposr]|[sr]k_live"
    rb"|SG\.|eyJ|sq0|AKC|AP[0-9A-F]|AC[a-z0-9]{32}|SK[a-z0-9]{32}|-us\d|pypi-|hooks\.slack"
    rb"|discord|bot\d|AccountKey|[\"'`][A-Za-z0-9+/=_.\-]{20,}"
)
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
        pos = 0
        base = self._line
        for match in _CANDIDATE.finditer(text):
            if match.start() < pos:
                continue
            start = text.rfind(b"\n", 0, match.start()) + 1
            end = text.find(b"\n", match.end())
            end = len(text) if end == -1 else end
            number = base + text.count(b"\n", 0, start)
            line = text[start:end].decode("utf-8", errors="replace")
            for window in _windows(line):
                self.lines.append((number, window))
            pos = end + 1
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
