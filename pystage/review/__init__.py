"""The review engine: what a staged version changes against a published one.

Pure: it takes tarball byte streams and registry metadata and returns a
``Report``; it imports nothing from the client (http, staging, cli, render)
nor from the registry, so the registry's web page can run it server-side.
See /work/CONTRACT-review.md (and docs/review.md for the rules).

    from pystage.review import review, list_files
    report = review(staged_chunks, baseline_chunks, item=item,
                    baseline_version="1.2.3", baseline_manifest=packument["versions"]["1.2.3"])
    report.to_json(); report.fails("high")
"""

from __future__ import annotations

from pystage.review.engine import ReviewOptions, chunks_of, compare, review
from pystage.review.index import FileEntry, TarIndex, index_tarball
from pystage.review.report import (
    RANK,
    SEVERITIES,
    FieldChange,
    FileChange,
    Finding,
    Report,
    at_least,
)
from pystage.review.tarstream import Limits


def list_files(stream, limits: Limits | None = None) -> TarIndex:
    """Every entry of one tarball (path, type, size, mode, sha512), read as a stream;
    ``.anomalies`` holds what is hostile about it. No secrets scan."""
    return index_tarball(chunks_of(stream), limits=limits)


__all__ = [
    "RANK",
    "SEVERITIES",
    "FieldChange",
    "FileChange",
    "FileEntry",
    "Finding",
    "Limits",
    "Report",
    "ReviewOptions",
    "TarIndex",
    "at_least",
    "compare",
    "index_tarball",
    "list_files",
    "review",
]
