"""A streaming JSON reader for publish documents.

A publish document carries the tarball as one base64 string
(``_attachments.<file>.data``) that can be well over 100 MB. ``json.load``
would hold it (and its decoded bytes) in memory, so this reader walks the
document from a file in bounded chunks: ordinary values become Python objects
as usual, while every attachment's ``data`` string is base64-decoded
incrementally into a temporary file, hashing it on the way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from typing import BinaryIO

from pystage.registry.blobs import naming
from pystage.registry.strictjson import has_lone_surrogate

CHUNK = 1 << 20
MAX_DEPTH = 64

_PLAIN_RUN = re.compile(rb'[^"\\\x00-\x1f]*')
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WHITESPACE = b" \t\n\r"


class JSONStreamError(ValueError):
    """The body is not valid JSON (or breaks a streaming limit)."""


@dataclass
class DecodedAttachment:
    """An attachment's data, decoded to ``path`` (a temp file the caller owns)."""

    path: str
    length: int
    sha1_hex: str
    sha512_b64: str

    @property
    def integrity(self) -> str:
        return f"sha512-{self.sha512_b64}"


class _Base64File:
    """Decodes base64 text fed in pieces of any size into an fsynced temp file."""

    def __init__(self, tmp_dir: str) -> None:
        fd, self.path = tempfile.mkstemp(dir=tmp_dir, prefix="attachment-", suffix=".part")
        self._file = os.fdopen(fd, "wb")
        self._rest = b""
        self._padded = False
        self._sha1 = hashlib.sha1()
        self._sha512 = hashlib.sha512()
        self.length = 0

    def feed(self, text: bytes) -> None:
        data = self._rest + text
        usable = len(data) - len(data) % 4
        chunk, self._rest = data[:usable], data[usable:]
        if not chunk:
            return
        if self._padded:
            raise JSONStreamError("attachment data continues after base64 padding")
        try:
            decoded = base64.b64decode(chunk, validate=True)
        except binascii.Error as exc:
            raise JSONStreamError(f"attachment data is not valid base64: {exc}") from None
        self._padded = chunk.endswith(b"=")
        with naming(self.path):
            self._file.write(decoded)
        self._sha1.update(decoded)
        self._sha512.update(decoded)
        self.length += len(decoded)

    def finish(self) -> DecodedAttachment:
        if self._rest:
            raise JSONStreamError(
                "attachment data is not valid base64: its length is not a multiple of 4"
            )
        with naming(self.path):
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        return DecodedAttachment(
            self.path,
            self.length,
            self._sha1.hexdigest(),
            base64.b64encode(self._sha512.digest()).decode("ascii"),
        )

    def discard(self) -> None:
        if not self._file.closed:
            try:
                self._file.close()
            except OSError:
                pass  # a full disk fails the flush in close(); the file goes anyway
        _remove_quietly(self.path)


