"""Which packages a workspace holds, and which of them ``--workspace`` selects.

A port of what npm 11 does for ``npm stage publish --workspaces``:
@npmcli/map-workspaces (the root's ``workspaces`` globs, matches sorted with
localeCompare and then grouped by pattern, negated patterns removed, a name
found twice refused) and npm's ``lib/utils/get-workspaces.js`` (a filter is a
name, a path, or a parent directory of workspaces; ``--include-workspace-root``
adds the root first). The workspace root is npm's local prefix: the nearest
directory up from the current one that has a package.json.
"""

from __future__ import annotations

import glob as globlib
import json
import os

from pystage.errors import PystageError
from pystage.project import first_package_dir

DEPENDENCY_FIELDS = ("dependencies", "optionalDependencies", "peerDependencies")


def local_prefix(cwd: str) -> str | None:
    """npm's local prefix: the nearest directory with a package.json (or node_modules)."""
    return first_package_dir(os.path.abspath(cwd))


def read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise PystageError("ENOENT", f"no package.json in {os.path.dirname(path)}") from None
    except (OSError, ValueError) as exc:
        raise PystageError("EJSONPARSE", f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise PystageError("EJSONPARSE", f"{path} does not hold a JSON object")
    return data


def _patterns(declared: object) -> tuple[list[str], list[str]]:
    """map-workspaces' appendNegatedPatterns: (patterns, negated patterns)."""
    if isinstance(declared, dict):
        declared = declared.get("packages", [])
    if not isinstance(declared, list):
        raise PystageError("EWORKSPACESCONFIG", "workspaces config expects an Array")
    patterns: list[str] = []
    negated: list[str] = []
    for raw in declared:
        if not isinstance(raw, str):
            continue
        bangs = len(raw) - len(raw.lstrip("!"))
        pattern = raw[bangs:]
        while pattern.startswith(("./", "/")):
            pattern = pattern.lstrip("/") if pattern.startswith("/") else pattern[2:]
        if bangs % 2 == 1:
            negated.append(pattern)
        else:
            negated = [n for n in negated if not _match(pattern, n)]
            patterns.append(pattern)
    patterns = [p for p in patterns if not any(_match(p, n) for n in negated)]
    return patterns, negated


def _match(path: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase

    return fnmatchcase(path.rstrip("/"), pattern.rstrip("/"))


def map_workspaces(root: str, manifest: dict | None = None) -> dict[str, str]:
    """name -> absolute directory of every workspace the root declares, in npm's order."""
    from pystage.packing.collate import sort_key

    manifest = read_json(os.path.join(root, "package.json")) if manifest is None else manifest
    patterns, negated = _patterns(manifest.get("workspaces", []))
    excluded = {rel for pattern in negated for rel in _glob_dirs(root, pattern)}
    # map-workspaces sorts all matches with localeCompare, then takes them pattern by
    # pattern: the declared order of the patterns wins, the sort orders within one
    ordered: list[str] = []
    for pattern in patterns:
        for rel in sorted(_glob_dirs(root, pattern) - excluded, key=sort_key):
            if rel not in ordered:
                ordered.append(rel)
    seen: dict[str, list[str]] = {}
    for rel in ordered:
        path = os.path.join(root, rel)
        try:
            pkg = read_json(os.path.join(path, "package.json"))
        except PystageError as err:
            if err.code == "ENOENT":
                continue
            raise
        name = pkg.get("name") if isinstance(pkg.get("name"), str) and pkg["name"] else None
        seen.setdefault(name or os.path.basename(path), []).append(path)
    dupes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    if dupes:
        detail = "; ".join(f"{name} in {', '.join(paths)}" for name, paths in dupes.items())
        raise PystageError(
            "EDUPLICATEWORKSPACE", f"must not have multiple workspaces with the same name: {detail}"
        )
    return {name: paths[0] for name, paths in seen.items()}


def _glob_dirs(root: str, pattern: str) -> set[str]:
    """The directories (relative, with /) a workspace glob names, node_modules left out."""
    found = set()
    for hit in globlib.glob(pattern.rstrip("/") + "/", root_dir=root, recursive=True):
        rel = hit.rstrip("/").replace(os.sep, "/")
        if rel and "node_modules" not in rel.split("/"):
            found.add(rel)
    return found


def select_workspaces(
    cwd: str, filters: list[str] | tuple[str, ...] = (), include_root: bool = False
) -> tuple[str, dict[str, str]]:
    """(workspace root, name -> directory) as npm's setWorkspaces selects them."""
    from fnmatch import fnmatchcase

    root = local_prefix(cwd)
    if root is None:
        raise PystageError("ENOENT", f"no package.json in {cwd} or above it")
    manifest = read_json(os.path.join(root, "package.json"))
    workspaces = map_workspaces(root, manifest)
    selected: dict[str, str] = {}
    if include_root:
        selected[str(manifest.get("name") or os.path.basename(root))] = root
    if not filters:
        selected.update(workspaces)
    relative_from = root if os.path.relpath(root, cwd).startswith("..") else cwd
    for wanted in filters:
        rel_filter = os.path.relpath(os.path.join(relative_from, wanted), root)
        for name, path in workspaces.items():
            rel = os.path.relpath(path, relative_from)
            if wanted.startswith("./"):
                rel = "./" + rel
            if (
                wanted == name
                or os.path.normpath(os.path.join(relative_from, wanted)) == path
                or fnmatchcase(rel, rel_filter.replace("\\", "/").rstrip("/") + "/*")
                or fnmatchcase(rel, wanted.replace("\\", "/").rstrip("/") + "/*")
            ):
                selected[name] = path
    if not selected:
        names = "".join(f" --workspace={w}" for w in filters)
        raise PystageError(
            "ENOWORKSPACES",
            f"No workspaces found{':' + names if filters else '!'}",
            f"the workspaces of {root} are: {', '.join(workspaces) or 'none'}",
        )
    return root, selected


def workspace_dependencies(cwd: str) -> dict[str, set[str]]:
    """name -> the names of the same workspace's packages it needs at run time
    (dependencies, optional and peer dependencies), for the workspace around ``cwd``;
    {} outside a workspace."""
    try:
        root, packages = select_workspaces(cwd, (), include_root=True)
    except PystageError:
        return {}
    graph: dict[str, set[str]] = {}
    for name, path in packages.items():
        try:
            manifest = read_json(os.path.join(path, "package.json"))
        except PystageError:
            continue
        needs: set[str] = set()
        for field in DEPENDENCY_FIELDS:
            deps = manifest.get(field)
            if isinstance(deps, dict):
                needs.update(d for d in deps if d in packages and d != name)
        graph[name] = needs
    return graph
