"""`pystage review` end to end on the embedded registry: versions staged over its API
(hostile tarballs too, staged raw with a crafted publish document, as no honest
client would send them), reviewed by `python -m pystage` in a subprocess. The --json
schema, the exit codes (0, 8, usage errors), --against, a version with nothing
published below it, and hostile archives that end in a finding or a one-line error
with no file written: not in the working directory, the temporary directory or the
home directory, not where a traversal points."""

from __future__ import annotations

import json
import os
import tarfile
import uuid

import pytest
from helpers import escaped, publish_document
from reviewkit import gzip_stream_of_zeros, tarball

SEVERITIES = {"info", "low", "medium", "high"}
KEYS = {"id", "package", "version", "baseline", "files", "manifest", "findings"}


class Staged:
    """alice on the embedded registry, a scratch cwd and TMPDIR that must stay empty."""

    def __init__(self, server, tmp_path, run_pystage) -> None:
        self.server = server
        self.user = server.add_user("alice")
        self.npmrc = server.write_npmrc(tmp_path / "npmrc", self.user)
        self.root = tmp_path
        self.work = tmp_path / "work"
        self.tmp = tmp_path / "tmp"
        self.home = tmp_path / "home"
        self.work.mkdir()
        self.tmp.mkdir()
        self.home.mkdir()
        self._run = run_pystage

    def review(self, *args, timeout=300):
        return self._run(
            "review",
            *args,
            "--registry",
            self.server.url,
            "--userconfig",
            self.npmrc,
            cwd=self.work,
            env={
                "TMPDIR": str(self.tmp),
                "TEMP": str(self.tmp),
                "TMP": str(self.tmp),
                "HOME": str(self.home),
                "XDG_CACHE_HOME": str(self.home / ".cache"),
            },
            timeout=timeout,
        )

    def publish(self, name, version, files=None, manifest=None):
        self.server.publish(self.user, name, version, files=files, manifest=manifest)

    def stage(self, name, version, files=None, manifest=None, tag="latest") -> str:
        return self.server.stage(self.user, name, version, files=files, manifest=manifest, tag=tag)

    def stage_raw(self, name: str, version: str, data: bytes, tag: str = "latest") -> str:
        """Stage ``data`` as the tarball, whatever it holds (the registry checks only
        that it starts like gzip and that the document's hashes match it)."""
        document = publish_document(self.server.url, name, version, data, tag)
        response = self.server.request(
            "POST", f"-/stage/package/{escaped(name)}", self.user, json=document
        )
        assert response.status_code in (200, 201), response.text
        return response.json()["stageId"]

    def nothing_written(self) -> None:
        assert list(self.work.iterdir()) == []
        assert list(self.tmp.iterdir()) == []
        assert list(self.home.iterdir()) == []


@pytest.fixture
def staged(registry_server, tmp_path, run_pystage):
    return Staged(registry_server, tmp_path, run_pystage)


def check_schema(report: dict) -> None:
    assert set(report) >= KEYS
    assert set(report["files"]) == {"added", "removed", "changed"}
    for group in report["files"].values():
        for entry in group:
            assert isinstance(entry["path"], str) and isinstance(entry["size"], int)
    assert isinstance(report["manifest"], dict)
    for field, change in report["manifest"].items():
        assert isinstance(field, str) and change["change"] in ("added", "removed", "changed")
    for finding in report["findings"]:
        assert set(finding) - {"line"} == {"rule", "severity", "path", "message"}
        assert finding["severity"] in SEVERITIES
        assert isinstance(finding["path"], str)
        assert isinstance(finding["message"], str) and finding["message"]


def rules(report: dict, severity: str | None = None) -> set[str]:
    return {f["rule"] for f in report["findings"] if severity in (None, f["severity"])}


# -- the report and the exit codes ----------------------------------------------------


