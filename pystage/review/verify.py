"""Is the tarball the review read the one the registry vouches for? Each stream is
hashed as the review reads it (no second download, no copy) and, once read, checked
against what the registry says about it: the staged item's ``integrity``/``shasum``
(what approve will publish), the baseline's ``dist.integrity``/``dist.shasum`` from
the packument (a baseline served tampered would make an attack look like no change).

A mismatch is a high finding, not an error: the report is still shown, and
``--fail-on`` and approve's gate stop on it. Pure: bytes in, findings out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from pystage.errors import PystageError
from pystage.integrity import Expected, check_digests
from pystage.review.report import Finding

# what is read past the end of the tar stream to finish the digest; a registry that
# sends more than this after it is not believed
DRAIN_LIMIT = 4 * 1024 * 1024 * 1024


class HashedChunks:
    """The chunks of a stream, hashed (sha1, sha512 and whatever ``expected`` asks for)
    as they pass. ``finish()`` reads what the review left unread (the tar stream's
    padding, gzip's trailer) so the digest covers every byte that was sent."""

    def __init__(self, chunks: Iterable[bytes], expected: Expected) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self.expected = expected
        self._hashers = {a: hashlib.new(a) for a in expected.algorithms() | {"sha512"}}
        self.size = 0
        self.overlong = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self._feed(chunk)
            yield chunk

    def _feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        for hasher in self._hashers.values():
            hasher.update(chunk)

    def finish(self) -> dict[str, bytes]:
        for chunk in self._chunks:
            if self.size > DRAIN_LIMIT:
                self.overlong = True
                break
            self._feed(chunk)
        return {a: h.digest() for a, h in self._hashers.items()}


def staged_findings(hashed: HashedChunks) -> list[Finding]:
    """The staged tarball against the staged item's integrity/shasum."""
    problem = _problem(hashed, "the staged tarball")
    if problem is None:
        return []
    if problem == "":
        return [
            Finding(
                "integrity-unchecked",
                "info",
                "",
                "the registry gives no integrity or shasum for this staged version: the "
                "reviewed tarball could not be matched with the one approve publishes",
            )
        ]
    return [
        Finding(
            "integrity-mismatch",
            "high",
            "",
            f"{problem}: what was reviewed is not what approve would publish",
        )
    ]


def baseline_findings(hashed: HashedChunks, version: str) -> list[Finding]:
    """The baseline tarball against the packument's dist.integrity/dist.shasum."""
    problem = _problem(hashed, f"the baseline tarball ({version})")
    if problem is None:
        return []
    if problem == "":
        return [
            Finding(
                "baseline-unverified",
                "info",
                "",
                f"the packument gives no integrity for {version}: the baseline could not be "
                "checked, so the comparison trusts the download",
            )
        ]
    return [
        Finding(
            "baseline-integrity",
            "high",
            "",
            f"{problem}: the comparison is against a copy that is not the published "
            "version, so it may hide what changed",
        )
    ]


def _problem(hashed: HashedChunks, what: str) -> str | None:
    """None: it matches; "": nothing to check it against; else what is wrong."""
    digests = hashed.finish()
    if hashed.overlong:
        return f"{what} goes on past {DRAIN_LIMIT} bytes: not checked to its end"
    try:
        checked = check_digests(digests, hashed.expected, what)
    except PystageError as exc:
        return exc.message
    return None if checked else ""


def expected_of_dist(manifest: dict | None) -> Expected:
    dist = (manifest or {}).get("dist")
    dist = dist if isinstance(dist, dict) else {}
    return Expected(dist.get("integrity"), dist.get("shasum"))
