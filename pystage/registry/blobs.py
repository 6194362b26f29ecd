"""Tarball files of the registry.

Each stored tarball gets a fresh random file name. A tarball is written to a
temp file, fsynced, and renamed into ``tarballs/`` (directory fsynced too)
before any database row refers to it, so a committed row always points at a
complete file. A crash can leave a file no row refers to; ``collect_garbage``
removes those at start-up.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path


class BlobStore:
    def __init__(self, tarball_dir: Path, tmp_dir: Path) -> None:
        self.dir = tarball_dir
        self.tmp_dir = tmp_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def adopt(self, temp_path: str) -> str:
        """Move an fsynced temp file into the store; return its blob name."""
        name = secrets.token_hex(16) + ".tgz"
        os.replace(temp_path, self.dir / name)
        _fsync_dir(self.dir)
        return name

    def path(self, name: str) -> Path:
        return self.dir / name

    def remove(self, name: str) -> None:
        try:
            os.unlink(self.dir / name)
        except FileNotFoundError:
            pass

    def collect_garbage(self, conn: sqlite3.Connection) -> int:
        """Delete temp files and tarballs no row refers to. Only before serving."""
        for leftover in self.tmp_dir.iterdir():
            leftover.unlink(missing_ok=True)
        referenced = {
            row[0]
            for row in conn.execute("SELECT tarball FROM versions UNION SELECT tarball FROM stages")
        }
        removed = 0
        for blob in self.dir.iterdir():
            if blob.name not in referenced:
                blob.unlink(missing_ok=True)
                removed += 1
        return removed


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
