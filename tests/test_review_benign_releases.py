"""Real consecutive releases of small packages (tests/data/review-benign, recorded from
the public registry) raise no high finding when reviewed one against the other: the
review's false-positive floor. The attack corpus is built on the same kind of
tarballs (tests/test_review_finds_incident_shapes.py)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import pytest

from pystage.review import review

DATA = Path(__file__).parent / "data"
BENIGN = json.loads((DATA / "review-benign" / "sources.json").read_text())


def _pairs():
    by_name: dict[str, list[dict]] = {}
    for row in BENIGN:
        by_name.setdefault(row["name"], []).append(row)
    pairs = []
    for rows in by_name.values():
        pairs += list(zip(rows, rows[1:], strict=False))
    return pairs


PAIRS = _pairs()
assert len(PAIRS) >= 8


@pytest.mark.parametrize(
    "folder, row",
    [
        (f, r)
        for f in ("review-benign", "review-baselines")
        for r in json.loads((DATA / f / "sources.json").read_text())
    ],
    ids=lambda v: v["file"] if isinstance(v, dict) else v,
)
def test_the_recorded_tarballs_are_the_registry_s_bytes(folder, row):
    data = (DATA / folder / row["file"]).read_bytes()
    assert "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode() == row["integrity"]
    assert row["file"] in (DATA / folder / "README.md").read_text()


@pytest.mark.parametrize(
    "before, after", PAIRS, ids=[f"{a['name']}-{a['version']}-to-{b['version']}" for a, b in PAIRS]
)
def test_a_real_release_raises_no_high_finding_against_the_one_before(before, after):
    folder = DATA / "review-benign"
    report = review(
        io.BytesIO((folder / after["file"]).read_bytes()),
        io.BytesIO((folder / before["file"]).read_bytes()),
        item={"packageName": after["name"], "version": after["version"]},
        baseline_version=before["version"],
    )
    assert report.baseline == before["version"]
    assert report.changed, "the pair is not two different releases"
    highs = [
        f"{f.rule} {f.path}:{f.line} {f.message}" for f in report.findings if f.severity == "high"
    ]
    assert highs == []
    assert not report.fails("high")
