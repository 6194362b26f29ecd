"""The publish document npm PUTs (and POSTs to the stage endpoint), streamed.

The body is JSON whose one big value is the base64 of the tarball. It is
produced as: the JSON text up to that value, the base64 in chunks (each a
multiple of 3 input bytes, so chunks concatenate into one valid base64
string), then the rest. Its length is known up front, so it is sent with a
Content-Length and without holding the tarball or its base64 in memory.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator
from urllib.parse import urljoin

_READ_SIZE = 3 * 256 * 1024  # a multiple of 3: base64 of each chunk has no padding


class PublishBody:
    """A re-iterable, sized request body (requests sends it with Content-Length)."""

    def __init__(self, prefix: bytes, tarball_path: str, tarball_size: int, suffix: bytes) -> None:
        self.prefix = prefix
        self.suffix = suffix
        self.tarball_path = tarball_path
        self.tarball_size = tarball_size
        self.on_sent: Callable[[int], None] | None = None  # bytes handed to the socket
        # the tarball's own bytes handed to the socket (a progress bar counts these: the
        # body carries them as base64, a third more)
        self.on_tarball_sent: Callable[[int], None] | None = None

    def __len__(self) -> int:
        return len(self.prefix) + 4 * ((self.tarball_size + 2) // 3) + len(self.suffix)

    def __iter__(self) -> Iterator[bytes]:
        yield from self._report(self._pieces())

    def _pieces(self) -> Iterator[tuple[bytes, int]]:
        """(piece of the body, how many tarball bytes it carries)."""
        yield self.prefix, 0
        with open(self.tarball_path, "rb") as handle:
            while chunk := handle.read(_READ_SIZE):
                yield base64.b64encode(chunk), len(chunk)
        yield self.suffix, 0

    def _report(self, pieces: Iterator[tuple[bytes, int]]) -> Iterator[bytes]:
        for piece, carried in pieces:
            yield piece
            # the sender asks for the next piece once this one is written
            if self.on_sent is not None:
                self.on_sent(len(piece))
            if carried and self.on_tarball_sent is not None:
                self.on_tarball_sent(carried)

    def read_all(self) -> bytes:
        """The whole body; for tests and small packages only."""
        return b"".join(self)


def tarball_url(registry: str, name: str, version: str) -> str:
    base = registry if registry.endswith("/") else registry + "/"
    url = urljoin(base, f"{name}/-/{name}-{version}.tgz")
    return "http://" + url[len("https://") :] if url.startswith("https://") else url


def build_publish_document(
    manifest: dict,
    *,
    registry: str,
    tag: str,
    access: str | None,
    tarball_path: str,
    tarball_size: int,
    shasum: str,
    integrity: str,
) -> tuple[dict, PublishBody]:
    """libnpmpublish's buildMetadata. Returns the document (with the attachment's
    data left out) and the streamed body that carries it."""
    name, version = manifest["name"], manifest["version"]
    version_manifest = dict(manifest)
    version_manifest["_id"] = f"{name}@{version}"
    version_manifest["dist"] = {
        **(found if isinstance(found := manifest.get("dist"), dict) else {}),
        "integrity": integrity,
        "shasum": shasum,
        "tarball": tarball_url(registry, name, version),
    }
    document: dict = {"_id": name, "name": name}
    if manifest.get("description") is not None:
        document["description"] = manifest["description"]
    document["dist-tags"] = {str(manifest.get("tag") or tag): version}
    document["versions"] = {version: version_manifest}
    document["access"] = access
    attachment_name = f"{name}-{version}.tgz"
    marker = f"pystage-attachment-{secrets.token_hex(16)}"
    document["_attachments"] = {
        attachment_name: {
            "content_type": "application/octet-stream",
            "data": marker,
            "length": tarball_size,
        }
    }
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    before, after = text.split(json.dumps(marker), 1)
    body = PublishBody(
        (before + '"').encode("utf-8"), tarball_path, tarball_size, ('"' + after).encode("utf-8")
    )
    del document["_attachments"][attachment_name]["data"]
    return document, body
