"""A tarball read as a stream of data: gunzip and tar headers parsed here, never
extracted, never followed.

``tarfile`` is not used: it reads a pax header or a GNU long name whole into
memory whatever size the header claims, and it resolves links when asked for
their content. This reader keeps memory bounded by construction: every buffer
is at most ``Limits.chunk`` (file data) or ``Limits.max_header`` (pax records,
long names) bytes, and decompression stops as soon as the output grows far
beyond the compressed input (a "zip bomb").

What a hostile archive can do (``..`` in a path, an absolute path, links,
devices, a bomb, a corrupt stream) becomes an ``Anomaly`` the caller turns into
a finding; the entry itself is reported with its raw name and never opened.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

BLOCK = 512


@dataclass(frozen=True)
class Limits:
    """How far the reader goes before it calls the archive hostile."""

    chunk: int = 1024 * 1024  # the largest piece of file data handed out at once
    max_header: int = 1024 * 1024  # pax records / GNU long names larger than this: hostile
    max_ratio: int = 200  # uncompressed / compressed, once past ``ratio_floor``
    ratio_floor: int = 64 * 1024 * 1024
    max_unpacked: int = 4 * 1024 * 1024 * 1024
    max_entries: int = 200_000


class TarStop(Exception):
    """The archive cannot be read further; ``rule`` names the finding it becomes."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass
class RawEntry:
    """One tar header, after pax/GNU extensions are applied. ``path`` is the name with
    the first component (npm's ``package/``) stripped, as npm unpacks it; ``raw_name``
    is the name exactly as the archive gives it."""

    raw_name: str
    path: str
    kind: str  # file, directory, symlink, hardlink, other
    size: int
    mode: int
    linkname: str
    typeflag: str


