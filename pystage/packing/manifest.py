"""package.json: read it, check it, and normalize it the way npm's pack sees it."""

from __future__ import annotations

import json
import os
import posixpath
import re
from pathlib import Path

from pystage.errors import PystageError

# semver 2.0.0, as node-semver accepts it in strict mode (no leading "v", no spaces).
# Matched whole (fullmatch: "$" would let "1.0.0\n" through), with ASCII digits only
_SEMVER = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_SCOPED = re.compile(r"(?:@([^/]+?)/)?([^/]+?)")
_BLOCKED_NAMES = {"node_modules", "favicon.ico"}


def read_manifest(pkg_dir) -> dict:
    """The parsed package.json of pkg_dir, with a valid name and version."""
    path = Path(pkg_dir) / "package.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PystageError(
            "ENOENT",
            f"no package.json found in {Path(pkg_dir)}",
            "run this in a package directory, or pass one: pystage pack DIR",
        ) from None
    except IsADirectoryError:
        raise PystageError("EISDIR", f"{path} is a directory, not a file") from None
    except PermissionError:
        raise PystageError("EACCES", f"cannot read {path}: permission denied") from None
    try:
        text = raw.decode("utf-8-sig")
        manifest = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PystageError(
            "EJSONPARSE",
            f"invalid package.json in {Path(pkg_dir)}: {exc}",
            "package.json must be actual JSON, not just JavaScript",
        ) from None
    if not isinstance(manifest, dict):
        raise PystageError(
            "EJSONPARSE",
            f"invalid package.json in {Path(pkg_dir)}: the top level must be an object",
        )
    check_name(manifest.get("name"))
    check_version(manifest.get("version"))
    return manifest


def check_name(name) -> None:
    """validate-npm-package-name's rules for new packages."""
    if name is None or name == "":
        raise PystageError(
            "EINVALIDPACKAGENAME",
            'package.json has no "name"',
            'add a name such as "my-package" or "@scope/my-package"',
        )
    if not isinstance(name, str):
        raise PystageError("EINVALIDPACKAGENAME", "package name must be a string")
    problem = _name_problem(name)
    if problem:
        raise PystageError("EINVALIDPACKAGENAME", f'invalid package name "{name}": {problem}')


def _name_problem(name: str) -> str | None:
    if len(name) > 214:
        return "name can no longer contain more than 214 characters"
    if name != name.strip():
        return "name cannot contain leading or trailing spaces"
    if name.startswith(".") or name.startswith("_"):
        return f"name cannot start with a {name[0]!r}"
    if name.lower() in _BLOCKED_NAMES:
        return f"{name} is not a valid package name"
    if name != name.lower():
        return "name can no longer contain capital letters"
    if re.search(r"[~'!()*]", name.split("/")[-1]):
        return 'name can no longer contain special characters ("~\'!()*")'
    m = _SCOPED.fullmatch(name)
    if not m:
        return "name can only contain URL-friendly characters"
    scope, pkg = m.groups()
    if pkg.startswith(".") or pkg.startswith("_"):
        return f"name cannot start with a {pkg[0]!r}"
    from urllib.parse import quote

    for part in filter(None, (scope, pkg)):
        if quote(part, safe="!'()*~") != part:
            return "name can only contain URL-friendly characters"
    return None


def check_version(version) -> None:
    if version is None or version == "":
        raise PystageError(
            "EBADSEMVER", 'package.json has no "version"', 'add a version such as "1.0.0"'
        )
    if not isinstance(version, str) or not _SEMVER.fullmatch(version):
        hint = 'use a semantic version such as "1.0.0"'
        if isinstance(version, str) and version.strip() != version:
            hint = "remove the spaces or line breaks around the version"
        raise PystageError("EBADSEMVER", f"invalid version {version!r} in package.json", hint)


def tarball_filename(name: str, version: str) -> str:
    """npm's name for the .tgz: "@scope/pkg" -> "scope-pkg-<version>.tgz"."""
    return f"{name.replace('@', '', 1).replace('/', '-', 1)}-{version}.tgz"


def normalize_for_pack(manifest: dict, pkg_dir) -> dict:
    """The steps of @npmcli/package-json's normalize that change what gets packed."""
    data = dict(manifest)
    if data.get("bundleDependencies") is None and data.get("bundledDependencies") is not None:
        data["bundleDependencies"] = data["bundledDependencies"]
    data.pop("bundledDependencies", None)
    bd = data.get("bundleDependencies")
    if bd is False:
        data["bundleDependencies"] = []
    elif bd is True:
        data["bundleDependencies"] = list((data.get("dependencies") or {}).keys())
    elif isinstance(bd, dict):
        data["bundleDependencies"] = list(bd.keys())
    elif "bundleDependencies" in data and not isinstance(bd, list):
        del data["bundleDependencies"]

    directories = data.get("directories")
    bin_dir = directories.get("bin") if isinstance(directories, dict) else None
    if bin_dir and not data.get("bin"):
        data["bin"] = _bins_from_directory(Path(pkg_dir), bin_dir)
    else:
        _normalize_bin(data)
    return data


def _rooted(path: str) -> str:
    """Node's path.join('/', path): normalized, '..' cannot climb above the root."""
    return "/" + posixpath.normpath("/" + path).lstrip("/")


def _secure_path(ref: str) -> str:
    secured = _rooted(ref.replace("\\", "/"))[1:]
    return secured or ""


def _bins_from_directory(pkg_dir: Path, bin_dir: str) -> dict:
    bin_path = _secure_path(str(bin_dir))
    bins: dict[str, str] = {}
    root = pkg_dir / bin_path
    if not root.is_dir():
        return bins
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel_dir = os.path.relpath(dirpath, root)
        for name in dirnames + [f for f in filenames if not f.startswith(".")]:
            found.append(name if rel_dir == "." else f"{rel_dir}/{name}")
    for rel in found:
        bins[posixpath.basename(rel)] = f"{bin_path}/{rel}"
    return bins


def _normalize_bin(data: dict) -> None:
    """npm-normalize-package-bin: a string or array becomes {name: path}, paths made safe."""
    bin_ = data.get("bin")
    if not bin_:
        data.pop("bin", None)
        return
    if isinstance(bin_, str):
        if not data.get("name"):
            data.pop("bin", None)
            return
        bin_ = {data["name"]: bin_}
    elif isinstance(bin_, list):
        bin_ = {posixpath.basename(str(k)): k for k in bin_}
    elif not isinstance(bin_, dict):
        data.pop("bin", None)
        return
    clean = {}
    for key, target in bin_.items():
        base = _rooted(posixpath.basename(re.sub(r"[\\:]", "/", key)))[1:]
        if not isinstance(target, str) or not base:
            continue
        target_path = _rooted(target.replace("\\", "/"))[1:]
        if not target_path:
            continue
        clean[base] = target_path
    if clean:
        data["bin"] = clean
    else:
        data.pop("bin", None)
