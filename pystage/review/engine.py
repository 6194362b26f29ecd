"""The review: two tarball streams (and the registry's metadata) in, a Report out.

Pure: no network, no terminal, no files. The baseline is read first (its index
is small: hashes and signals, plus the texts kept for diffs), then the staged
tarball, whose changed files alone are scanned for secrets.
"""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from pystage.review import file_rules, manifest_rules
from pystage.review.index import FileEntry, TarIndex, index_tarball
from pystage.review.report import FileChange, Finding, Report
from pystage.review.tarstream import Limits

Stream = Iterable[bytes] | BinaryIO
_READ = 1024 * 1024


@dataclass(frozen=True)
class ReviewOptions:
    full_diff: bool = False  # --diff: every changed text file's whole diff
    short_diff_lines: int = 24  # lines of diff shown per file otherwise
    full_diff_lines: int = 5000
    diff_line_width: int = 400
    limits: Limits = Limits()


def chunks_of(stream: Stream) -> Iterable[bytes]:
    """A file object read in pieces, or an iterable of byte chunks as it is."""
    read = getattr(stream, "read", None)
    if read is None:
        return stream
    return iter(lambda: read(_READ), b"")


def review(
    staged: Stream,
    baseline: Stream | None = None,
    *,
    item: dict | None = None,
    baseline_version: str | None = None,
    baseline_manifest: dict | None = None,
    options: ReviewOptions | None = None,
) -> Report:
    """Compare a staged tarball with its baseline.

    ``item``: the staged item as the registry lists it (id, packageName, version, actor,
    actorType; provenance where reported). ``baseline_manifest``: the baseline's version
    document from the packument (``_npmUser``, ``dist.attestations``), for the "who" rules.
    """
    options = options or ReviewOptions()
    base = (
        index_tarball(chunks_of(baseline), limits=options.limits) if baseline is not None else None
    )
    finish = getattr(baseline, "finish", None)
    if callable(finish):  # a hashed stream (review.verify) is read to its end now, not later
        finish()
    known = {p: f.sha512 for p, f in base.files.items()} if base is not None else None
    base_texts = base.texts if base is not None else {}

    def keep(path: str) -> bool:
        name = posixpath.basename(path).lower()  # .NPMRC, .ENV: the same files elsewhere
        return path in base_texts or name == ".npmrc" or name.startswith(".env")

    staged_index = index_tarball(
        chunks_of(staged), known=known, scan_secrets=True, keep_text=keep, limits=options.limits
    )
    return compare(
        staged_index,
        base,
        item=item,
        baseline_version=baseline_version,
        baseline_manifest=baseline_manifest,
        options=options,
    )


def compare(
    staged: TarIndex,
    base: TarIndex | None,
    *,
    item: dict | None = None,
    baseline_version: str | None = None,
    baseline_manifest: dict | None = None,
    options: ReviewOptions | None = None,
) -> Report:
    options = options or ReviewOptions()
    item = item or {}
    manifest = staged.manifest or {}
    report = Report(
        package=str(item.get("packageName") or manifest.get("name") or ""),
        version=str(item.get("version") or manifest.get("version") or ""),
        baseline=baseline_version if base is not None else None,
        id=item.get("id"),
        staged_by=_staged_by(item),
        unpacked_size=staged.unpacked,
        file_count=len(staged.regular_files()),
    )
    if base is not None:
        report.baseline_unpacked_size = base.unpacked
        report.baseline_file_count = len(base.regular_files())
    findings = report.findings
    findings += file_rules.anomaly_findings(staged)
    if base is not None and not base.complete:
        findings.append(
            Finding(
                "baseline-unreadable",
                "info",
                "",
                "the baseline tarball could not be read to its end: the comparison is partial",
            )
        )
    if base is None:
        findings.append(
            Finding(
                "first-version",
                "info",
                "",
                "no published version to compare with: every file counts as added",
            )
        )
    _manifest_checks(report, staged, base, item)
    _file_changes(report, staged, base, options)
    if staged.manifest is not None and staged.complete:
        findings += file_rules.entry_findings(staged, base)
    findings += _who_findings(item, baseline_manifest)
    return report


def _staged_by(item: dict) -> str | None:
    actor, kind = item.get("actor"), item.get("actorType")
    if not actor:
        return None
    return f"{actor} ({kind})" if kind else str(actor)