class Gunzip:
    """A ``read(n)`` over an iterable of byte chunks, gunzipping when the stream starts
    with gzip's magic (node-tar decides the same way), counting bytes both sides."""

    def __init__(self, chunks: Iterable[bytes], limits: Limits) -> None:
        self._src: Iterator[bytes] = iter(chunks)
        self._limits = limits
        self._d: Any = None  # a zlib decompressor once the stream is known to be gzip
        self._tail = b""  # compressed input not yet consumed
        self._plain: bytes | None = None  # the first chunk, while we decide
        self._gzip: bool | None = None
        self._done = False
        self.compressed = 0
        self.uncompressed = 0

    def _next_chunk(self) -> bytes:
        for chunk in self._src:
            if chunk:
                self.compressed += len(chunk)
                return bytes(chunk)
        return b""

    def _decide(self) -> None:
        first = self._next_chunk()
        while len(first) < 2:
            more = self._next_chunk()
            if not more:
                break
            first += more
        self._gzip = first[:2] == b"\x1f\x8b"
        if self._gzip:
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._tail = first

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end of the stream."""
        if self._gzip is None:
            self._decide()
        parts: list[bytes] = []
        need = n
        while need > 0 and not self._done:
            if not self._tail:
                self._tail = self._next_chunk()
                if not self._tail:
                    if self._gzip and self._d is not None and not self._d.eof:
                        raise TarStop("corrupt-archive", "the gzip stream ends before its end")
                    self._done = True
                    break
            if not self._gzip:
                piece, self._tail = self._tail[:need], self._tail[need:]
            else:
                try:
                    piece = self._d.decompress(self._tail, need)
                except zlib.error as exc:
                    raise TarStop("corrupt-archive", f"the gzip stream is corrupt: {exc}") from None
                if self._d.eof:
                    rest = self._d.unused_data
                    if rest[:2] == b"\x1f\x8b":  # another gzip member follows
                        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                        self._tail = rest
                    else:  # trailing garbage after the gzip stream: ignored, as gunzip does
                        self._tail = b""
                        self._done = True
                else:
                    self._tail = self._d.unconsumed_tail
            if piece:
                parts.append(piece)
                need -= len(piece)
                self.uncompressed += len(piece)
                self._check_ratio()
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _check_ratio(self) -> None:
        lim = self._limits
        if self.uncompressed > lim.max_unpacked:
            raise TarStop(
                "archive-bomb",
                f"the tarball unpacks to more than {lim.max_unpacked} bytes: not read further",
            )
        if (
            self._gzip
            and self.uncompressed > lim.ratio_floor
            and self.uncompressed > lim.max_ratio * max(self.compressed, 1)
        ):
            raise TarStop(
                "archive-bomb",
                f"the tarball unpacks to over {lim.max_ratio} times its compressed size "
                f"({self.uncompressed} bytes from {self.compressed}): not read further",
            )


def _octal(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256
        value = int.from_bytes(field[1:], "big")
        if field[0] & 0x40:
            raise TarStop("corrupt-archive", "a tar header holds a negative number")
        return value
    text = field.split(b"\0", 1)[0].strip(b" \0")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise TarStop(
            "corrupt-archive", f"a tar header holds a bad number: {text[:20]!r}"
        ) from None


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", errors="surrogateescape")


def _checksum_ok(header: bytes) -> bool:
    stored = _octal(header[148:156])
    counted = header[:148] + b" " * 8 + header[156:]
    if stored == sum(counted):
        return True
    # some old tar writers summed signed chars
    return stored == sum(b - 256 if b > 127 else b for b in counted)


def _pax(data: bytes) -> dict[str, str]:
    """Pax extended header records: ``"<len> key=value\\n"``."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space == -1:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise TarStop("corrupt-archive", "a pax header record is malformed") from None
        if length <= 0 or pos + length > len(data):
            raise TarStop("corrupt-archive", "a pax header record is malformed")
        record = data[space + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


_KINDS = {
    "0": "file",
    "\0": "file",
    "": "file",
    "7": "file",
    "5": "directory",
    "2": "symlink",
    "1": "hardlink",
}


def strip_first(name: str) -> str:
    """npm unpacks with strip=1: the top folder may have any name. What is left is
    the path the file lands at: node-tar resolves "." and empty components away, so
    ``package/./package.json`` and ``package//package.json`` are written over
    ``package.json`` (".." is kept: the caller reports it)."""
    rest = name.split("/", 1)[1] if "/" in name else ""
    if "/." not in "/" + rest and "//" not in rest and not rest.startswith("/"):
        return rest  # the common case: nothing to resolve
    trailing = "/" if rest.endswith("/") else ""
    parts = [p for p in rest.split("/") if p not in ("", ".")]
    return "/".join(parts) + (trailing if parts else "")


class TarReader:
    """Iterate ``RawEntry`` objects; for a file, ``read_data(entry)`` yields its bytes in
    chunks (call it or not: what is not read is skipped before the next header)."""

    def __init__(self, chunks: Iterable[bytes], limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.stream = Gunzip(chunks, self.limits)
        self._left = 0  # data bytes of the current entry not yet read
        self._pad = 0
        self.entries = 0

    def _read_exact(self, n: int) -> bytes:
        data = self.stream.read(n)
        if len(data) < n:
            raise TarStop("corrupt-archive", "the tarball ends in the middle of an entry")
        return data

    def _skip_rest(self) -> None:
        while self._left:
            self._left -= len(self._read_exact(min(self._left, self.limits.chunk)))
        if self._pad:
            self._read_exact(self._pad)
            self._pad = 0

    def read_data(self, entry: RawEntry) -> Iterator[bytes]:
        while self._left:
            piece = self._read_exact(min(self._left, self.limits.chunk))
            self._left -= len(piece)
            yield piece

    def _read_ext(self, size: int, what: str) -> bytes:
        if size > self.limits.max_header:
            raise TarStop(
                "corrupt-archive",
                f"a {what} of {size} bytes (over {self.limits.max_header}): not read",
            )
        data = self._read_exact(size)
        pad = -size % BLOCK
        if pad:
            self._read_exact(pad)
        return data

    def __iter__(self) -> Iterator[RawEntry]:
        pax: dict[str, str] = {}
        global_pax: dict[str, str] = {}  # a "g" header: node-tar applies it to every later entry
        long_name: str | None = None
        long_link: str | None = None
        zero_blocks = 0
        while True:
            self._skip_rest()
            header = self.stream.read(BLOCK)
            if not header:
                return  # end of stream without the two zero blocks: node-tar accepts it
            if len(header) < BLOCK:
                raise TarStop("corrupt-archive", "the tarball ends inside a tar header")
            if header == b"\0" * BLOCK:
                zero_blocks += 1
                if zero_blocks == 2:
                    return
                continue
            zero_blocks = 0
            if not _checksum_ok(header):
                raise TarStop("corrupt-archive", "a tar header's checksum does not match")
            typeflag = chr(header[156]) if header[156] else "\0"
            size = _octal(header[124:136])
            if typeflag in ("x", "g"):
                data = self._read_ext(size, "pax header")
                if typeflag == "x":
                    pax = _pax(data)
                else:
                    global_pax.update(_pax(data))
                continue
            if typeflag in ("L", "K"):
                data = self._read_ext(size, "long name")
                text = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                if typeflag == "L":
                    long_name = text
                else:
                    long_link = text
                continue
            self.entries += 1
            if self.entries > self.limits.max_entries:
                raise TarStop(
                    "archive-bomb", f"the tarball holds over {self.limits.max_entries} entries"
                )
            name = _text(header[0:100])
            if header[257:262] == b"ustar":
                prefix = _text(header[345:500])
                if prefix:
                    name = prefix + "/" + name
            pax = {**global_pax, **pax}
            name = pax.get("path", long_name or name)
            linkname = pax.get("linkpath", long_link or _text(header[157:257]))
            if "size" in pax:
                try:
                    size = int(pax["size"])
                except ValueError:
                    raise TarStop("corrupt-archive", "a pax size is not a number") from None
            mode = _octal(header[100:108]) & 0o7777
            pax, long_name, long_link = {}, None, None
            kind = _KINDS.get(typeflag, "other")
            if kind == "directory" or name.endswith("/"):
                kind = "directory" if kind in ("file", "directory") else kind
            # links and devices carry no data even when the header claims a size
            has_data = kind in ("file", "other") and typeflag not in ("3", "4", "6")
            self._left = size if has_data else 0
            self._pad = (-size % BLOCK) if has_data else 0
            yield RawEntry(
                raw_name=name,
                path=strip_first(name).rstrip("/") if kind == "directory" else strip_first(name),
                kind=kind,
                size=size if has_data else 0,
                mode=mode,
                linkname=linkname,
                typeflag=typeflag,
            )
