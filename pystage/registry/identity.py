"""Who published and who maintains: fields the registry sets, never taken from a client.

A publish (or stage) document is written by whoever holds a token, so every field
in it that names a person with rights over the package is the server's to fill:
``_npmUser`` (the publisher, what ``npm view`` prints as "published by") and
``maintainers`` (the package's maintainers at that moment, as npmjs records
them per version). Anything else npmjs reserves for itself and a client has no
business sending (``_npmOperationalInternal``, ``_rev``, ``users``) is dropped.
Authored metadata (``author``, ``contributors``) is the package's own and kept.
"""

from __future__ import annotations

SERVER_SET = ("_npmUser", "maintainers")
DROPPED = ("_npmOperationalInternal", "_rev", "users", "_publisher", "publisher", "_cached")


def without_client_identity(manifest: dict) -> dict:
    """The manifest with every server-set or reserved field removed."""
    return {k: v for k, v in manifest.items() if k not in SERVER_SET and k not in DROPPED}


def person(name: str, email: str | None) -> dict:
    return {"name": name, **({"email": email} if email else {})}


def with_server_identity(
    manifest: dict, publisher: tuple[str, str | None], maintainers: list[tuple[str, str | None]]
) -> dict:
    """The manifest as stored: the client's identity fields gone, the server's set."""
    return {
        **without_client_identity(manifest),
        "_npmUser": person(*publisher),
        "maintainers": [person(name, email) for name, email in maintainers],
    }
