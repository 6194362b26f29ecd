"""Tarball files of the registry.

Each stored tarball gets a fresh random file name. A tarball is written to a
temp file, fsynced, and renamed into ``tarballs/`` (directory fsynced too)
before any database row refers to it, so a committed row always points at a
complete file. Before the row naming a tarball is deleted, the file is renamed
aside (``set_aside``): on storage that cannot change, that rename fails and the
deletion is not committed either; after the commit the file is unlinked, and if
that fails it is only logged. A crash can leave a file no row refers to;
``collect_garbage`` removes those at start-up.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import sys
from pathlib import Path

ASIDE = ".removed"


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
        """Best effort (after a commit, or undoing an adopt): a failure is logged and the
        file, which no row names, is collected at the next start."""
        try:
            os.unlink(self.dir / name)
        except FileNotFoundError:
            pass
        except OSError as exc:
            print(
                f"pystage registry: could not remove {self.dir / name}: {exc.strerror}; "
                "it is removed at the next start",
                file=sys.stderr,
                flush=True,
            )

    def set_aside(self, name: str) -> str:
        """Rename a tarball to a name no row refers to; raises (nothing changed) when the
        storage cannot change. ``restore`` undoes it, ``remove`` finishes it."""
        aside = name + ASIDE
        try:
            os.replace(self.dir / name, self.dir / aside)
        except FileNotFoundError:
            return aside  # already gone (lost before): nothing to keep
        return aside

    def restore(self, aside: str, name: str) -> None:
        try:
            os.replace(self.dir / aside, self.dir / name)
        except FileNotFoundError:
            pass
        except OSError as exc:
            print(
                f"pystage registry: could not restore {self.dir / name}: {exc.strerror}",
                file=sys.stderr,
                flush=True,
            )

    def probe(self) -> None:
        """Raise when the tarball or temp directory cannot take a new file."""
        probe_directory(self.tmp_dir)
        probe_directory(self.dir)

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


@contextlib.contextmanager
def naming(path: object):
    """Let an OSError from writing an open file name that file (the log needs a path)."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise


def probe_directory(directory: Path) -> None:
    """Create and remove a file in ``directory``: raises OSError when it cannot change."""
    probe = directory / f".probe-{secrets.token_hex(4)}"
    probe.touch()
    probe.unlink()


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
