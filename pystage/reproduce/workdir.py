"""Where ``review --source`` gets the source from: a directory as it is, or a git ref of
the repository at the current directory, archived into a temporary directory.

The user's work tree is never changed: a ref is read with ``git archive`` (never
checked out), and a scripted build runs in a temporary copy. Every temporary
directory is removed when the ``with`` block ends, on error and on Ctrl-C too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pystage.errors import PystageError


@dataclass(frozen=True)
class Source:
    """A package directory to rebuild from.

    ``label``: how the report names it (the directory, or "git ref v1.2.0 at 3f2a9c1b2d4e").
    ``tracked``: the package's paths (relative, "/"-separated) that git tracks, when
    known; a build's outputs are the files outside it. ``node_modules``: the dependencies
    a scripted build may use (the work tree's, for a ref). ``temporary``: ``path`` is ours
    to build in (an archive), not the user's directory."""

    path: Path
    label: str
    tracked: frozenset[str] | None = None
    node_modules: Path | None = None
    temporary: bool = False


@contextlib.contextmanager
def open_source(spec: str, cwd: str | os.PathLike | None = None) -> Iterator[Source]:
    """The source ``spec`` names: a directory (relative to ``cwd``), else a git ref of the
    repository at ``cwd``. Raises a PystageError (ENOENT, ENOTDIR, ENOGIT, EUSAGE) with a
    one-line message when it is neither."""
    cwd = Path(cwd or os.getcwd())
    if not spec:
        raise PystageError("EUSAGE", "--source needs a directory or a git ref")
    candidate = Path(spec) if Path(spec).is_absolute() else cwd / spec
    if candidate.is_dir():
        path = candidate.resolve()
        _need_manifest(path, spec)
        yield Source(
            path,
            str(spec),
            tracked=_tracked_in_work_tree(path),
            node_modules=path / "node_modules",
        )
        return
    if candidate.exists():
        raise PystageError(
            "ENOTDIR", f"--source {spec}: not a directory", "pass a checkout or a git ref"
        )
    with _archive_ref(spec, cwd) as source:
        yield source


def _need_manifest(
    path: Path,
    spec: str,
    where: str | None = None,
    hint: str = "pass the package's directory (or run from it when --source is a git ref)",
) -> None:
    """A package.json with a valid name and version, before anything is downloaded;
    ``where`` names the place in the message (default: ``path``)."""
    from pystage.packing import read_manifest

    if not (path / "package.json").is_file():
        raise PystageError("ENOENT", f"--source {spec}: no package.json in {where or path}", hint)
    read_manifest(path)


# -- git --------------------------------------------------------------------------------
# A checkout's own .git/config can name commands git runs as it reads the index
# (core.fsmonitor: `git ls-files` runs it) or at its hooks: a source handed to the
# reviewer must not run code through them, no more than through its package scripts.
_NO_REPO_COMMANDS = ("-c", "core.fsmonitor=false", "-c", f"core.hooksPath={os.devnull}")


def _git(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        return subprocess.run(
            ["git", *_NO_REPO_COMMANDS, *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
            **kwargs,
        )
    except FileNotFoundError:
        raise PystageError(
            "ENOGIT", "--source names no directory and git is not installed to read a ref"
        ) from None


def _tracked_in_work_tree(path: Path) -> frozenset[str] | None:
    """Paths under ``path`` git tracks (None: not a git work tree, or no git)."""
    try:
        proc = _git(["ls-files", "-z", "--cached", "--", "."], path, capture_output=True)
    except PystageError:
        return None
    if proc.returncode != 0:
        return None
    # ls-files prints paths relative to the directory it runs in
    return frozenset(p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p)


@contextlib.contextmanager
def _archive_ref(spec: str, cwd: Path) -> Iterator[Source]:
    if spec.startswith("-"):
        # never let a ref be read as one of git's options
        raise PystageError("EUSAGE", f"--source {spec}: not a directory, nor a git ref")
    top = _git(["rev-parse", "--show-toplevel", "--show-prefix"], cwd, capture_output=True)
    if top.returncode != 0:
        raise PystageError(
            "ENOENT",
            f"--source {spec}: no such directory, and {cwd} is not in a git repository "
            "(so it is no git ref either)",
        )
    lines = top.stdout.decode("utf-8", "surrogateescape").splitlines()
    toplevel = Path(lines[0])
    prefix = lines[1].strip("/") if len(lines) > 1 else ""
    commit = _git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{spec}^{{commit}}"],
        toplevel,
        capture_output=True,
    )
    if commit.returncode != 0 or not commit.stdout.strip():
        raise PystageError(
            "ENOENT",
            f"--source {spec}: no such directory, and no such git ref in {toplevel}",
            "pass a checkout, or a tag, branch or commit of this repository",
        )
    sha = commit.stdout.decode("ascii").strip()
    tmp = tempfile.mkdtemp(prefix="pystage-source-")
    try:
        paths = _paths_to_archive(sha, toplevel, prefix)
        files = _extract_archive(sha, toplevel, Path(tmp, "tree"), paths)
        package = Path(tmp, "tree", *prefix.split("/")) if prefix else Path(tmp, "tree")
        _need_manifest(
            package,
            spec,
            f"{prefix}/ at {spec}" if prefix else f"the top of {spec}",
            "run from the package's directory in the repository",
        )
        strip = prefix + "/" if prefix else ""
        tracked = frozenset(f[len(strip) :] for f in files if f.startswith(strip))
        yield Source(
            package,
            f"git ref {spec} at {sha[:12]}",
            tracked=tracked,
            node_modules=cwd / "node_modules",
            temporary=True,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _paths_to_archive(sha: str, toplevel: Path, prefix: str) -> list[str]:
    """What packing the package at ``prefix`` reads: its own directory, and above it the
    package.json (npm's workspace root) and ignore files of each ancestor directory,
    which npm applies to a workspace. Not the rest of a large monorepo. [] : everything."""
    if not prefix:
        return []
    parts = prefix.split("/")
    candidates = [
        "/".join([*parts[:depth], name])
        for depth in range(len(parts))
        for name in ("package.json", ".npmignore", ".gitignore")
    ]
    listed = _git(
        ["--literal-pathspecs", "ls-tree", "-z", "--name-only", sha, "--", *candidates],
        toplevel,
        capture_output=True,
    )
    found = [p for p in listed.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
    return [prefix, *found]


def _extract_archive(sha: str, toplevel: Path, dest: Path, paths: list[str]) -> list[str]:
    """``git archive`` of the commit (of ``paths`` in it, when given), streamed into
    ``dest`` through tarfile's ``data`` filter (nothing lands outside it; links that
    would are skipped). Returns the paths of the regular files it held."""
    dest.mkdir(parents=True)
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.Popen(
            ["git", *_NO_REPO_COMMANDS, "--literal-pathspecs", "archive", "--format=tar", sha]
            + ["--", *paths],
            cwd=toplevel,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError:
        raise PystageError("ENOGIT", "git is not installed to read a ref") from None
    files: list[str] = []

    def keep(member: tarfile.TarInfo, path: str):
        try:
            member = _data_filter(member, path)
        except tarfile.TarError:
            return None  # a link out of the tree: npm would not pack it anyway
        if member.isfile():
            files.append(member.name)
        return member

    stdout, stderr = proc.stdout, proc.stderr
    assert stdout is not None and stderr is not None  # both are pipes
    try:
        with tarfile.open(fileobj=stdout, mode="r|") as archive:
            for member in archive:
                kept = keep(member, str(dest))
                if kept is not None:
                    archive.extract(kept, dest, set_attrs=True, **_NO_FILTER)
    except (tarfile.TarError, OSError) as exc:
        proc.kill()
        raise PystageError("EGIT", f"git archive {sha[:12]} could not be read: {exc}") from None
    finally:
        stdout.close()
        err = stderr.read()
        stderr.close()
        proc.wait()
    if proc.returncode != 0:
        message = err.decode("utf-8", "replace").strip().splitlines()
        raise PystageError(
            "EGIT", f"git archive {sha[:12]} failed: {message[-1] if message else proc.returncode}"
        )
    return files


# tarfile's "data" filter (Python 3.10.12+, 3.11.4+); on an older Python, the same checks
# for what git archive can hold: regular files, directories and symlinks inside the tree
_NO_FILTER: dict = {"filter": "fully_trusted"} if hasattr(tarfile, "data_filter") else {}


def _data_filter(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
    if hasattr(tarfile, "data_filter"):
        return tarfile.data_filter(member, dest)
    name = member.name
    inside = os.path.realpath(dest)

    def within(path: str) -> bool:
        return os.path.commonpath([inside, os.path.realpath(path)]) == inside

    if name.startswith("/") or not within(os.path.join(dest, name)):
        raise tarfile.TarError(f"{name!r} would land outside the tree")
    if member.issym():
        if member.linkname.startswith("/") or not within(
            os.path.join(dest, os.path.dirname(name), member.linkname)
        ):
            raise tarfile.TarError(f"{name!r} links outside the tree")
    elif not (member.isfile() or member.isdir()):
        raise tarfile.TarError(f"{name!r} is neither a file, a directory nor a symlink")
    member.mode = member.mode & 0o755 if member.mode is not None else None
    return member


# -- a copy to build in ------------------------------------------------------------------
@contextlib.contextmanager
def copy_for_build(source: Source, bundles: bool) -> Iterator[Path]:
    """A directory the package's scripts may write to. A ref's archive is already
    temporary; a directory is copied (without .git). node_modules is linked to the
    dependencies so a build finds its tools, and copied instead when the package bundles
    dependencies (packing then reads them as files of the package)."""
    if source.temporary:
        _link_dependencies(source.node_modules, source.path, bundles)
        yield source.path
        return
    tmp = tempfile.mkdtemp(prefix="pystage-build-")
    try:
        target = Path(tmp, "package")
        shutil.copytree(
            source.path,
            target,
            symlinks=True,
            ignore=shutil.ignore_patterns(".git") if bundles else _no_git_no_deps(source.path),
        )
        if not bundles:
            _link_dependencies(source.node_modules, target, bundles=False)
        yield target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _no_git_no_deps(root: Path):
    def ignore(directory: str, names: list[str]) -> list[str]:
        skipped = [".git"] if ".git" in names else []
        if Path(directory) == root and "node_modules" in names:
            skipped.append("node_modules")
        return skipped

    return ignore


def _link_dependencies(node_modules: Path | None, package: Path, bundles: bool) -> None:
    if node_modules is None or not node_modules.is_dir() or (package / "node_modules").exists():
        return
    if bundles:
        shutil.copytree(node_modules, package / "node_modules", symlinks=True)
    else:
        os.symlink(node_modules, package / "node_modules", target_is_directory=True)
