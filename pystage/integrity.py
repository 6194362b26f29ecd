"""Is a downloaded tarball the one the registry staged? Its bytes against the staged
item's ``integrity`` (Subresource Integrity, as npm's ssri reads it) and ``shasum``.

SRI as ssri checks it: a string of whitespace-separated ``algorithm-base64digest``
entries (``?options`` after the digest are ignored); the strongest algorithm present
decides, and the bytes match when any digest of that algorithm matches. ``shasum`` is
npm's sha1 in hex. Both are checked when both are given.
"""

from __future__ import annotations

import base64
import hashlib
import re

from pystage.errors import PystageError

# ssri's order, weakest first; others (md5...) are not evidence of anything
_ALGORITHMS = ("sha1", "sha256", "sha384", "sha512")
_ENTRY = re.compile(r"^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})(?:\?.*)?$")
_HEX_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_CHUNK = 1024 * 1024


class Expected:
    """What the staged item says about its tarball; ``empty`` when it says nothing we
    can check (no field, or only algorithms we do not trust)."""

    __slots__ = ("sri", "shasum")

    def __init__(self, integrity: object = None, shasum: object = None) -> None:
        self.sri: dict[str, set[str]] = {}
        if isinstance(integrity, str):
            for token in integrity.split():
                match = _ENTRY.match(token)
                if match:
                    self.sri.setdefault(match.group(1), set()).add(match.group(2))
        self.shasum = (
            shasum.lower() if isinstance(shasum, str) and _HEX_SHA1.match(shasum) else None
        )

    @classmethod
    def of_item(cls, item: dict | None) -> Expected:
        item = item or {}
        return cls(item.get("integrity"), item.get("shasum"))

    @property
    def empty(self) -> bool:
        return not self.sri and self.shasum is None

    @property
    def strongest(self) -> str | None:
        present = [a for a in _ALGORITHMS if a in self.sri]
        return present[-1] if present else None

    def algorithms(self) -> set[str]:
        wanted = {self.strongest} if self.strongest else set()
        return wanted | ({"sha1"} if self.shasum else set())


def digests_of(path: str, algorithms: set[str]) -> dict[str, bytes]:
    hashers = {a: hashlib.new(a) for a in algorithms}
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            for hasher in hashers.values():
                hasher.update(chunk)
    return {a: h.digest() for a, h in hashers.items()}


def check_file(path: str, expected: Expected, what: str) -> str | None:
    """Raise EINTEGRITY when the file at ``path`` is not what ``expected`` describes;
    return the name of what was checked (``"sha512"``, ``"sha512, shasum"``), or None
    when there was nothing to check."""
    if expected.empty:
        return None
    return check_digests(digests_of(path, expected.algorithms()), expected, what)


def check_digests(digests: dict[str, bytes], expected: Expected, what: str) -> str | None:
    """``check_file`` over digests already computed (a stream hashed as it was read):
    ``digests`` holds at least ``expected.algorithms()``."""
    if expected.empty:
        return None
    checked = []
    algorithm = expected.strongest
    if algorithm:
        ours = base64.b64encode(digests[algorithm]).decode("ascii")
        if ours not in expected.sri[algorithm]:
            claimed = " ".join(f"{algorithm}-{d}" for d in sorted(expected.sri[algorithm]))
            raise _mismatch(what, "integrity", claimed, f"{algorithm}-{ours}")
        checked.append(algorithm)
    if expected.shasum:
        ours = digests["sha1"].hex()
        if ours != expected.shasum:
            raise _mismatch(what, "shasum", expected.shasum, ours)
        checked.append("shasum")
    return ", ".join(checked)


def _mismatch(what: str, field: str, claimed: str, actual: str) -> PystageError:
    return PystageError(
        "EINTEGRITY",
        f"{what} does not match its {field}: the registry staged {claimed}, "
        f"the download is {actual}",
        "nothing was saved; try again, and if it persists the registry (or something "
        "between you and it) is serving other bytes than were staged",
    )
