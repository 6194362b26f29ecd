"""The tarball, byte for byte as node-tar 7 writes it for npm (``portable``,
fixed mtime, ``package/`` prefix), then gzip as Node's zlib frames it.

``tar_stream`` yields the uncompressed tar in chunks; ``compress_to`` gzips any
chunk iterator into a binary file while hashing what it writes. They are kept
apart so the compression can be swapped (e.g. for a parallel one).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat as statmod
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pystage.errors import PystageError

# 1985-10-26T08:15:00Z: npm's fixed date, which zip tools do not choke on
NPM_MTIME = 499162500
PREFIX = "package/"
CHUNK = 1 << 20
_MAXNUM = {12: 0o77777777777, 8: 0o7777777}


@dataclass
class TarEntry:
    """One entry as written: what `npm pack --json` reports in ``files``."""

    path: str  # without the "package/" prefix
    size: int
    mode: int


# -- JavaScript string semantics (node-tar measures with UTF-16 lengths) -----


def _js_len(s: str) -> int:
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def _js_slice(s: str, n: int) -> str:
    return s.encode("utf-16-le", "surrogatepass")[: 2 * n].decode("utf-16-le", "surrogatepass")


def _utf8(s: str) -> bytes:
    # Node's Buffer turns lone surrogates into U+FFFD
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode("utf-8")


def _write_str(buf: bytearray, off: int, size: int, s: str | None) -> bool:
    """node-tar's encString: write whole UTF-8 characters that fit; True if pax is needed."""
    if s is None:
        return False
    data = _utf8(s)
    if len(data) > size:
        cut = size
        while cut > 0 and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        data = data[:cut]
    buf[off : off + len(data)] = data
    return _js_len(s) != len(_utf8(s)) or _js_len(s) > size


def _write_num(buf: bytearray, off: int, size: int, num: int | None) -> bool:
    if num is None:
        return False
    if num > _MAXNUM[size] or num < 0:
        if num < 0:
            raise PystageError("EINVAL", "negative number in a tar header")
        buf[off] = 0x80
        buf[off + 1 : off + size] = num.to_bytes(size - 1, "big")
        return True
    digits = format(int(num), "o")
    text = digits + "\0" if len(digits) == size - 1 else digits.rjust(size - 2, "0") + " \0"
    buf[off : off + size] = text.encode("ascii")
    return False


def _split_prefix(p: str, prefix_size: int):
    path_size = 100
    if len(_utf8(p)) < path_size:
        return p, "", False
    prefix, pp = posixpath.dirname(p), posixpath.basename(p)
    root = "."
    while True:
        if len(_utf8(pp)) <= path_size and len(_utf8(prefix)) <= prefix_size:
            return pp, prefix, False
        if len(_utf8(pp)) > path_size and len(_utf8(prefix)) <= prefix_size:
            return _js_slice(pp, path_size - 1), prefix, True
        pp = posixpath.join(posixpath.basename(prefix), pp)
        prefix = posixpath.dirname(prefix) or "."
        if prefix == root:
            break
    return _js_slice(p, path_size - 1), "", True


def encode_header(
    *,
    path: str,
    mode: int | None,
    size: int,
    mtime: int | None,
    typeflag: str,
    linkpath: str | None = None,
    uname: str | None = None,
    gname: str | None = None,
) -> tuple[bytes, bool]:
    """A 512-byte ustar header as node-tar's Header.encode writes it (no uid/gid/atime/ctime)."""
    buf = bytearray(512)
    name, prefix, need_pax = _split_prefix(path, 155)
    need_pax = _write_str(buf, 0, 100, name) or need_pax
    need_pax = _write_num(buf, 100, 8, mode) or need_pax
    need_pax = _write_num(buf, 124, 12, size) or need_pax
    need_pax = _write_num(buf, 136, 12, mtime) or need_pax
    buf[156] = ord(typeflag)
    need_pax = _write_str(buf, 157, 100, linkpath) or need_pax
    buf[257:265] = b"ustar\x0000"
    need_pax = _write_str(buf, 265, 32, uname) or need_pax
    need_pax = _write_str(buf, 297, 32, gname) or need_pax
    need_pax = _write_num(buf, 329, 8, 0) or need_pax
    need_pax = _write_num(buf, 337, 8, 0) or need_pax
    need_pax = _write_str(buf, 345, 155, prefix) or need_pax
    if buf[475] == 0:
        buf[345:500] = bytes(155)
        need_pax = _write_str(buf, 345, 130, prefix) or need_pax
    checksum = 8 * 0x20 + sum(buf[:148]) + sum(buf[156:])
    _write_num(buf, 148, 8, checksum)
    return bytes(buf), need_pax


def _pax_record(key: str, value) -> str:
    body = f" {key}={value}\n"
    n = len(_utf8(body))
    digits = len(str(n))
    if n + digits >= 10**digits:
        digits += 1
    return f"{digits + n}{body}"


