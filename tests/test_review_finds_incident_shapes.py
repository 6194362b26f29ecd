"""The review flags the shapes documented npm attacks and accidents have had: each case
of tests/reviewcorpus.py is a staged version built on a realistic baseline, and its
expected findings (rule, severity, file or field, and the line where it matters) must
come out; its high findings must be exactly the expected ones (no more: a reviewer
reads every high)."""

from __future__ import annotations

import io

import pytest
from reviewcorpus import CASES, expected_line

from pystage.review import review

assert len(CASES) >= 20


def _run(case):
    staged, baseline = case.build()
    stream = io.BytesIO(staged) if isinstance(staged, bytes) else staged
    report = review(
        stream,
        io.BytesIO(baseline) if baseline is not None else None,
        item=case.item or None,
        baseline_version=case.baseline_version,
        baseline_manifest=case.baseline_manifest,
    )
    return report, staged, baseline


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_an_incident_shape_is_flagged_at_its_severity_naming_the_file_or_field(case):
    report, staged, baseline = _run(case)
    found = {(f.rule, f.severity, f.path) for f in report.findings}
    shown = "\n".join(
        f"{f.severity} {f.rule} {f.path}:{f.line} {f.message}" for f in report.findings
    )
    for rule, severity, path, *line in case.expected:
        assert (rule, severity, path) in found, (
            f"{case.id}: no {rule}/{severity} on {path!r}\n{shown}"
        )
        if line:
            lines = {
                f.line
                for f in report.findings
                if (f.rule, f.severity, f.path) == (rule, severity, path)
            }
            assert expected_line(line[0], path, staged, baseline) in lines, shown
    expected_high = {(r, s, p) for r, s, p, *_ in case.expected if s == "high"}
    assert {x for x in found if x[1] == "high"} == expected_high, shown
    assert report.fails(max((s for _, s, *_ in case.expected), key=["low", "medium", "high"].index))


def test_every_rule_the_engine_raises_is_documented_on_the_review_page():
    import re
    from pathlib import Path

    from pystage.review.file_rules import ANOMALY_SEVERITY

    root = Path(__file__).parent.parent
    source = "".join(p.read_text() for p in (root / "pystage" / "review").glob("*.py"))
    rules = set(re.findall(r'Finding\(\s*"([a-z-]+)"', source)) | set(ANOMALY_SEVERITY)
    rules |= set(re.findall(r'"(possible-secret|secret)" if', source))
    documented = set(
        re.findall(r"^\| `([a-z-]+)` \|", (root / "docs" / "review.md").read_text(), re.M)
    )
    assert len(rules) > 30
    assert rules - documented == set()
    raised = {rule for case in CASES for rule, *_ in case.expected}
    assert raised <= documented


@pytest.mark.parametrize(
    "script, severity", [("postinstall", "high"), ("prepare", "high"), ("postversion", "medium")]
)
def test_inline_code_is_high_only_in_a_script_users_run(script, severity):
    from reviewkit import tarball

    base = tarball({"index.js": "module.exports = 1;\n"}, version="1.0.0")
    command = "node -e \"console.log(require('./package.json').version)\""
    staged = tarball(
        {"index.js": "module.exports = 1;\n"}, {"scripts": {script: command}}, version="1.0.1"
    )
    report = review(io.BytesIO(staged), io.BytesIO(base), baseline_version="1.0.0")
    found = {(f.rule, f.path): f.severity for f in report.findings}
    assert found[("dangerous-script", f"scripts.{script}")] == severity


def test_the_corpus_is_built_the_same_every_time():
    import hashlib

    def digest(case):
        staged, baseline = case.build()
        if not isinstance(staged, bytes):
            staged = b"".join(staged)
        return hashlib.sha256(staged + (baseline or b"")).hexdigest()

    cheap = [c for c in CASES if c.id not in ("coverage-folder-40mb", "tarball-gzip-bomb")]
    assert [digest(c) for c in cheap] == [digest(c) for c in cheap]
