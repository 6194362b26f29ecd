"""What a .tgz holds, read as data (never extracted): npm's ``getContents``.

One streaming pass over the gzip+tar computes the file list, sizes, bundled
dependencies and the package.json; a second pass over the raw bytes computes
sha1/sha512. Nothing is held whole in memory except small text members.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from typing import Literal

from pystage.errors import PystageError
from pystage.packing import PackedFile, TarballSummary, contents_order
from pystage.packing.manifest import tarball_filename

_CHUNK = 1024 * 1024
# Members whose text manifest normalization may need, when publishing a tarball.
_TEXT_MEMBERS = re.compile(r"(package\.json|readme(\.[^/]*)?|authors)", re.IGNORECASE)
_MAX_TEXT = 8 * 1024 * 1024


@dataclass
class TarballContents(TarballSummary):
    """A tarball read back, with the small text members publish normalization reads."""

    texts: dict[str, str] = field(repr=False, default_factory=dict)
    names: set[str] = field(repr=False, default_factory=set)


def file_digests(path: str) -> tuple[int, str, str]:
    """(size, sha1 hex, sha512 SRI) of a file, read in chunks."""
    sha1, sha512, size = hashlib.sha1(), hashlib.sha512(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha1.update(chunk)
            sha512.update(chunk)
            size += len(chunk)
    return size, sha1.hexdigest(), "sha512-" + base64.b64encode(sha512.digest()).decode()


def read_tarball(path: str) -> TarballContents:
    files: list[PackedFile] = []
    bundled: dict[str, None] = {}
    texts: dict[str, str] = {}
    names: set[str] = set()
    unpacked = 0
    entries = 0
    try:
        with tarfile.open(path, mode=_stream_mode(path)) as archive:
            for member in archive:
                entries += 1
                unpacked += member.size
                # tarfile drops a directory's trailing slash; node-tar, and so npm's
                # listing, keeps it
                listed = member.name + "/" if member.isdir() else member.name
                inner = re.sub(r"^package/", "", listed)
                nested = re.match(r"^package/node_modules/((?:@[^/]+/)?[^/]+)", listed)
                if nested:
                    bundled[nested.group(1)] = None
                files.append(PackedFile(inner, member.size, member.mode))
                # npm reads the manifest from the tarball unpacked with strip=1: the top
                # folder may have any name (the @types packages use their own, e.g. node/)
                unpacked_name = member.name.split("/", 1)[1] if "/" in member.name else ""
                if not unpacked_name:
                    continue
                names.add(unpacked_name)
                if (
                    member.isfile()
                    and _TEXT_MEMBERS.fullmatch(unpacked_name)
                    and member.size <= _MAX_TEXT
                ):
                    handle = archive.extractfile(member)
                    if handle is not None:
                        texts[unpacked_name] = handle.read().decode("utf-8", errors="replace")
    except (tarfile.TarError, zlib.error, EOFError, OSError) as exc:
        raise PystageError("ETARBALL", f"{path} is not a readable tarball: {exc}") from None
    if "package.json" not in texts:
        raise PystageError("ETARBALL", f"{path} has no package.json in its top folder")
    try:
        manifest = json.loads(texts["package.json"])
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise PystageError(
            "EJSONPARSE", f"package.json in {path} is not valid JSON: {exc}"
        ) from None
    if not isinstance(manifest, dict):
        raise PystageError("EJSONPARSE", f"package.json in {path} is not a JSON object")
    name = str(manifest.get("name", ""))
    version = str(manifest.get("version", ""))
    size, shasum, integrity = file_digests(path)
    return TarballContents(
        name=name,
        version=version,
        size=size,
        unpacked_size=unpacked,
        shasum=shasum,
        integrity=integrity,
        filename=tarball_filename(name, version),
        files=contents_order(files),
        entry_count=entries,
        bundled=list(bundled),
        manifest=manifest,
        texts=texts,
        names=names,
    )


def _stream_mode(path: str) -> Literal["r|gz", "r|"]:
    """Gzipped or plain tar, as node-tar tells them apart: by the gzip magic bytes."""
    with open(path, "rb") as handle:
        return "r|gz" if handle.read(2) == b"\x1f\x8b" else "r|"
