"""Refuse to release a tag that is not the package's version, or whose version
CHANGELOG.md does not describe: `python scripts/check_release.py v1.2.3`.

The release workflow runs it before building, so a mistyped tag or a
forgotten changelog stops the release instead of publishing it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def package_version() -> str:
    text = (ROOT / "pystage" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def changelog_has(version: str) -> bool:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    return re.search(rf"^## \[?{re.escape(version)}\]?(\s|$)", text, re.M) is not None


def problems(tag: str) -> list[str]:
    version = package_version()
    found = []
    if tag != f"v{version}":
        found.append(f"tag {tag!r} is not v{version}, the version in pystage/__init__.py")
    if not changelog_has(version):
        found.append(f"CHANGELOG.md has no '## {version}' section")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: check_release.py vX.Y.Z", file=sys.stderr)
        return 2
    found = problems(argv[0])
    for problem in found:
        print(f"release refused: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