def encode_pax(path: str, size: int, mtime: int, linkpath: str | None = None) -> bytes:
    """The extended header node-tar emits before an entry whose header cannot hold it."""
    body = _pax_record("path", path)
    if linkpath is not None:
        body += _pax_record("linkpath", linkpath)
    body += _pax_record("mtime", mtime) + _pax_record("size", size)
    data = _utf8(body)
    header, _ = encode_header(
        path=_js_slice("PaxHeader/" + posixpath.basename(path), 99),
        mode=0o644,
        size=len(data),
        mtime=mtime,
        typeflag="x",
        linkpath="",
        uname="",
        gname="",
    )
    return header + data + bytes(-len(data) % 512)


def _portable_mode(mode: int) -> int:
    return ((mode & 0o7777) | 0o600) & ~0o22


def is_package_bin(manifest: dict, path: str) -> bool:
    """pacote's check (which strips the first path segment before comparing)."""
    bins = manifest.get("bin")
    if not bins:
        return False
    if isinstance(bins, str):
        bins = {manifest.get("name"): bins}
    stripped = path.split("/", 1)[1] if "/" in path else path
    return any(v == stripped for v in bins.values())


def tar_stream(
    pkg_dir, files: Iterable[str], manifest: dict, entries: list[TarEntry] | None = None
) -> Iterator[bytes]:
    """Yield the uncompressed tar of ``files`` (packlist paths) under ``package/``."""
    cwd = os.path.abspath(str(pkg_dir))
    link_cache: dict[tuple[int, int], str] = {}
    for rel in files:
        absolute = os.path.normpath(os.path.join(cwd, rel))
        try:
            st = os.lstat(absolute)
        except OSError as exc:
            raise PystageError(
                "ENOENT" if isinstance(exc, FileNotFoundError) else "EACCES",
                f"cannot read {absolute}: {exc.strerror}",
            ) from None
        mode = st.st_mode
        if is_package_bin(manifest, rel):
            mode |= 0o111
        entry_path = PREFIX + (rel[2:] if rel.startswith("./") else rel)
        typeflag, size, linkpath = "0", st.st_size, None
        if not statmod.S_ISREG(st.st_mode):
            continue
        if st.st_nlink > 1:
            key = (st.st_dev, st.st_ino)
            target = link_cache.get(key)
            if target is not None and target.startswith(cwd):
                typeflag, size = "1", 0
                linkpath = PREFIX + os.path.relpath(target, cwd).replace(os.sep, "/")
            else:
                link_cache[key] = absolute
        header, need_pax = encode_header(
            path=entry_path,
            mode=_portable_mode(mode),
            size=size,
            mtime=NPM_MTIME,
            typeflag=typeflag,
            linkpath=linkpath,
        )
        if need_pax:
            yield encode_pax(entry_path, size, NPM_MTIME, linkpath)
        yield header
        if entries is not None:
            entries.append(TarEntry(entry_path[len(PREFIX) :], size, _portable_mode(mode)))
        if size:
            yield from _file_body(absolute, size)
    yield bytes(1024)


def _file_body(absolute: str, size: int) -> Iterator[bytes]:
    remaining = size
    try:
        with open(absolute, "rb") as fh:
            while remaining > 0:
                chunk = fh.read(min(CHUNK, remaining))
                if not chunk:
                    raise PystageError("EIO", f"{absolute} shrank while it was being packed")
                remaining -= len(chunk)
                yield chunk
    except PermissionError:
        raise PystageError("EACCES", f"cannot read {absolute}: permission denied") from None
    except IsADirectoryError:
        raise PystageError("EISDIR", f"cannot read {absolute}: is a directory") from None
    except FileNotFoundError:
        raise PystageError(
            "ENOENT", f"cannot read {absolute}: it disappeared while packing"
        ) from None
    pad = -size % 512
    if pad:
        yield bytes(pad)


@dataclass
class Compressed:
    size: int
    sha1: str
    sha512: bytes


# Node's zlib: no name, mtime 0, XFL 2 (level 9); OS 255 because node-tar asks for "portable"
_GZIP_HEADER = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 2, 0xFF])


def compress_to(chunks: Iterable[bytes], out, *, workers: int | None = None) -> Compressed:
    """gzip (level 9) ``chunks`` into the binary file ``out`` (or only hash when None).

    The deflating runs on ``workers`` threads (default: one per CPU) while this
    thread reads the files and hashes the output (see ``pgzip``)."""
    from pystage.packing.pgzip import deflate_parallel

    sha1, sha512 = hashlib.sha1(), hashlib.sha512()
    size = 0

    def emit(data: bytes) -> None:
        nonlocal size
        if not data:
            return
        sha1.update(data)
        sha512.update(data)
        size += len(data)
        if out is not None:
            out.write(data)

    emit(_GZIP_HEADER)
    crc, length = deflate_parallel(chunks, emit, workers=workers)
    emit(struct.pack("<II", crc, length & 0xFFFFFFFF))
    return Compressed(size, sha1.hexdigest(), sha512.digest())