def test_a_patch_release_reports_files_manifest_and_findings_and_exits_0(staged):
    staged.publish("e2e-lib", "1.0.0", files={"index.js": "exports.a = 1;\n", "old.js": "1;\n"})
    stage_id = staged.stage(
        "e2e-lib",
        "1.0.1",
        files={"index.js": "exports.a = 1;\nexports.b = 2;\n", "new.js": "2;\n"},
        manifest={"description": "now with b"},
    )
    result = staged.review(stage_id, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    check_schema(report)
    assert (report["id"], report["package"], report["version"], report["baseline"]) == (
        stage_id,
        "e2e-lib",
        "1.0.1",
        "1.0.0",
    )
    files = {k: sorted(c["path"] for c in v) for k, v in report["files"].items()}
    assert files == {
        "added": ["new.js"],
        "removed": ["old.js"],
        "changed": ["index.js", "package.json"],
    }
    assert report["manifest"]["description"] == {"change": "added", "to": "now with b"}
    assert rules(report, "high") == set()
    staged.nothing_written()


def test_fail_on_turns_findings_into_exit_8_at_each_threshold(staged):
    staged.publish("e2e-gate", "2.0.0", files={"index.js": "1;\n"})
    stage_id = staged.stage(
        "e2e-gate",
        "2.1.0",
        files={"index.js": "1;\n"},
        manifest={"dependencies": {"left-pad": "^1.3.0"}, "scripts": {"install": "node x.js"}},
    )
    report = json.loads(staged.review(stage_id, "--json", "--fail-on", "never").stdout)
    assert ("install-script", "high") in {(f["rule"], f["severity"]) for f in report["findings"]}
    assert ("dependency-added", "medium") in {
        (f["rule"], f["severity"]) for f in report["findings"]
    }
    for level, code in (("never", 0), ("high", 8), ("medium", 8), ("info", 8)):
        assert staged.review(stage_id, "--fail-on", level).returncode == code, level
    default = staged.review(stage_id)  # --fail-on high by default
    assert default.returncode == 8
    assert (
        default.stderr.strip()
        .splitlines()[-2]
        .startswith("pystage error EREVIEW: 1 finding(s) at or above high in e2e-gate@2.1.0")
    )
    benign = staged.stage("e2e-gate", "2.2.0", files={"index.js": "2;\n"})
    assert staged.review(benign, "--fail-on", "low").returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ("not-a-stage-id",),
        (str(uuid.uuid4()), "--fail-on", "critical"),
        (str(uuid.uuid4()), "--against"),
        (str(uuid.uuid4()), str(uuid.uuid4())),
        (),  # no id, and no terminal to pick at
    ],
    ids=["bad-id", "bad-level", "against-without-version", "two-ids", "no-id"],
)
def test_usage_errors_exit_2_in_one_line_before_any_request(staged, args):
    before = staged.server.log_text()
    result = staged.review(*args)
    assert result.returncode == 2, result.stderr
    assert "EUSAGE" in result.stderr or "Usage:" in result.stderr
    assert "Traceback" not in result.stderr
    assert staged.server.log_text() == before
    staged.nothing_written()


def test_against_compares_with_the_named_version(staged):
    staged.publish("e2e-multi", "1.0.0", files={"a.js": "1\n"})
    staged.publish("e2e-multi", "1.1.0", files={"a.js": "1\n", "b.js": "2\n"})
    stage_id = staged.stage(
        "e2e-multi", "1.2.0", files={"a.js": "1\n", "b.js": "2\n", "c.js": "3\n"}
    )
    default = json.loads(staged.review(stage_id, "--json").stdout)
    assert default["baseline"] == "1.1.0"
    assert [c["path"] for c in default["files"]["added"]] == ["c.js"]
    older = json.loads(staged.review(stage_id, "--json", "--against", "1.0.0").stdout)
    assert older["baseline"] == "1.0.0"
    assert sorted(c["path"] for c in older["files"]["added"]) == ["b.js", "c.js"]
    by_name = json.loads(staged.review("e2e-multi@1.2.0", "--json", "--against", "1.0.0").stdout)
    assert by_name["id"] == stage_id and by_name["baseline"] == "1.0.0"
    missing = staged.review(stage_id, "--against", "9.9.9")
    assert missing.returncode == 4 and "E404: --against 9.9.9" in missing.stderr


