"""A staged tarball whose names, manifest and file contents carry terminal escapes,
Rich markup, bidi overrides, NUL bytes and megabyte-long lines: `pystage review`
shows them inert (escaped, never acted on nor parsed as markup) and bounded (the
human report says how much it left out), and `--json` keeps them whole but
escaped. Staged raw on the embedded registry, reviewed by the real CLI."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from test_review_end_to_end import Staged

HOSTILE_NAME = (
    "lib/\x1b]8;;https://evil.example\x07click\x1b]8;;\x07[link=https://e]x[/link]\u202ej.js"
)
LONG_PATH = "deep/" * 60_000 + "x.js"  # a 300 kB pax path
OSC_LINE = b"\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 [bold red]ok[/bold red]\x1b[2J\r\n"


@pytest.fixture
def staged(registry_server, tmp_path, run_pystage):
    return Staged(registry_server, tmp_path, run_pystage)


def raw_tar(entries) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in entries:
            info = tarfile.TarInfo("package/" + name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def hostile_release(version: str) -> bytes:
    manifest = {
        "name": "inert-lib",
        "version": version,
        "description": "[bold]trusted[/bold] \u202eelif\x1b[2J",
        "dependencies": {"\x1b[31mred" * 2000: "git+https://evil.example/" + "y" * 50_000},
        "scripts": {"postinstall": 'node -e "\x1b]0;title\x07" [link=https://e]x[/link]'},
    }
    return raw_tar(
        [
            ("package.json", json.dumps(manifest).encode()),
            ("index.js", b"module.exports = 1;\n" + OSC_LINE + b"z" * 200_000 + b"\n\0\0\n"),
            (HOSTILE_NAME, b"eval(atob('QQ=='))\n"),
            (LONG_PATH, b"eval(atob('QQ=='))\n"),
        ]
    )


ACTIVE = ("\x1b", "\x07", "\u202e", "\x9b", "\r", "\0")


def test_the_human_report_is_inert_and_bounded(staged):
    staged.publish("inert-lib", "1.0.0", files={"index.js": "module.exports = 1;\n"})
    stage_id = staged.stage_raw("inert-lib", "1.0.1", hostile_release("1.0.1"))
    result = staged.review(stage_id, "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    for stream in (result.stdout, result.stderr):
        for char in ACTIVE:
            assert char not in stream, repr(char)
    assert "Traceback" not in result.stderr
    # markup shown as the text it is, never applied (Rich would have eaten the tags)
    assert "[link=https://e]x[/link]" in result.stdout
    assert "[bold]trusted[/bold]" in result.stdout
    assert "\\u202e" in result.stdout and "\\x1b" in result.stdout
    # bounded: a few kB of report for a tarball of half a megabyte of names and lines
    assert len(result.stdout) < 40_000, len(result.stdout)
    assert "more characters)" in result.stdout
    staged.nothing_written()


def test_the_json_report_keeps_hostile_text_whole_and_escaped(staged):
    staged.publish("inert-lib", "1.0.0", files={"index.js": "module.exports = 1;\n"})
    stage_id = staged.stage_raw("inert-lib", "1.0.1", hostile_release("1.0.1"))
    result = staged.review(stage_id, "--json", "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    for char in ACTIVE:
        assert char not in result.stdout, repr(char)
    report = json.loads(result.stdout)
    # the path npm writes: its "https://" is two folders, as node-tar resolves "//"
    landed = "/".join(p for p in HOSTILE_NAME.split("/") if p)
    added = {c["path"] for c in report["files"]["added"]}
    assert {landed, LONG_PATH} <= added  # the same value for a parser
    flagged = {f["path"] for f in report["findings"] if f["rule"] == "suspicious-code"}
    assert {landed, LONG_PATH} <= flagged
    staged.nothing_written()


def test_approves_summary_is_inert_and_bounded_too(staged):
    staged.publish("inert-lib", "1.0.0", files={"index.js": "module.exports = 1;\n"})
    stage_id = staged.stage_raw("inert-lib", "1.0.1", hostile_release("1.0.1"))
    result = staged._run(
        "approve",
        stage_id,
        "--fail-on",
        "high",
        "--registry",
        staged.server.url,
        "--userconfig",
        staged.npmrc,
        cwd=staged.work,
        env={"TMPDIR": str(staged.tmp), "HOME": str(staged.home)},
    )
    assert result.returncode == 8, result.stderr
    for char in ACTIVE:
        assert char not in result.stderr, repr(char)
    assert len(result.stderr) < 20_000, len(result.stderr)
    assert "EREVIEW" in result.stderr and "Traceback" not in result.stderr


def test_a_finding_repeated_for_thousands_of_entries_is_listed_a_few_times():
    from rich.console import Console

    from pystage.render.review import MAX_LISTED, ReviewRenderer
    from pystage.review import review

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        manifest = json.dumps({"name": "many", "version": "1.0.0"}).encode()
        info = tarfile.TarInfo("package/package.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
        for n in range(5000):
            link = tarfile.TarInfo(f"package/l{n}")
            link.type = tarfile.SYMTYPE
            link.linkname = "/etc/passwd"
            tar.addfile(link)
    report = review(io.BytesIO(out.getvalue()))
    assert sum(f.rule == "link-outside" for f in report.findings) == 5000
    text = io.StringIO()
    ReviewRenderer("never", False).report(
        report, console=Console(file=text, width=120, color_system=None)
    )
    printed = text.getvalue()
    assert printed.count("[link-outside]") == MAX_LISTED + 1  # and the "… and N more" line
    assert f"… and {5000 - MAX_LISTED} more high [link-outside] findings (see --json)" in printed
