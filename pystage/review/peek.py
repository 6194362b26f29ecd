"""The package.json of a tarball stream, read from the first entries only (npm puts
it first), so ``view`` can show a staged version's scripts without reading it all."""

from __future__ import annotations

import json
from collections.abc import Iterable

from pystage.review.tarstream import Limits, TarReader, TarStop

MANIFEST_LIMIT = 1024 * 1024
MAX_ENTRIES_SEARCHED = 64  # a package.json further in: the caller may read the whole index


def read_manifest(chunks: Iterable[bytes]) -> dict | None:
    """The parsed package.json (None: not among the first entries, or not an object).
    Raises ``ValueError`` for a corrupt archive or invalid JSON."""
    reader = TarReader(chunks, Limits())
    try:
        for n, entry in enumerate(reader):
            if n >= MAX_ENTRIES_SEARCHED:
                return None
            if entry.kind == "file" and entry.path == "package.json":
                if entry.size > MANIFEST_LIMIT:
                    raise ValueError(f"package.json is over {MANIFEST_LIMIT} bytes")
                data = b"".join(reader.read_data(entry))
                manifest = json.loads(data.decode("utf-8-sig"))
                return manifest if isinstance(manifest, dict) else None
    except TarStop as stop:
        raise ValueError(stop.message) from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"package.json is not UTF-8: {exc}") from None
    return None
