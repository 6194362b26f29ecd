"""Where npm thinks the project is: its local prefix and the workspace root above it.

npm walks up from the current directory: the first directory with a package.json
(or node_modules) is the package (npm's local prefix); an ancestor whose
``workspaces`` globs name that package is the workspace root, whose .npmrc and
ignore files then apply. Config loading, packing and ``--workspaces`` all ask
these questions, so the answers live here rather than in any one of them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator


def walk_up(start: str) -> Iterator[str]:
    """``start`` and each of its parents, up to the file-system root."""
    path = start
    while True:
        yield path
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent


def first_package_dir(start: str) -> str | None:
    """npm's local prefix from ``start``: the nearest directory with a package.json or
    a node_modules folder; None when there is none up to the root."""
    for path in walk_up(start):
        if os.path.isfile(os.path.join(path, "package.json")) or os.path.isdir(
            os.path.join(path, "node_modules")
        ):
            return path
    return None


def workspace_root(package: str) -> str | None:
    """The nearest ancestor of ``package`` whose ``workspaces`` name it, else None."""
    for path in list(walk_up(package))[1:]:
        patterns = _workspace_patterns(os.path.join(path, "package.json"))
        if patterns and _is_workspace(
            os.path.relpath(package, path).replace(os.sep, "/"), patterns
        ):
            return path
    return None


def _workspace_patterns(manifest_path: str) -> list[str]:
    try:
        with open(manifest_path, encoding="utf-8-sig") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError):
        return []
    workspaces = manifest.get("workspaces") if isinstance(manifest, dict) else None
    if isinstance(workspaces, dict):
        workspaces = workspaces.get("packages")
    return [w for w in workspaces if isinstance(w, str)] if isinstance(workspaces, list) else []


def _is_workspace(rel: str, patterns: list[str]) -> bool:
    """@npmcli/map-workspaces, reduced to one candidate: a pattern names it, no later
    negated pattern takes it back (an odd number of leading "!" negates)."""
    from pystage.packing.glob import Rule  # the minimatch port npm's matching needs

    included = False
    for pattern in patterns:
        bangs = len(pattern) - len(pattern.lstrip("!"))
        body = pattern[bangs:].replace("\\", "/")
        body = body[2:] if body.startswith("./") else body
        body = "/" + body.strip("/")
        if Rule(body).match("/" + rel):
            included = bangs % 2 == 0
    return included
