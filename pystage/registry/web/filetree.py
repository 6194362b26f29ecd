"""The files of a staged tarball, with sizes, modes and SHA-512 hashes, as a tree.

The tarball is read as a stream (``tarfile`` mode ``r|gz``): never extracted, never
held whole in memory. A hostile tarball is data: path names are kept as they are
(the page escapes them), and reading stops at ``MAX_ENTRIES`` entries or
``MAX_BYTES`` of content, saying so, so a decompression bomb costs bounded time.
"""

from __future__ import annotations

import hashlib
import tarfile
import zlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO

MAX_ENTRIES = 20_000
MAX_BYTES = 1 << 30
CHUNK = 1 << 20

_KINDS = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
}


@dataclass
class Entry:
    path: str  # inside the package: the tarball's first folder (package/) taken off
    kind: str  # file, dir, symlink, hardlink, other
    size: int
    mode: int
    sha512: str | None = None  # hex, files only
    target: str | None = None  # links only


@dataclass
class FileTree:
    entries: list[Entry] = field(default_factory=list)
    problem: str | None = None  # why reading stopped early, if it did

    @property
    def total_size(self) -> int:
        return sum(e.size for e in self.entries if e.kind == "file")

    def rows(self) -> list[dict]:
        """Directories (with the total size under them) and entries, parents first,
        each with its depth, for an indented table."""
        dirs: dict[str, int] = {}
        for e in self.entries:
            parts = e.path.split("/")
            for depth in range(1, len(parts)):
                prefix = "/".join(parts[:depth])
                dirs[prefix] = dirs.get(prefix, 0) + (e.size if e.kind == "file" else 0)
        rows: list[dict[str, Any]] = [
            {"path": p, "kind": "dir", "size": size, "mode": None, "sha512": None, "target": None}
            for p, size in dirs.items()
        ]
        seen_dirs = set(dirs)
        for e in self.entries:
            if e.kind == "dir" and e.path in seen_dirs:
                continue
            rows.append(
                {
                    "path": e.path,
                    "kind": e.kind,
                    "size": e.size,
                    "mode": e.mode,
                    "sha512": e.sha512,
                    "target": e.target,
                }
            )
        rows.sort(key=lambda r: r["path"].split("/"))
        for r in rows:
            parts = r["path"].split("/")
            r["depth"] = len(parts) - 1
            r["name"] = parts[-1] or r["path"]
        return rows


def _printable(name: str) -> str:
    """Names are decoded with surrogateescape; undecodable bytes become U+FFFD so the
    page can always be encoded as UTF-8."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_tree(stream: BinaryIO) -> FileTree:
    tree = FileTree()
    budget = MAX_BYTES
    try:
        with tarfile.open(fileobj=stream, mode="r|gz") as tar:
            for member in tar:
                if len(tree.entries) >= MAX_ENTRIES:
                    tree.problem = f"more than {MAX_ENTRIES} entries: the rest is not listed"
                    break
                kind = _KINDS.get(member.type, "other")
                entry = Entry(_printable(member.name), kind, member.size, member.mode)
                if kind in ("symlink", "hardlink"):
                    entry.target = _printable(member.linkname)
                if kind == "file":
                    if member.size > budget:
                        tree.entries.append(entry)
                        tree.problem = (
                            f"{entry.path}: over {MAX_BYTES >> 20} MiB of content in all: "
                            "the rest is not hashed"
                        )
                        break
                    budget -= member.size
                    entry.sha512 = _hash(tar.extractfile(member))
                tree.entries.append(entry)
    except (tarfile.TarError, zlib.error, EOFError, OSError) as exc:
        tree.problem = f"the tarball could not be read to the end: {exc or type(exc).__name__}"
    _strip_top_folder(tree.entries)
    return tree


def _hash(handle) -> str:
    digest = hashlib.sha512()
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _strip_top_folder(entries: list[Entry]) -> None:
    """npm packs everything under one folder (``package/``); the page shows paths
    inside it, as npm does. Any other shape is shown as it is."""
    tops = {e.path.split("/", 1)[0] for e in entries}
    if len(tops) != 1 or not all("/" in e.path or e.kind == "dir" for e in entries):
        return
    top = tops.pop() + "/"
    kept = []
    for e in entries:
        if e.path.rstrip("/") + "/" == top:
            continue  # the top folder's own entry
        e.path = e.path[len(top) :].rstrip("/")
        kept.append(e)
    entries[:] = kept
