"""The GitHub workflows: least privilege, pinned actions, and a release that publishes
with trusted publishing only what was built and checked; the release gate script."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
SCRIPT = ROOT / "scripts" / "check_release.py"

pytestmark = pytest.mark.skipif(
    not WORKFLOWS.is_dir(), reason="no .github/ (an sdist does not ship the workflows)"
)


def _load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True
    data["on"] = data.pop(True, data.get("on"))
    return data


def _steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, step


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_every_action_is_pinned_to_a_commit(name):
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    uses = re.findall(r"^\s*-?\s*uses:\s*(\S+)(.*)$", text, re.M)
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), (
            f"{name}: {action} is not pinned to a full commit SHA"
        )
        assert re.search(r"#\s*v\d", comment), f"{name}: {action} does not say which version"


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_default_permissions_are_read_only(name):
    workflow = _load(name)
    assert workflow.get("permissions") == {"contents": "read"}


def test_ci_builds_and_checks_the_distribution():
    ci = _load("ci.yml")
    assert "dist" in ci["jobs"]
    runs = [step.get("run", "") for _, step in _steps({"jobs": {"d": ci["jobs"]["dist"]}})]
    assert any("make dist-check" in r for r in runs)


def test_release_uses_trusted_publishing_and_no_stored_token():
    release = _load("release.yml")
    text = (WORKFLOWS / "release.yml").read_text(encoding="utf-8")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    build, publish = release["jobs"]["build"], release["jobs"]["publish"]
    build_runs = " ".join(s.get("run", "") for s in build["steps"])
    assert "scripts/check_release.py" in build_runs and "make dist-check" in build_runs
    # only the publishing job may mint an OIDC token, and it gets nothing else
    assert publish["permissions"] == {"id-token": "write"}
    assert "permissions" not in build
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    publish_uses = [s["uses"].split("@")[0] for s in publish["steps"]]
    assert publish_uses == ["actions/download-artifact", "pypa/gh-action-pypi-publish"]
    # trusted publishing: no API token, password or secret anywhere in the release
    assert "secrets." not in text and "password" not in text.lower()
    # the publishing job uploads what the build job built, nothing it builds itself
    assert not any("run" in s for s in publish["steps"])


def test_makefile_has_the_dist_targets():
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make")
    result = subprocess.run(
        [make, "-n", "dist-check"], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "python -m build" in result.stdout and "twine check --strict" in result.stdout
    assert "PYSTAGE_SDIST_TESTS=tests" in result.stdout


def _check_release(tmp_path, tag: str, changelog: str, version: str = "1.2.3"):
    """Run the gate script on a copy of the layout it reads."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "pystage").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts" / SCRIPT.name)
    (tmp_path / "pystage" / "__init__.py").write_text(f'__version__ = "{version}"\n')
    (tmp_path / "CHANGELOG.md").write_text(changelog)
    return subprocess.run(
        [sys.executable, str(tmp_path / "scripts" / SCRIPT.name), tag],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_release_gate_accepts_a_tag_with_its_changelog_section(tmp_path):
    result = _check_release(tmp_path, "v1.2.3", "# Changelog\n\n## 1.2.3 (2026-12-02)\n- x\n")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "tag,changelog,complaint",
    [
        ("v1.2.4", "## 1.2.3\n", "is not v1.2.3"),
        ("1.2.3", "## 1.2.3\n", "is not v1.2.3"),
        ("v1.2.3", "## Unreleased\n- x\n", "no '## 1.2.3' section"),
        ("v1.2.3", "## 1.2.30\n", "no '## 1.2.3' section"),
    ],
)
def test_release_gate_refuses(tmp_path, tag, changelog, complaint):
    result = _check_release(tmp_path, tag, changelog)
    assert result.returncode == 1
    assert complaint in result.stderr


def test_this_checkout_has_a_changelog_for_the_current_version():
    import pystage

    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## Unreleased" in text or f"## {pystage.__version__}" in text
