"""The review of a staged version as the page shows it: computed once, then cached.

Reviewing reads the staged tarball and its baseline's in full, which takes far too long
to do for a list of a thousand items on every page view. So each (stage id, baseline)
is reviewed once and the report is kept in ``web_reviews``: the item page computes a
missing one before it renders; the list shows what is cached and hands the rest to one
background thread, so the counts appear on a later visit.
"""

from __future__ import annotations

import contextlib
import json
import queue
import sys
import threading
import traceback

from pystage.errors import PystageError
from pystage.registry.service import Registry, _stage_item
from pystage.registry.timefmt import now_iso
from pystage.registry.web.filetree import read_tree
from pystage.review import review
from pystage.review.baseline import choose_baseline

SEVERITIES = ("high", "medium", "low", "info")


def baseline_version(registry: Registry, row) -> str | None:
    """What the staged version is compared with, by the same rule as ``pystage review``
    (``choose_baseline``): the version its tag points to now, else the highest published
    version below it; None for a package with nothing published yet."""
    return choose_baseline(_published(registry, row["package"]), row["version"], row["tag"])


def _published(registry: Registry, package: str) -> dict:
    """The part of the packument ``choose_baseline`` reads: versions and dist-tags."""
    conn = registry.db.conn()
    versions = dict.fromkeys(
        r["version"]
        for r in conn.execute("SELECT version FROM versions WHERE package = ?", (package,))
    )
    tags = dict(
        conn.execute("SELECT tag, version FROM dist_tags WHERE package = ?", (package,)).fetchall()
    )
    return {"versions": versions, "dist-tags": tags}


def _baseline_files(registry: Registry, package: str, version: str) -> tuple[str, dict]:
    """The baseline's tarball path and its manifest as published."""
    row = (
        registry.db.conn()
        .execute(
            "SELECT tarball, manifest FROM versions WHERE package = ? AND version = ?",
            (package, version),
        )
        .fetchone()
    )
    manifest = json.loads(row["manifest"])
    return str(registry.blobs.path(row["tarball"])), manifest if isinstance(manifest, dict) else {}


def compute(registry: Registry, row, baseline: str | None) -> dict:
    """The page's report for a stage row: the file tree, and the review engine's report
    (the same engine and baseline rule as ``pystage review``). Both tarballs are read
    from the registry's own storage as streams, never unpacked."""
    staged_path = registry.blobs.path(row["tarball"])
    with open(staged_path, "rb") as staged:
        tree = read_tree(staged)
    report: dict = {"tree": tree.rows(), "treeProblem": tree.problem, "totalSize": tree.total_size}
    report["review"] = None
    try:
        base_path, base_manifest = (
            _baseline_files(registry, row["package"], baseline) if baseline else (None, None)
        )
        with contextlib.ExitStack() as files:
            staged = files.enter_context(open(staged_path, "rb"))
            base = files.enter_context(open(base_path, "rb")) if base_path else None
            result = review(
                staged,
                base,
                item=_stage_item(row),
                baseline_version=baseline,
                baseline_manifest=base_manifest,
            )
        report["review"] = result.to_json()
    except (OSError, PystageError, ValueError) as exc:
        # an unreadable blob or an engine refusal: the page says so instead of a review
        report["reviewProblem"] = f"the review could not be made: {exc}"
    return report


class Reviews:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._queue: queue.Queue = queue.Queue()
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def _cached(self, stage_id: str, baseline: str) -> dict | None:
        row = (
            self.registry.db.conn()
            .execute(
                "SELECT report FROM web_reviews WHERE stage_id = ? AND baseline = ?",
                (stage_id, baseline),
            )
            .fetchone()
        )
        return json.loads(row["report"]) if row else None

    def report(self, row) -> dict:
        """The report for a stage row, computing (and caching) it when missing."""
        baseline = baseline_version(self.registry, row) or ""
        cached = self._cached(row["id"], baseline)
        if cached is not None:
            return cached
        report = compute(self.registry, row, baseline or None)
        report["baseline"] = baseline or None
        with self.registry.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO web_reviews (stage_id, baseline, report, counts, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    row["id"],
                    baseline,
                    json.dumps(report),
                    json.dumps(severity_counts(report)),
                    now_iso(),
                ),
            )
        return report

    def counts(self) -> dict[str, dict | None]:
        """Severity counts of every cached review (the newest per stage id); a stage id
        that is missing has not been reviewed yet, None means no engine report."""
        conn = self.registry.db.conn()
        return {
            row["stage_id"]: json.loads(row["counts"]) if row["counts"] else None
            for row in conn.execute("SELECT stage_id, counts FROM web_reviews ORDER BY created")
        }

    def queue(self, stage_ids: list[str]) -> None:
        """Review these in the background (each once, one at a time)."""
        with self._lock:
            fresh = [s for s in stage_ids if s not in self._queued]
            self._queued.update(fresh)
            for stage_id in fresh:
                self._queue.put(stage_id)
            if fresh and self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name="pystage-web-reviews", daemon=True
                )
                self._worker.start()

    def _work(self) -> None:
        while True:
            stage_id = self._queue.get()
            try:
                row = (
                    self.registry.db.conn()
                    .execute("SELECT * FROM stages WHERE id = ?", (stage_id,))
                    .fetchone()
                )
                if row is not None:
                    self.report(row)
            except Exception:  # a bad tarball must not stop the worker; say why
                traceback.print_exc(file=sys.stderr)
            finally:
                with self._lock:
                    self._queued.discard(stage_id)


def severity_counts(report: dict) -> dict | None:
    review = report.get("review")
    if not review:
        return None
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in review.get("findings", []):
        if finding.get("severity") in counts:
            counts[finding["severity"]] += 1
    return counts
