"""`pystage pack` as a user runs it: the report, the file, the JSON, next to `npm pack`."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess

import pytest
from helpers import requires_npm
from packcorpus import CORPUS, Tree

from pystage.render.pack import format_bytes

COMPRESSION_DETAILS = ("package size:", "shasum:", "integrity:")
# npm 11.19 prints "bundled files: 0" and counts bundled files as own (it subtracts the
# file count from itself); pystage prints the real split, checked separately below
BUNDLE_SPLIT = ("bundled files:", "own files:")


def _npm_report(stderr: str) -> list[str]:
    return [
        re.sub(r"^npm notice ?", "", line)
        for line in stderr.splitlines()
        if line.startswith("npm notice")
    ]


def _comparable(lines: list[str]) -> list[str]:
    return [
        line.strip()
        for line in lines
        if line.strip() and not line.startswith(COMPRESSION_DETAILS + BUNDLE_SPLIT)
    ]


@requires_npm((11,))
@pytest.mark.parametrize("name", ["bundled_deps", "typescript_library", "sorting", "larger_files"])
def test_human_report_matches_npm(name, tmp_path, npm_env, run_pystage):
    pkg = tmp_path / "pkg"
    CORPUS[name](Tree(pkg))
    npm = subprocess.run(
        [shutil.which("npm"), "pack", "--dry-run", "--ignore-scripts"],
        cwd=pkg,
        env=npm_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    ours = run_pystage(
        "pack", "--dry-run", "--ignore-scripts", cwd=pkg, env={"PYTHONIOENCODING": "utf-8"}
    )
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == npm.stdout  # the file name, alone on stdout
    assert _comparable(ours.stderr.splitlines()) == _comparable(_npm_report(npm.stderr))
    assert not list(pkg.glob("*.tgz"))  # dry run wrote nothing
    if name == "bundled_deps":
        assert "bundled files: 7" in ours.stderr and "own files: 2" in ours.stderr


def test_pack_writes_to_destination_and_reports(tmp_path, run_pystage):
    t = Tree(tmp_path / "pkg")
    t.pkg(name="@scope/thing", version="3.1.4")
    t.write("index.js", "module.exports = 42\n")
    dest = tmp_path / "dest"
    dest.mkdir()
    proc = run_pystage("pack", t.root, "--pack-destination", dest)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "scope-thing-3.1.4.tgz\n"
    tgz = dest / "scope-thing-3.1.4.tgz"
    names = _tar_names(tgz.read_bytes())
    assert names == ["package/index.js", "package/package.json"]
    assert "total files: 2" in proc.stderr
    assert [p.name for p in dest.iterdir()] == [tgz.name]


def test_default_destination_is_the_current_directory(tmp_path, run_pystage):
    t = Tree(tmp_path / "pkg")
    t.pkg()
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    proc = run_pystage("pack", t.root, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert (cwd / "corpus-pkg-1.0.0.tgz").exists()
    assert not (t.root / "corpus-pkg-1.0.0.tgz").exists()


def test_json_output_describes_the_written_file(tmp_path, run_pystage):
    import base64
    import hashlib

    t = Tree(tmp_path / "pkg")
    t.pkg(bin={"x": "x.js"})
    t.write("x.js", "#!/usr/bin/env node\n")
    proc = run_pystage("pack", "--json", cwd=t.root)
    assert proc.returncode == 0, proc.stderr
    [item] = json.loads(proc.stdout)
    assert list(item) == [
        "id",
        "name",
        "version",
        "size",
        "unpackedSize",
        "shasum",
        "integrity",
        "filename",
        "files",
        "entryCount",
        "bundled",
    ]
    data = (t.root / item["filename"]).read_bytes()
    assert item["size"] == len(data)
    assert item["shasum"] == hashlib.sha1(data).hexdigest()
    assert item["integrity"] == "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    assert {f["path"]: f["mode"] for f in item["files"]} == {"x.js": 0o755, "package.json": 0o644}
    assert proc.stderr == ""


def test_quiet_prints_only_the_file_name(tmp_path, run_pystage):
    t = Tree(tmp_path / "pkg")
    t.pkg()
    proc = run_pystage("pack", "-q", "--dry-run", cwd=t.root)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "corpus-pkg-1.0.0.tgz\n", "")


@pytest.mark.parametrize(
    "n, text",
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (1250, "1.3 kB"),
        (1150, "1.1 kB"),
        (999949, "999.9 kB"),
        (999950, "1.0 MB"),
        (2_500_000, "2.5 MB"),
        (1_234_567_890, "1.2 GB"),
    ],
)
def test_format_bytes_rounds_like_javascript(n, text):
    assert format_bytes(n) == text


def _tar_names(tgz: bytes) -> list[str]:
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(tgz))) as tar:
        return tar.getnames()
