"""Lifecycle scripts of pack: npm's events, order and environment (npm as the oracle)."""

from __future__ import annotations

import json

import pytest
from helpers import requires_npm
from packcorpus import Tree

from pystage.errors import PystageError
from pystage.packing import pack

RECORD = (
    "echo $npm_lifecycle_event:$npm_package_name:$npm_package_version:"
    "$npm_package_config_port:$npm_package_engines_node:$npm_package_bin_tool:"
    "$(basename $npm_package_json):$npm_command >> log.txt"
)


def _scripted(root):
    t = Tree(root)
    t.pkg(
        name="scripted",
        config={"port": 8080},
        engines={"node": ">=18"},
        bin={"tool": "tool.js"},
        scripts={
            "prepack": RECORD + "; echo generated > gen.js",
            "prepare": RECORD + "; echo 'script:'$npm_lifecycle_script >> log.txt",
            "postpack": RECORD + "; test -f gen.js && echo saw-gen >> log.txt",
            "preprepack": "echo pre-hooks-are-not-lifecycle >> log.txt",
            "prepublishOnly": "echo publish-only >> log.txt",
            "pack": "echo not-an-event >> log.txt",
        },
    )
    t.write("tool.js", "#!/usr/bin/env node\n")
    return t


@requires_npm((11,))
def test_scripts_run_like_npm(tmp_path, npm_pack):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    _scripted(ours)
    _scripted(theirs)
    out = tmp_path / "out"
    out.mkdir()
    item, _, _ = npm_pack(theirs, out)
    result = pack(ours, out)
    assert (ours / "log.txt").read_text() == (theirs / "log.txt").read_text()
    lines = (ours / "log.txt").read_text().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "prepack",
        "prepare",
        "script",
        "postpack",
        "saw-gen",
    ]
    # the file made by prepack is packed, by both
    assert "gen.js" in {f.path for f in result.files}
    assert {f["path"] for f in item["files"]} == {f.path for f in result.files}


def test_scripts_order_and_environment(tmp_path):
    """What npm 11.19 records for the same package (see test_scripts_run_like_npm)."""
    pkg = tmp_path / "pkg"
    _scripted(pkg)
    pack(pkg, tmp_path)
    assert (pkg / "log.txt").read_text().splitlines() == [
        "prepack:scripted:1.0.0:8080:>=18:tool.js:package.json:pack",
        "prepare:scripted:1.0.0:8080:>=18:tool.js:package.json:pack",
        "script:" + RECORD + "; echo 'script:'$npm_lifecycle_script >> log.txt",
        "postpack:scripted:1.0.0:8080:>=18:tool.js:package.json:pack",
        "saw-gen",
    ]


def test_command_is_visible_to_scripts(tmp_path):
    t = Tree(tmp_path / "pkg")
    t.pkg(scripts={"prepack": "echo $npm_command > cmd.txt"})
    pack(t.root, tmp_path, dry_run=True, command="publish")
    assert (t.root / "cmd.txt").read_text() == "publish\n"


def test_ignore_scripts_runs_nothing(tmp_path):
    pkg = tmp_path / "pkg"
    _scripted(pkg)
    result = pack(pkg, tmp_path, ignore_scripts=True)
    assert not (pkg / "log.txt").exists()
    assert "gen.js" not in {f.path for f in result.files}


def test_script_sees_node_modules_bin_on_path(tmp_path):
    t = Tree(tmp_path / "pkg")
    t.pkg(scripts={"prepack": "my-local-tool > out.txt"})
    t.write("node_modules/.bin/my-local-tool", "#!/bin/sh\necho from-local-bin\n", 0o755)
    pack(t.root, tmp_path, dry_run=True)
    assert (t.root / "out.txt").read_text() == "from-local-bin\n"


def test_failing_script_stops_pack_and_leaves_no_file(tmp_path):
    t = Tree(tmp_path / "pkg")
    t.pkg(scripts={"prepack": "exit 3"})
    with pytest.raises(PystageError) as info:
        pack(t.root, tmp_path)
    assert info.value.code == "ELIFECYCLE"
    assert "exit code 3" in info.value.message
    assert not list(tmp_path.glob("*.tgz"))


def test_failing_postpack_keeps_the_written_tarball_like_npm(tmp_path):
    # npm writes the .tgz before postpack runs; a failing postpack does not unwrite it
    t = Tree(tmp_path / "pkg")
    t.pkg(scripts={"postpack": "exit 1"})
    with pytest.raises(PystageError):
        pack(t.root, tmp_path)
    assert (tmp_path / "corpus-pkg-1.0.0.tgz").exists()


def test_cli_json_stays_parseable_when_scripts_print(tmp_path, run_pystage):
    t = Tree(tmp_path / "pkg")
    t.pkg(scripts={"prepack": "echo noisy output"})
    proc = run_pystage("pack", "--json", "--dry-run", cwd=t.root)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["name"] == "corpus-pkg"
    assert "noisy output" in proc.stderr
