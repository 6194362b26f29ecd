"""Every install line names the distribution we publish, pystage-npm: `pystage` on PyPI is
an unrelated project, so `pip install pystage` installs someone else's package."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# pip/pipx install [options] pystage or 'pystage[extra]' (but not pystage-npm)
WRONG = re.compile(r"\bpipx?\s+(?:install|inject)\b[^\n`]*?(?<![\w/.-])['\"]?pystage(?![\w-])")
RIGHT = re.compile(r"\bpipx?\s+install\b[^\n`]*?['\"]?pystage-npm\b")


def _texts():
    patterns = ["README.md", "PYPI.md", "CHANGELOG.md", "docs/**/*.md", "pystage/**/*.py"]
    patterns += ["scripts/*", ".github/**/*.yml", "Makefile"]
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file():
                yield path, path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path,text", list(_texts()), ids=lambda v: getattr(v, "name", ""))
def test_no_install_line_names_the_wrong_distribution(path, text):
    wrong = [m.group(0) for m in WRONG.finditer(text)]
    assert not wrong, f"{path.relative_to(ROOT)} installs someone else's package: {wrong}"


@pytest.mark.parametrize("doc", ["README.md", "PYPI.md", "docs/installation.md", "docs/ci.md"])
def test_the_user_facing_install_lines_show_pipx(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    lines = [m.group(0) for m in RIGHT.finditer(text)]
    assert any(line.startswith("pipx install") for line in lines), doc


def test_missing_registry_extra_hint_names_the_distribution():
    """`registry serve` without the extra says what to install, by our name."""
    code = (
        "import sys; sys.modules['starlette'] = None\n"
        "from pystage.cli.entry import main\n"
        "main(['registry', 'serve', '--listen', '127.0.0.1:0'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result.stderr
    assert "pystage error EMISSINGDEP" in result.stderr
    assert "pip install 'pystage-npm[registry]'" in result.stderr
    assert "pipx install --force 'pystage-npm[registry]'" in result.stderr