class _Reader:
    def __init__(self, stream: BinaryIO, tmp_dir: str, max_metadata: int) -> None:
        self._stream = stream
        self._tmp_dir = tmp_dir
        self._buf = b""
        self._pos = 0
        self._eof = False
        self._metadata_budget = max_metadata
        self.open_files: list[_Base64File] = []
        self.attachments: dict[str, DecodedAttachment] = {}

    # -- buffer -------------------------------------------------------------
    def _fill(self, need: int = 1) -> bool:
        """Make at least ``need`` unread bytes available; False at end of input."""
        while len(self._buf) - self._pos < need and not self._eof:
            data = self._stream.read(CHUNK)
            if not data:
                self._eof = True
                break
            self._buf = self._buf[self._pos :] + data
            self._pos = 0
        return len(self._buf) - self._pos >= need

    def _peek_non_space(self) -> int | None:
        while self._fill():
            buf, pos, end = self._buf, self._pos, len(self._buf)
            while pos < end and buf[pos] in _WHITESPACE:
                pos += 1
            self._pos = pos
            if pos < end:
                return buf[pos]
        return None

    def _expect(self, char: bytes, what: str) -> None:
        if self._peek_non_space() != char[0]:
            raise self._error(f"expected {what}")
        self._pos += 1

    def _error(self, message: str) -> JSONStreamError:
        return JSONStreamError(f"malformed JSON: {message}")

    # -- values -------------------------------------------------------------
    def document(self):
        value = self._value((), 0)
        if self._peek_non_space() is not None:
            raise self._error("unexpected data after the document")
        return value

    def _value(self, path: tuple, depth: int):
        if depth > MAX_DEPTH:
            raise self._error(f"nesting deeper than {MAX_DEPTH} levels")
        char = self._peek_non_space()
        if char is None:
            raise self._error("unexpected end of input")
        if char == 0x7B:  # {
            return self._object(path, depth)
        if char == 0x5B:  # [
            return self._array(path, depth)
        if char == 0x22:  # "
            self._pos += 1
            if len(path) == 3 and path[0] == "_attachments" and path[2] == "data":
                return self._attachment_data(path[1])
            return self._string()
        return self._scalar()

    def _object(self, path: tuple, depth: int) -> dict:
        self._pos += 1
        result: dict = {}
        if self._peek_non_space() == 0x7D:
            self._pos += 1
            return result
        while True:
            self._expect(b'"', "a string key")
            key = self._string()
            self._expect(b":", "':' after an object key")
            result[key] = self._value(path + (key,), depth + 1)
            char = self._peek_non_space()
            self._pos += 1
            if char == 0x2C:  # ,
                continue
            if char == 0x7D:  # }
                return result
            raise self._error("expected ',' or '}' in an object")

    def _array(self, path: tuple, depth: int) -> list:
        self._pos += 1
        result: list = []
        if self._peek_non_space() == 0x5D:
            self._pos += 1
            return result
        while True:
            result.append(self._value(path + (len(result),), depth + 1))
            char = self._peek_non_space()
            self._pos += 1
            if char == 0x2C:
                continue
            if char == 0x5D:  # ]
                return result
            raise self._error("expected ',' or ']' in an array")

    def _scalar(self):
        self._fill(400)
        buf, pos = self._buf, self._pos
        for literal, value in ((b"true", True), (b"false", False), (b"null", None)):
            if buf.startswith(literal, pos):
                self._pos += len(literal)
                return value
        match = _NUMBER.match(buf, pos)
        if not match or match.end() == pos:
            raise self._error(f"unexpected character {chr(buf[pos])!r}")
        if match.end() - pos > 300:
            raise self._error("number too long")
        self._pos = match.end()
        return json.loads(match.group())

    # -- strings ------------------------------------------------------------
    def _scan_string(self, on_text, on_escape) -> None:
        """Walk a string body (after its opening quote) up to and past its closing quote."""
        while True:
            if not self._fill():
                raise self._error("unterminated string")
            end = _PLAIN_RUN.match(self._buf, self._pos).end()  # type: ignore[union-attr]  # matches ''
            if end > self._pos:
                on_text(self._buf[self._pos : end])
                self._pos = end
            if end == len(self._buf):
                continue
            char = self._buf[end]
            if char == 0x22:
                self._pos += 1
                return
            if char != 0x5C:
                raise self._error("control character in a string")
            if not self._fill(2):
                raise self._error("unterminated string")
            size = 6 if self._buf[self._pos + 1] == 0x75 else 2  # \uXXXX or \n etc.
            if not self._fill(size):
                raise self._error("unterminated string")
            on_escape(self._buf[self._pos : self._pos + size])
            self._pos += size

    def _string(self) -> str:
        parts: list[bytes] = []
        self._scan_string(parts.append, parts.append)
        raw = b"".join(parts)
        self._metadata_budget -= len(raw)
        if self._metadata_budget < 0:
            raise JSONStreamError(
                "the document's metadata (everything but the tarball) is too large"
            )
        try:
            text = json.loads(b'"' + raw + b'"')
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._error(f"bad string: {exc}") from None
        # "\ud800" (or raw CESU-8 bytes, which json decodes with surrogatepass) would
        # be stored and then break every answer that serves it: refuse it here.
        if has_lone_surrogate(text):
            raise self._error("a string holds a lone UTF-16 surrogate")
        return text

    def _attachment_data(self, key: str) -> str:
        sink = _Base64File(self._tmp_dir)
        self.open_files.append(sink)

        def escape(raw: bytes) -> None:
            try:
                sink.feed(json.loads(b'"' + raw + b'"').encode("ascii"))
            except (ValueError, UnicodeEncodeError):
                raise JSONStreamError("attachment data is not valid base64") from None

        self._scan_string(sink.feed, escape)
        self.attachments[key] = sink.finish()
        return ""  # the decoded bytes live in self.attachments[key]


def read_document(stream: BinaryIO, tmp_dir: str, max_metadata: int = 32 << 20):
    """Parse ``stream``; return ``(document, {attachment name: DecodedAttachment})``.

    In the document, each attachment's ``data`` is replaced by an empty string.
    The caller owns the attachment files. On any error no file is left behind.
    """
    reader = _Reader(stream, tmp_dir, max_metadata)
    try:
        document = reader.document()
    except BaseException:
        for sink in reader.open_files:
            sink.discard()
        raise
    keep = {a.path for a in reader.attachments.values()}
    for sink in reader.open_files:  # a duplicated key leaves an unused earlier file
        if sink.path not in keep:
            sink.discard()
    return document, reader.attachments


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass  # gone already, or storage turned read-only: tmp/ is emptied at start-up
