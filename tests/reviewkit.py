"""Tarballs for the review tests, built in memory: npm-shaped ones, and hostile ones
(traversal, links, devices, bombs, corrupt or cut-short gzip)."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zlib

MTIME = 499162500


def tarball(files: dict, manifest: dict | None = None, *, name="pkg", version="1.0.0") -> bytes:
    """``files``: path -> str/bytes (a file), ``{"data": ..., "mode": 0o755}`` (a file with
    that mode), or a TarInfo-building dict ``{"type": tarfile.SYMTYPE, "link": "..."}``;
    paths are put under ``package/`` unless they start with ``@raw:``. ``manifest`` None:
    package.json from name/version; False: none added (``files`` may hold its own)."""
    raw = io.BytesIO()
    entries = dict(files)
    if manifest is not False:
        pj = {"name": name, "version": version, **(manifest or {})}
        entries = {"package.json": json.dumps(pj, indent=2) + "\n", **entries}
    # gzip's own header carries a time: fixed, so the same files give the same bytes
    with (
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path, value in entries.items():
            arcname = path[5:] if path.startswith("@raw:") else "package/" + path
            info = tarfile.TarInfo(arcname)
            info.mtime = MTIME
            mode = 0o755 if path.startswith("bin/") else 0o644
            if isinstance(value, dict) and "data" in value:
                value, mode = value["data"], value.get("mode", mode)
            if isinstance(value, dict):
                info.type = value["type"]
                info.linkname = value.get("link", "")
                info.mode = value.get("mode", 0o644)
                tar.addfile(info)
                continue
            data = value.encode() if isinstance(value, str) else value
            info.size = len(data)
            info.mode = mode
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def gzip_stream_of_zeros(total: int, piece: int = 1024 * 1024):
    """A gzip stream of one tar file entry of ``total`` zero bytes, made lazily: a bomb
    whose compressed form is never held whole."""
    header = tarfile.TarInfo("package/bomb.bin")
    header.size = total
    header.mtime = MTIME
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    yield comp.compress(header.tobuf(format=tarfile.USTAR_FORMAT))
    zeros = bytes(piece)
    left = total
    while left > 0:
        n = min(piece, left)
        out = comp.compress(zeros[:n])
        left -= n
        if out:
            yield out
    yield comp.flush()


def chunked(data: bytes, size: int = 7919):
    """Bytes handed out in odd-sized pieces, as a socket does."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


def files_of(tgz: bytes) -> dict:
    """A real npm tarball's regular files, in archive order, as ``tarball()`` takes them
    (path under ``package/`` -> ``{"data", "mode"}``); package.json included."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        for info in tar:
            if not info.isfile():
                continue
            path = info.name.split("/", 1)[1]
            out[path] = {"data": tar.extractfile(info).read(), "mode": info.mode & 0o7777}
    return out


def repack(
    tgz: bytes,
    *,
    version: str | None = None,
    manifest: dict | None = None,
    files: dict | None = None,
    remove=(),
    append: dict | None = None,
) -> bytes:
    """A new release made from a real tarball: ``manifest`` fields set (None as a value
    deletes the field), ``files`` added or replaced, ``remove`` paths dropped, ``append``
    text appended to existing files; every other file byte for byte, mode kept."""
    entries = files_of(tgz)
    pj = json.loads(entries["package.json"]["data"])
    if version is not None:
        pj["version"] = version
    for key, value in (manifest or {}).items():
        if value is None:
            pj.pop(key, None)
        else:
            pj[key] = value
    entries["package.json"]["data"] = (json.dumps(pj, indent=2) + "\n").encode()
    for path in remove:
        entries.pop(path)
    for path, extra in (append or {}).items():
        data = entries[path]["data"]
        extra = extra.encode() if isinstance(extra, str) else extra
        entries[path]["data"] = data + (b"" if data.endswith(b"\n") else b"\n") + extra
    for path, value in (files or {}).items():
        entries[path] = value
    return tarball(entries, manifest=False)
