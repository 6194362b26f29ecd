"""Storage faults (a full disk, a read-only or vanished volume) as answers a client can use.

A write that meets a fault fails as a whole: every operation is one SQLite
transaction, tarballs are renamed into place before the row that names them is
committed and set aside before the row that names them is deleted (``blobs``),
so the answer can say truthfully that nothing was changed. The client gets 507
for a full disk and 503 for storage it cannot write or read; the server's log
gets one line naming the path and the cause (never a traceback).
"""

from __future__ import annotations

import errno
import sqlite3
import sys
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pystage.registry.config import RegistryConfig

_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READ_ONLY = {errno.EROFS}
_DENIED = {errno.EACCES, errno.EPERM}
_BROKEN = {errno.EIO, errno.ENOENT, errno.ESTALE, errno.ENOTDIR}


class StorageUnusable(Exception):
    """The storage directory cannot serve a registry (raised at start-up)."""

    def __init__(self, code: str, path: object, cause: str) -> None:
        super().__init__(f"cannot use storage {path}: {cause}")
        self.code = code
        self.path = path
        self.cause = cause


def describe(exc: BaseException, db_path: object) -> tuple[int, str, str, object] | None:
    """(HTTP status, npm-style code, cause in words, path) for a storage fault, or None
    when ``exc`` is not one (a bug stays a 500 with its traceback)."""
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        if name == "SQLITE_FULL":
            return 507, "ENOSPC", "the disk is full", db_path
        if name.startswith("SQLITE_READONLY"):
            return 503, "EROFS", "the database is read-only", db_path
        if name.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_CORRUPT", "SQLITE_NOTADB")):
            return 503, "EIO", f"the database cannot be used ({exc})", db_path
        if "readonly" in str(exc) or "read-only" in str(exc):
            return 503, "EROFS", "the database is read-only", db_path
        return None
    if isinstance(exc, OSError) and not isinstance(exc, ConnectionError):
        path = exc.filename or "the storage directory"
        if exc.errno in _FULL:
            return 507, "ENOSPC", "the disk is full", path
        if exc.errno in _READ_ONLY:
            return 503, "EROFS", "the file system is read-only", path
        if exc.errno in _DENIED:
            return 503, "EACCES", f"permission denied ({exc.strerror})", path
        if exc.errno in _BROKEN:
            return 503, "EIO", exc.strerror or str(exc), path
    return None


def startup_fault(exc: BaseException, storage: Path, db_path: object) -> StorageUnusable:
    """One line for ``pystage registry serve``: the storage directory and the cause."""
    found = describe(exc, db_path)
    if found is None:
        return StorageUnusable("EIO", storage, str(exc) or type(exc).__name__)
    _, code, cause, path = found
    shown = Path(str(path))
    if shown != storage and not shown.name.startswith(".probe-"):
        cause = f"{shown}: {cause}"
    return StorageUnusable(code, storage, cause)


def storage_fault_handlers(config: RegistryConfig, crash) -> dict:
    """Exception handlers for the app; ``crash`` answers what is not a storage fault."""

    async def handle(request: Request, exc: Exception) -> Response:
        found = describe(exc, config.db_path)
        if found is None:
            return await crash(request, exc)
        status, code, cause, path = found
        if path == "the storage directory":
            path = config.storage
        writes = request.method not in ("GET", "HEAD")
        outcome = "nothing was changed" if writes else "the request was not answered"
        print(
            f"pystage registry: storage fault on {request.method} {request.url.path}: "
            f"{path}: {cause} ({type(exc).__name__}: {exc}); {outcome}",
            file=sys.stderr,
            flush=True,
        )
        message = f"the registry's storage failed: {cause}; {outcome}"
        if status == 507:
            message += " (the registry's disk is full: ask its administrator to free space)"
        return JSONResponse({"error": message, "code": code}, status_code=status)

    return {OSError: handle, sqlite3.Error: handle}
