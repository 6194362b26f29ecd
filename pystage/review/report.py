"""The review's result: what changed between two tarballs and the findings.

Plain data with ``to_json()`` (the ``review --json`` shape); no rendering here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITIES = ("info", "low", "medium", "high")
RANK = {name: i for i, name in enumerate(SEVERITIES)}


def at_least(severity: str, threshold: str) -> bool:
    """``severity`` is at or above ``threshold`` ("never": nothing is)."""
    if threshold == "never":
        return False
    return RANK[severity] >= RANK[threshold]


@dataclass
class Finding:
    rule: str
    severity: str
    path: str  # a file path, or a manifest field such as "scripts.postinstall"
    message: str
    line: int | None = None

    def to_json(self) -> dict:
        out: dict[str, object] = {
            "rule": self.rule,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
        }
        if self.line is not None:
            out["line"] = self.line
        return out


@dataclass
class FileChange:
    """One file added, removed or changed. ``diff``: unified diff lines (changed text
    files, when both texts were kept), ``diff_note`` why there is none."""

    path: str
    size: int
    baseline_size: int | None = None
    mode: int | None = None
    baseline_mode: int | None = None
    sha512: str | None = None
    diff: list[str] | None = None
    diff_truncated: bool = False
    diff_note: str | None = None
    type: str = "file"

    def to_json(self) -> dict:
        out: dict = {"path": self.path, "type": self.type, "size": self.size}
        if self.baseline_size is not None:
            out["baselineSize"] = self.baseline_size
        if self.mode is not None:
            out["mode"] = format(self.mode, "04o")
        if self.baseline_mode is not None and self.baseline_mode != self.mode:
            out["baselineMode"] = format(self.baseline_mode, "04o")
        if self.sha512:
            out["sha512"] = self.sha512
        if self.diff is not None:
            out["diff"] = self.diff
            if self.diff_truncated:
                out["diffTruncated"] = True
        elif self.diff_note:
            out["diffNote"] = self.diff_note
        return out


@dataclass
class FieldChange:
    """A package.json field (``scripts.postinstall``, ``dependencies.x``, ``main``)."""

    field: str
    before: object = None
    after: object = None
    change: str = "changed"  # added, removed, changed

    def to_json(self) -> dict:
        out: dict = {"change": self.change}
        if self.change != "added":
            out["from"] = self.before
        if self.change != "removed":
            out["to"] = self.after
        return out


@dataclass
class Report:
    package: str
    version: str
    baseline: str | None  # the version compared with (None: nothing published)
    id: str | None = None  # the stage id
    staged_by: str | None = None
    added: list[FileChange] = field(default_factory=list)
    removed: list[FileChange] = field(default_factory=list)
    changed: list[FileChange] = field(default_factory=list)
    manifest: list[FieldChange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unpacked_size: int = 0
    baseline_unpacked_size: int | None = None
    file_count: int = 0
    baseline_file_count: int | None = None

    def counts(self) -> dict[str, int]:
        out = {name: 0 for name in reversed(SEVERITIES)}
        for f in self.findings:
            out[f.severity] += 1
        return out

    def highest(self) -> str | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=RANK.__getitem__)

    def fails(self, threshold: str) -> bool:
        """A finding at or above ``threshold`` (the ``--fail-on`` gate)."""
        return any(at_least(f.severity, threshold) for f in self.findings)

    def by_severity(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (-RANK[f.severity], f.path, f.rule))

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "package": self.package,
            "version": self.version,
            "baseline": self.baseline,
            "stagedBy": self.staged_by,
            "files": {
                "added": [c.to_json() for c in self.added],
                "removed": [c.to_json() for c in self.removed],
                "changed": [c.to_json() for c in self.changed],
            },
            "manifest": {c.field: c.to_json() for c in self.manifest},
            "findings": [f.to_json() for f in self.by_severity()],
            "summary": {
                "counts": self.counts(),
                "unpackedSize": self.unpacked_size,
                "baselineUnpackedSize": self.baseline_unpacked_size,
                "fileCount": self.file_count,
                "baselineFileCount": self.baseline_file_count,
            },
        }