def _manifest_checks(report: Report, staged: TarIndex, base: TarIndex | None, item: dict) -> None:
    findings = report.findings
    if staged.manifest is None:
        if staged.complete:
            findings.append(
                Finding(
                    "no-manifest",
                    "high",
                    "package.json",
                    staged.manifest_error or "no package.json",
                )
            )
        return
    manifest = staged.manifest
    for key, field in (("packageName", "name"), ("version", "version")):
        if item.get(key) and str(manifest.get(field)) != str(item[key]):
            findings.append(
                Finding(
                    "manifest-mismatch",
                    "high",
                    field,
                    f"the tarball's package.json says {field} {manifest.get(field)!r}, the registry "
                    f"staged {item[key]!r}",
                )
            )
    before = base.manifest if base is not None else None
    report.manifest = manifest_rules.manifest_changes(before, manifest)
    findings += manifest_rules.manifest_findings(
        report.manifest, before, manifest, base is not None
    )


def _file_changes(report: Report, staged: TarIndex, base: TarIndex | None, options) -> None:
    base_files = base.files if base is not None else {}
    package_traits, package_hosts = base.signals_anywhere() if base is not None else (set(), set())
    added: list[FileEntry] = []
    for path, entry in staged.files.items():
        old = base_files.get(path)
        if entry.type == "directory":
            continue
        if old is None or old.type == "directory":
            added.append(entry)
            report.added.append(
                FileChange(path, entry.size, mode=entry.mode, sha512=entry.sha512, type=entry.type)
            )
        elif old.sha512 != entry.sha512 or old.mode != entry.mode or old.type != entry.type:
            change = FileChange(
                path,
                entry.size,
                baseline_size=old.size,
                mode=entry.mode,
                baseline_mode=old.mode,
                sha512=entry.sha512,
                type=entry.type,
            )
            if old.sha512 != entry.sha512:
                assert base is not None  # old is one of base's files
                _attach_diff(
                    change, base.texts.get(path), staged.texts.get(path), entry, old, options
                )
            report.changed.append(change)
        else:
            continue
        if entry.type != "file":
            continue
        report.findings += file_rules.secret_findings(entry)
        report.findings += file_rules.dotfile_findings(entry, staged.texts.get(path))
        if old is None or old.native != entry.native:
            report.findings += file_rules.native_findings(entry, base)
        report.findings += file_rules.code_findings(
            entry,
            old if old is not None and old.type == "file" else None,
            package_traits,
            package_hosts,
        )
    for path, old in base_files.items():
        if old.type != "directory" and (
            path not in staged.files or staged.files[path].type == "directory"
        ):
            report.removed.append(FileChange(path, old.size, mode=old.mode, type=old.type))
    if base is not None:
        report.findings += file_rules.accidental_findings(added)
        report.findings += file_rules.growth_findings(staged, base)


def _attach_diff(
    change: FileChange, old: bytes | None, new: bytes | None, entry, base_entry, options
) -> None:
    if entry.binary or base_entry.binary:
        change.diff_note = "binary file"
        return
    if old is None or new is None:
        change.diff_note = "too large to diff"
        return
    limit = options.full_diff_lines if options.full_diff else options.short_diff_lines
    width = options.diff_line_width
    lines: list[str] = []
    for line in difflib.unified_diff(
        old.decode("utf-8", "replace").splitlines(),
        new.decode("utf-8", "replace").splitlines(),
        lineterm="",
        n=1 if not options.full_diff else 3,
    ):
        if line.startswith(("---", "+++")):
            continue
        if len(lines) >= limit:
            change.diff_truncated = True
            break
        lines.append(line if len(line) <= width else line[: width - 1] + "…")
    change.diff = lines


def _who_findings(item: dict, baseline_manifest: dict | None) -> list[Finding]:
    if not baseline_manifest:
        return []
    out: list[Finding] = []
    publisher = baseline_manifest.get("_npmUser")
    before = publisher.get("name") if isinstance(publisher, dict) else None
    actor = item.get("actor")
    if before and actor and str(before) != str(actor):
        out.append(
            Finding(
                "publisher-changed",
                "medium",
                "actor",
                f"staged by {actor}"
                + (f" ({item['actorType']})" if item.get("actorType") else "")
                + f"; the baseline was published by {before}",
            )
        )
    dist = found if isinstance(found := baseline_manifest.get("dist"), dict) else {}
    if dist.get("attestations"):
        reported = [k for k in ("provenance", "attestations") if k in item]
        if not any(item.get(k) for k in reported):
            out.append(
                Finding(
                    "provenance-missing",
                    "high" if reported else "medium",
                    "provenance",
                    "the baseline was published with provenance; "
                    + (
                        "this version has none"
                        if reported
                        else "the registry reports none for this staged version"
                    ),
                )
            )
    return out
