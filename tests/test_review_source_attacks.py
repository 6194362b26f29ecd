"""`review --source` on a source an attacker wrote: lifecycle scripts that must not run
on the reviewer's machine without --source-scripts (and install scripts never, since
packing does not run them), links that point out of the checkout at the reviewer's
secrets, and a registry that fails after the staged tarball was spooled: no temporary
file is left behind, whatever happens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_review_source_reproduces as repro
from test_review_source_reproduces import write_package

# the same registry and checkout fixtures as the reproduce tests
registry = repro.registry
env = repro.env

EVENTS = (
    "preinstall",
    "install",
    "postinstall",
    "prepublish",
    "preprepare",
    "prepare",
    "postprepare",
    "prepublishOnly",
    "prepack",
    "postpack",
    "publish",
    "postpublish",
)
PACK_EVENTS = {"prepare", "preprepare", "postprepare", "prepack", "postpack", "prepublishOnly"}


def scripted_package(root: Path, markers: Path, name: str) -> Path:
    """A package whose every lifecycle script leaves a file named after its event."""
    write_package(root, name)
    manifest = json.loads((root / "package.json").read_text())
    manifest["scripts"] = {e: f"touch {markers}/{e}" for e in EVENTS}
    (root / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return root


def test_no_script_of_the_source_runs_without_source_scripts(env, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    source = scripted_package(tmp_path / "checkout", markers, "attack-scripts")
    stage_id = env.stage(source, "--ignore-scripts")
    assert list(markers.iterdir()) == []
    result, report = env.review_json(stage_id, source)
    assert result.stdout, result.stderr
    assert sorted(p.name for p in markers.iterdir()) == []  # nothing ran
    assert report["source"]["scripts_run"] is False
    assert env.temporary_files_left() == []


def test_source_scripts_runs_the_pack_scripts_and_never_the_install_ones(env, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    source = scripted_package(tmp_path / "checkout", markers, "attack-install")
    stage_id = env.stage(source, "--ignore-scripts")
    result, report = env.review_json(stage_id, source, "--source-scripts")
    ran = {p.name for p in markers.iterdir()}
    assert report["source"]["scripts_run"] is True, result.stderr
    assert ran <= PACK_EVENTS, ran
    assert not ran & {"preinstall", "install", "postinstall", "publish", "postpublish"}
    assert env.temporary_files_left() == []


def test_links_out_of_the_checkout_are_never_read_into_the_report(env, tmp_path):
    secret = tmp_path / "home" / ".ssh" / "id_rsa"
    secret.parent.mkdir(parents=True)
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nREVIEWER-SECRET\n")
    source = write_package(tmp_path / "checkout", "attack-links")
    stage_id = env.stage(source)
    # after staging, the checkout the reviewer is handed links its files at the secret
    for shipped in ("README.md", "lib/util.js"):
        (source / shipped).unlink()
        (source / shipped).symlink_to(secret)
    (source / "lib" / "home").symlink_to(secret.parent, target_is_directory=True)
    for args in ((), ("--diff",)):
        human = env.review(stage_id, source, *args)
        result, report = env.review_json(stage_id, source, *args)
        for text in (human.stdout, human.stderr, result.stdout, result.stderr):
            assert "REVIEWER-SECRET" not in text
            assert "PRIVATE KEY" not in text
        assert result.returncode == 8  # README.md and lib/util.js: only in the staged one
        only_staged = {e["path"] for e in report["source"]["only_staged"]}
        assert {"README.md", "lib/util.js"} <= only_staged
    assert env.temporary_files_left() == []


def test_a_registry_failing_after_the_spool_leaves_no_temporary_file(env, registry, tmp_path):
    server, _user = registry
    source = write_package(tmp_path / "checkout", "attack-midway")
    stage_id = env.stage(source)
    # the baseline (0.0.1) goes missing from storage: its GET fails after the staged
    # tarball was spooled and the source rebuilt
    baseline = server.http.get(f"{server.url}/attack-midway/-/attack-midway-0.0.1.tgz").content
    stored = [p for p in (server.storage / "tarballs").iterdir() if p.read_bytes() == baseline]
    assert len(stored) == 1
    stored[0].unlink()
    # no retries (the npmrc is the test's own): the failure is what is tested
    npmrc = Path(tmp_path / "npmrc")
    npmrc.write_text(npmrc.read_text() + "fetch-retries=0\n")
    result = env.review(stage_id, source)
    assert result.returncode not in (0, 8), result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("pystage error ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert env.temporary_files_left() == []


def git(cwd: Path, *args: str) -> None:
    import subprocess

    subprocess.run(
        ["git", "-c", "user.email=m@example.org", "-c", "user.name=m", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize("how", ["dir", "git-file"])
def test_a_checkouts_git_config_runs_nothing_on_the_reviewers_machine(env, tmp_path, how):
    # core.fsmonitor is a command git runs when it reads the index (git ls-files does):
    # a checkout handed to the reviewer (or a .git file pointing at a repository it
    # ships) must not run code through it, with --source-scripts or not
    marker = tmp_path / "ran-fsmonitor"
    source = write_package(tmp_path / "checkout", f"attack-gitconfig-{how}")
    stage_id = env.stage(source)
    repo = source if how == "dir" else tmp_path / "elsewhere.git"
    if how == "dir":
        git(source, "init", "-q")
    else:
        git(source, "init", "-q", f"--separate-git-dir={repo}")
        assert (source / ".git").is_file()
    git(source, "add", "-A")
    git(source, "commit", "-q", "-m", "x")
    git(source, "config", "core.fsmonitor", f"touch {marker}; echo")
    for extra in ((), ("--source-scripts",)):
        result, report = env.review_json(stage_id, source, *extra)
        assert not marker.exists(), extra
        assert report["source"]["reproduced"] is True, result.stderr
    assert env.temporary_files_left() == []