def test_with_nothing_published_below_it_every_file_counts_as_added(staged):
    # the registry stages only packages that exist: 1.0.0 is published, and 0.9.0 on
    # another tag has neither a tagged version nor anything below it to compare with
    staged.publish("e2e-first", "1.0.0", files={"index.js": "1;\n"})
    stage_id = staged.stage("e2e-first", "0.9.0", files={"index.js": "0;\n"}, tag="legacy")
    result = staged.review(stage_id, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    check_schema(report)
    assert report["baseline"] is None
    assert sorted(c["path"] for c in report["files"]["added"]) == ["index.js", "package.json"]
    assert report["files"]["removed"] == report["files"]["changed"] == []
    assert "first-version" in rules(report, "info")
    human = staged.review(stage_id)
    assert "against nothing published" in human.stdout


# -- hostile tarballs, staged raw ------------------------------------------------------


def _hostile(kind: str, marker: str) -> bytes:
    meta = {"name": "e2e-victim", "version": "1.0.1"}
    if kind == "traversal":
        return tarball({f"@raw:package/../../{marker}": "x"}, **meta)
    if kind == "absolute":
        return tarball({f"@raw:/tmp/{marker}": "x"}, **meta)
    if kind == "symlink-out":
        return tarball({"index.js": {"type": tarfile.SYMTYPE, "link": "../../../.npmrc"}}, **meta)
    if kind == "symlink-absolute":
        return tarball({"index.js": {"type": tarfile.SYMTYPE, "link": "/etc/passwd"}}, **meta)
    if kind == "hardlink-out":
        return tarball({"index.js": {"type": tarfile.LNKTYPE, "link": "../../etc/shadow"}}, **meta)
    if kind == "bomb":
        return b"".join(gzip_stream_of_zeros(256 * 1024**2))  # 256 MiB of zeros, ~250 kB
    if kind == "corrupt-gzip":
        good = tarball({"index.js": "x" * 20000}, **meta)
        return good[:30] + bytes(b ^ 0xA5 for b in good[30:200]) + good[200:]
    if kind == "truncated-tar":
        good = tarball({"index.js": os.urandom(40000).hex()}, **meta)
        return good[: len(good) // 2]
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind, rule",
    [
        ("traversal", "path-traversal"),
        ("absolute", "absolute-path"),
        ("symlink-out", "link-outside"),
        ("symlink-absolute", "link-outside"),
        ("hardlink-out", "link-outside"),
        ("bomb", "archive-bomb"),
        ("corrupt-gzip", "corrupt-archive"),
        ("truncated-tar", "corrupt-archive"),
    ],
)
def test_a_hostile_tarball_is_a_high_finding_and_nothing_is_written(staged, kind, rule):
    staged.publish("e2e-victim", "1.0.0", files={"index.js": "module.exports = 1;\n"})
    marker = f"pwned-{uuid.uuid4().hex}"
    stage_id = staged.stage_raw("e2e-victim", "1.0.1", _hostile(kind, marker))
    result = staged.review(stage_id, "--json")
    assert result.returncode == 8, result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(result.stderr)["error"]["code"] == "EREVIEW"
    report = json.loads(result.stdout)
    check_schema(report)
    assert rule in rules(report, "high"), report["findings"]
    staged.nothing_written()
    for where in ("/tmp", str(staged.root), str(staged.root.parent)):
        assert marker not in os.listdir(where)
    # the human report says the same, escaped, in a few lines
    human = staged.review(stage_id)
    assert human.returncode == 8 and f"[{rule}]" in human.stdout
    assert human.stderr.count("pystage error") == 1


def test_a_tarball_that_is_not_gzip_at_all_is_refused_when_staged(staged):
    # what the registry will not even stage never reaches a reviewer
    staged.publish("e2e-plain", "1.0.0")
    document = publish_document(staged.server.url, "e2e-plain", "1.0.1", b"not a tarball")
    response = staged.server.request(
        "POST", "-/stage/package/e2e-plain", staged.user, json=document
    )
    assert response.status_code == 400
