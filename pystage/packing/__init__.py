"""Packing a package directory exactly as ``npm pack`` does.

``pack()`` runs the pack lifecycle scripts, picks the files (``packlist``),
writes the tar stream (``tarball``) gzipped to ``<destination>/<filename>``
atomically, and reports what it wrote in the shape of ``npm pack --json``.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pystage.errors import PystageError
from pystage.packing.manifest import normalize_for_pack, read_manifest, tarball_filename
from pystage.packing.packlist import packlist
from pystage.packing.scripts import run_script
from pystage.packing.tarball import TarEntry, compress_to, tar_stream

__all__ = [
    "PackResult",
    "PackedFile",
    "TarballSummary",
    "pack",
    "read_manifest",
    "run_script",
    "packlist",
    "contents_order",
]

PackedFile = TarEntry


@dataclass
class TarballSummary:
    """What npm reports of a tarball (``getContents``): the ``--json`` element and
    the "Tarball Contents" report, whether pystage just packed it or read it."""

    name: str
    version: str
    manifest: dict = field(repr=False)
    filename: str
    files: list[PackedFile]  # in npm's listing order (contents_order)
    size: int
    unpacked_size: int
    shasum: str
    integrity: str
    bundled: list[str] = field(default_factory=list)
    entry_count: int = 0

    @property
    def id(self) -> str:
        return self.manifest.get("_id") or f"{self.name}@{self.version}"

    def to_npm_json(self) -> dict:
        """One element of ``npm pack --json``'s array, in npm's key order."""
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "size": self.size,
            "unpackedSize": self.unpacked_size,
            "shasum": self.shasum,
            "integrity": self.integrity,
            "filename": self.filename,
            "files": [{"path": f.path, "size": f.size, "mode": f.mode} for f in self.files],
            "entryCount": self.entry_count,
            "bundled": list(self.bundled),
        }


@dataclass
class PackResult(TarballSummary):
    path: Path | None = None  # None for a dry run


def contents_order(files: list[PackedFile]) -> list[PackedFile]:
    """npm's listing order: names starting with an "upper" character first, each group
    in localeCompare order (numeric, case-sensitive)."""
    from pystage.packing.collate import key_for

    def is_upper(path: str) -> bool:
        return path[:1] == path[:1].upper()

    sort_key = key_for([f.path for f in files])
    key = lambda f: sort_key(f.path, True, True)  # noqa: E731
    uppers = sorted((f for f in files if is_upper(f.path)), key=key)
    others = sorted((f for f in files if not is_upper(f.path)), key=key)
    return uppers + others


def _bundled_names(entries: Iterable[PackedFile]) -> list[str]:
    names: list[str] = []
    for e in entries:
        if e.path.startswith("node_modules/") and e.path != "node_modules/":
            parts = e.path.split("/")
            name = "/".join(parts[1:3]) if parts[1].startswith("@") else parts[1]
            if name not in names:
                names.append(name)
    return names


def pack(
    pkg_dir,
    destination=None,
    *,
    dry_run: bool = False,
    ignore_scripts: bool = False,
    events: tuple[str, ...] = ("prepack", "prepare", "postpack"),
    on_progress: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    script_stdout=None,
    command: str = "pack",
    workspaces: tuple[str, ...] = (),
    workspace_root: str | None = None,
) -> PackResult:
    """Pack ``pkg_dir`` into ``destination`` (default: the current directory).

    ``events`` names the lifecycle scripts to run, in order; those before the
    tarball is made are every event except ``postpack``, which runs after it
    is written (npm's order). ``dry_run`` builds and measures the tarball
    without writing it. ``command`` is what scripts see as ``$npm_command``
    ("publish" when packing for a publish); ``script_stdout`` redirects their
    standard output (a file object or descriptor). ``on_warning`` gets npm's pack
    warnings as "<code> <message>" (gitignore-fallback).
    """
    pkg_dir = Path(pkg_dir).resolve()
    if not pkg_dir.is_dir():
        raise PystageError("ENOENT", f"no such package directory: {pkg_dir}")
    manifest = read_manifest(pkg_dir)
    name, version = manifest["name"], manifest["version"]
    filename = tarball_filename(name, version)
    dest_dir = Path(destination or os.getcwd()).resolve()
    if not dry_run:
        _check_destination(dest_dir)

    before = [e for e in events if e != "postpack"]
    if not ignore_scripts:
        for event in before:
            env = {"npm_package_resolved": str(pkg_dir)} if event == "prepare" else None
            run_script(
                pkg_dir, event, manifest, extra_env=env, stdout=script_stdout, command=command
            )

    # scripts may have rewritten package.json: the walk reads it afresh, as pacote does
    fresh = read_manifest(pkg_dir) if not ignore_scripts and before else manifest
    normalized = normalize_for_pack(fresh, pkg_dir)
    if on_progress:
        on_progress("listing files")
    warnings: list[str] = []
    files = packlist(
        pkg_dir, normalized, _extra_rules(pkg_dir, workspaces, workspace_root), warnings
    )
    if on_warning:
        for warning in warnings:
            on_warning(warning)
    entries: list[PackedFile] = []
    stream = tar_stream(pkg_dir, files, normalized, entries)
    if on_progress:
        on_progress(f"packing {len(files)} files")
    path = None
    if dry_run:
        compressed = compress_to(stream, None)
    else:
        path = dest_dir / filename
        compressed = _write_atomically(path, stream)

    integrity = "sha512-" + base64.b64encode(compressed.sha512).decode("ascii")
    if not ignore_scripts and "postpack" in events:
        run_script(
            pkg_dir,
            "postpack",
            manifest,
            stdout=script_stdout,
            command=command,
            extra_env={
                "npm_package_from": str(pkg_dir),
                "npm_package_resolved": str(pkg_dir),
                "npm_package_integrity": integrity,
            },
        )

    return PackResult(
        name=name,
        version=version,
        manifest=manifest,
        filename=filename,
        path=path,
        files=contents_order(entries),
        size=compressed.size,
        unpacked_size=sum(e.size for e in entries),
        shasum=compressed.sha1,
        integrity=integrity,
        bundled=_bundled_names(entries),
        entry_count=len(entries),
    )


def _extra_rules(pkg_dir: Path, workspaces: tuple[str, ...], root: str | None) -> list[str]:
    """npm-packlist's additional default rules. Packing with the selected ``workspaces``
    (``publish --workspaces``): the root leaves the workspaces' directories out, and a
    workspace gets the ignore files between the root and itself. Otherwise npm's
    implicit workspace, found from the current directory."""
    from pystage.packing.workspace import out_of_tree_ignore_texts

    if workspaces and root:
        real = os.path.realpath
        if real(pkg_dir) == real(root):
            rels = [
                os.path.relpath(w, pkg_dir).replace(os.sep, "/")
                for w in workspaces
                if real(w) != real(pkg_dir)
            ]
            return ["\n".join(rels)]
        if any(real(w) == real(pkg_dir) for w in workspaces):
            return out_of_tree_ignore_texts(str(pkg_dir), cwd=str(pkg_dir))
    return out_of_tree_ignore_texts(str(pkg_dir))


def _check_destination(dest_dir: Path) -> None:
    if not dest_dir.exists():
        raise PystageError("ENOENT", f"pack destination does not exist: {dest_dir}")
    if not dest_dir.is_dir():
        raise PystageError("ENOTDIR", f"pack destination is not a directory: {dest_dir}")
    if not os.access(dest_dir, os.W_OK | os.X_OK):
        raise PystageError("EACCES", f"pack destination is not writable: {dest_dir}")


def _write_atomically(path: Path, stream):
    """Write to a temporary file beside ``path``, then rename: never a partial .tgz."""
    # The name is chosen before the file exists, so an interrupt at any point
    # after creation lands in the cleanup below.
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        with open(tmp, "xb") as out:
            compressed = compress_to(stream, out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, PermissionError):
            raise PystageError(
                "EACCES", f"pack destination is not writable: {path.parent}"
            ) from None
        if isinstance(exc, OSError) and not isinstance(exc, PystageError):
            raise PystageError("EIO", f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    return compressed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
