"""The ignore files above a workspace package, which npm applies when it packs one.

npm finds its local prefix by walking up from the current directory: the first
directory with a package.json (or node_modules) is the package; an ancestor
whose ``workspaces`` globs name that package is the workspace root. Packing
the package then adds, to npm-packlist's default rules, the text of the
.npmignore (else .gitignore) of every directory from the root down to the
package's parent (npm-packlist's readOutOfTreeIgnoreFiles).
"""

from __future__ import annotations

import json
import os

from pystage.packing.glob import Rule


def out_of_tree_ignore_texts(pkg_dir: str, cwd: str | None = None) -> list[str]:
    """The texts to add, or [] when pkg_dir is not npm's implicit workspace from cwd."""
    package = _first_package_dir(os.path.abspath(cwd or os.getcwd()))
    pkg_dir = os.path.abspath(pkg_dir)
    if package is None or os.path.realpath(package) != os.path.realpath(pkg_dir):
        return []
    root = _workspace_root(package)
    if root is None:
        return []
    texts: list[str] = []
    current = root
    for segment in [""] + os.path.relpath(os.path.dirname(package), root).split(os.sep):
        if segment not in ("", "."):
            current = os.path.join(current, segment)
        for name in (".npmignore", ".gitignore"):
            try:
                with open(os.path.join(current, name), encoding="utf-8", errors="replace") as fh:
                    texts.append(fh.read())
                break
            except FileNotFoundError:
                continue
            except OSError:
                break
    return texts


def _first_package_dir(start: str) -> str | None:
    for path in _walk_up(start):
        if os.path.isfile(os.path.join(path, "package.json")) or os.path.isdir(
            os.path.join(path, "node_modules")
        ):
            return path
    return None


def _workspace_root(package: str) -> str | None:
    for path in list(_walk_up(package))[1:]:
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
    included = False
    for pattern in patterns:
        bangs = len(pattern) - len(pattern.lstrip("!"))
        body = pattern[bangs:].replace("\\", "/")
        body = body[2:] if body.startswith("./") else body
        body = "/" + body.strip("/")
        if Rule(body).match("/" + rel):
            included = bangs % 2 == 0
    return included


def _walk_up(start: str):
    path = start
    while True:
        yield path
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent
