"""npm's pack warnings (npm-packlist's gitignore-fallback), with the real npm as the oracle."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from helpers import requires_npm

FALLBACK = (
    "gitignore-fallback No .npmignore file found, using .gitignore for file exclusion. "
    "Consider creating a .npmignore file to explicitly control published files."
)

CASES = {
    "gitignore-only": ({}, {".gitignore": "*.log\n"}),
    "empty-gitignore": ({}, {".gitignore": ""}),
    "gitignore-and-npmignore": ({}, {".gitignore": "*.log\n", ".npmignore": "*.tmp\n"}),
    "gitignore-and-empty-npmignore": ({}, {".gitignore": "*.log\n", ".npmignore": ""}),
    "gitignore-and-files": ({"files": ["index.js"]}, {".gitignore": "*.log\n"}),
    "gitignore-and-empty-files": ({"files": []}, {".gitignore": "*.log\n"}),
    "gitignore-in-a-subdirectory": ({}, {"lib/.gitignore": "*.log\n", "lib/a.js": "1\n"}),
    "no-ignore-file": ({}, {}),
}


def make_package(root, manifest: dict, files: dict[str, str]):
    root.mkdir()
    (root / "package.json").write_text(
        json.dumps({"name": "warn-pkg", "version": "1.0.0", **manifest}, indent=2)
    )
    (root / "index.js").write_text("module.exports = 1\n")
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


@requires_npm((11,))
@pytest.mark.parametrize("case", list(CASES))
def test_pack_warns_exactly_when_npm_does(case, tmp_path, run_pystage, npm_env):
    manifest, files = CASES[case]
    pkg = make_package(tmp_path / "pkg", manifest, files)

    npm = subprocess.run(
        [shutil.which("npm"), "pack", "--dry-run", "--json"],
        cwd=pkg,
        env=npm_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert npm.returncode == 0, npm.stderr
    npm_warns = f"npm warn {FALLBACK}" in npm.stderr
    assert npm_warns == case.startswith(("gitignore-only", "empty-gitignore"))  # the oracle works

    ours = run_pystage("pack", "--dry-run", "--json", str(pkg), cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr
    assert json.loads(ours.stdout)[0]["name"] == "warn-pkg"  # stdout stays pure JSON
    assert (f"warning {FALLBACK}" in ours.stderr) == npm_warns
    assert ours.stderr.count("gitignore-fallback") == (1 if npm_warns else 0)


def test_pack_warning_shows_in_human_output_too(tmp_path, run_pystage):
    pkg = make_package(tmp_path / "pkg", {}, {".gitignore": "*.log\n"})
    result = run_pystage("pack", "--dry-run", str(pkg), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"warning {FALLBACK}" in result.stderr
    assert "gitignore-fallback" not in result.stdout


def test_publish_shows_the_pack_warning(tmp_path, run_pystage, registry_server):
    user = registry_server.add_user("warner")
    pkg = make_package(tmp_path / "pkg", {}, {".gitignore": "*.log\n"})
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    result = run_pystage(
        "publish",
        "--dry-run",
        str(pkg),
        "--registry",
        registry_server.url,
        "--userconfig",
        str(npmrc),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert f"warning {FALLBACK}" in result.stderr
