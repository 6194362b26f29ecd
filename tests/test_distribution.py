"""What a release uploads: the sdist and wheel build, PyPI would accept them, the wheel
installs into a fresh virtual environment and gives a working `pystage`, and the tests run
from the sdist.

The artefacts are built once per session (``python -m build``, as the release workflow
does), or taken from ``$PYSTAGE_DIST`` (``make dist-check`` builds them first). The tests
run from the sdist are a reduced selection here, to keep ``make test`` short;
``make dist-check`` (the CI and release workflows) sets ``PYSTAGE_SDIST_TESTS=tests``
to run all of them.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import pystage

ROOT = Path(__file__).resolve().parent.parent
DIST_NAME = "pystage-npm"
# enough to show the sdist's tests find their conftest, fixtures, data and docs, and that
# the embedded registry (the registry extra) runs from the installed wheel
REDUCED_SELECTION = "tests/test_docs.py tests/test_cli_basics.py tests/test_pack_corpus.py"

# builds, a fresh venv and a nested pytest run: `make test-slow` (and `make dist-check`)
pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]


def _run(args, **kwargs):
    kwargs.setdefault("timeout", 400)
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> dict[str, Path]:
    given = os.environ.get("PYSTAGE_DIST")
    out = Path(given).resolve() if given else tmp_path_factory.mktemp("dist")
    if not given:
        result = _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)])
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0]}


@pytest.fixture(scope="session")
def fresh_venv(dist, tmp_path_factory) -> Path:
    """A new virtual environment (no system site-packages) with the wheel and its
    registry and test extras installed, as `pipx install 'pystage-npm[registry]'` would."""
    venv = tmp_path_factory.mktemp("venv")
    assert _run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    python = venv / "bin" / "python"
    result = _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"{dist['wheel']}[registry,test]",
        ]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return venv


def _metadata(dist) -> email.message.Message:
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(wheel.read(name))


def _tracked(prefix: str = "") -> list[str] | None:
    """git's tracked files (None outside a git checkout, e.g. in an unpacked sdist)."""
    try:
        result = _run(
            ["git", "-C", str(ROOT), "ls-files", "-z", *([prefix] if prefix else [])], timeout=30
        )
    except OSError:
        return None
    if result.returncode != 0:
        return None
    return [name for name in result.stdout.split("\0") if name]


def test_twine_check_strict_passes(dist):
    result = _run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.values())])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_metadata_names_a_distribution_we_own_and_says_what_pypi_shows(dist):
    meta = _metadata(dist)
    # "pystage" on PyPI is an unrelated Scratch-like library; ours is pystage-npm
    assert meta["Name"] == DIST_NAME
    assert meta["Version"] == pystage.__version__
    assert meta["License-Expression"] == "MIT"  # SPDX (PEP 639), not the deprecated table
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Author"]
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert {"Homepage", "Documentation", "Source", "Issues", "Changelog"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())
    classifiers = meta.get_all("Classifier")
    assert "Environment :: Console" in classifiers
    assert any(c.startswith("Programming Language :: Python :: 3.1") for c in classifiers)
    # the PyPI page is the user-facing PYPI.md, not the checkout's developer notes
    description = meta.get_payload()
    assert meta["Description-Content-Type"] == "text/markdown"
    assert description.strip() == (ROOT / "PYPI.md").read_text(encoding="utf-8").strip()
    assert "Developer notes" not in description and "make test" not in description
    assert f"pipx install {DIST_NAME}" in description
    # relative links do not work on PyPI
    assert "](docs/" not in description and "](./" not in description


def test_wheel_holds_the_package_and_license_but_no_tests(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = set(wheel.namelist())
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "benchmarks/", "docs/")) for n in names)
    tracked = _tracked("pystage")
    expected = tracked if tracked is not None else []
    missing = [n for n in expected if n not in names]
    assert not missing, f"files of pystage/ missing from the wheel: {missing}"
    assert "pystage/__main__.py" in names and "pystage/cli/entry.py" in names


def test_sdist_carries_everything_the_tests_need(dist):
    with tarfile.open(dist["sdist"]) as sdist:
        names = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    for needed in ("LICENSE", "CHANGELOG.md", "PYPI.md", "README.md", "Makefile", "pyproject.toml"):
        assert needed in names, needed
    for needed in ("tests/conftest.py", "tests/fixtures_registry.py", "docs/commands.md"):
        assert needed in names, needed
    tracked = _tracked()
    if tracked is None:
        pytest.skip("not a git checkout: the tracked-file comparison needs git")
    # everything tracked ships, except what only the repository's hosting uses
    missing = [
        n
        for n in tracked
        if not n.startswith((".github/", ".ci/", ".git", ".readthedocs")) and n not in names
    ]
    assert not missing, f"tracked files missing from the sdist (MANIFEST.in): {missing}"
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_wheel_installs_in_a_fresh_venv_and_runs(fresh_venv, tmp_path):
    script = fresh_venv / "bin" / "pystage"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    version = _run([str(script), "--version"], cwd=tmp_path, env=env, timeout=60)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == pystage.__version__
    # the command is the installed one, not this checkout
    where = _run(
        [str(fresh_venv / "bin" / "python"), "-c", "import pystage; print(pystage.__file__)"],
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert str(fresh_venv) in where.stdout and str(ROOT) not in where.stdout
    helped = _run([str(script), "--help"], cwd=tmp_path, env=env, timeout=60)
    assert helped.returncode == 0 and "approve" in helped.stdout, helped.stderr


def test_the_tests_run_from_the_sdist(dist, fresh_venv, tmp_path):
    """The sdist's own tests, run from the unpacked sdist against the installed wheel."""
    with tarfile.open(dist["sdist"]) as sdist:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12: refuse links out of tmp_path
            sdist.extractall(tmp_path, filter="data")
        else:
            sdist.extractall(tmp_path)
    (unpacked,) = tmp_path.iterdir()
    selection = os.environ.get("PYSTAGE_SDIST_TESTS", REDUCED_SELECTION).split()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    # the venv's pytest script, not `python -m pytest`, which would put the unpacked
    # sdist first on sys.path: the tests exercise the installed wheel
    result = _run(
        [
            str(fresh_venv / "bin" / "pytest"),
            "-q",
            "-p",
            "no:cacheprovider",
            "--deselect",
            "tests/test_distribution.py",
            *selection,
        ],
        cwd=unpacked,
        env=env,
        timeout=3000,
    )
    tail = (result.stdout + result.stderr)[-4000:]
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and " error" not in result.stdout, tail
