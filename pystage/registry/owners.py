"""Package owners (maintainers), changed the way ``npm owner add/rm`` speaks it.

npm reads the packument (``maintainers``, ``_rev``), edits the list and PUTs
``{_id, _rev, maintainers}`` to ``/<name>/-rev/<rev>``. Only that list may change
here; the revision guards against lost updates (two owner changes from the same
read: the second gets 409 and npm's user runs the command again). A change needs
the one-time password of the maintainer making it when their account has 2FA;
the last maintainer cannot be removed, nor one that the package's approval policy
still needs.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from pystage.registry import history
from pystage.registry.errors import RegistryError
from pystage.registry.policies import policy_of
from pystage.registry.timefmt import now_iso

if TYPE_CHECKING:
    from pystage.registry.accounts import User
    from pystage.registry.service import Registry

_ALLOWED_KEYS = {"_id", "_rev", "maintainers"}
MAX_MAINTAINERS = 1000


def package_rev(modified: str, maintainers: list[str]) -> str:
    """A CouchDB-style revision of the package document: changes whenever it does."""
    digest = hashlib.sha256("\n".join([modified, *sorted(maintainers)]).encode()).hexdigest()
    return f"1-{digest[:32]}"


def _current(conn, package: str) -> tuple[str, list[str]] | None:
    row = conn.execute("SELECT modified FROM packages WHERE name = ?", (package,)).fetchone()
    if row is None:
        return None
    names = [
        r[0]
        for r in conn.execute(
            "SELECT user FROM maintainers WHERE package = ? ORDER BY user", (package,)
        )
    ]
    return row["modified"], names


def _requested_names(body: object, package: str, rev: str) -> list[str]:
    if not isinstance(body, dict):
        raise RegistryError(400, "the body must be a JSON object {_id, _rev, maintainers}")
    extra = sorted(set(body) - _ALLOWED_KEYS)
    if extra:
        raise RegistryError(
            400,
            "only the maintainers list of a package can be changed here; "
            f"unexpected field(s): {', '.join(extra)}",
        )
    if body.get("_id", package) != package:
        raise RegistryError(400, "the body's _id does not match the package in the URL")
    if body.get("_rev", rev) != rev:
        raise RegistryError(400, "the body's _rev does not match the revision in the URL")
    maintainers = body.get("maintainers")
    if not isinstance(maintainers, list) or len(maintainers) > MAX_MAINTAINERS:
        raise RegistryError(400, '"maintainers" must be a list of {"name", "email"} objects')
    names: list[str] = []
    for entry in maintainers:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            raise RegistryError(400, 'every maintainer must be an object with a "name"')
        if name not in names:
            names.append(name)
    return names


def _check_change(conn, package: str, rev: str, user: User, names: list[str]):
    """(added, removed) after every check that needs no one-time password."""
    current = _current(conn, package)
    if current is None:
        raise RegistryError(404, f'package "{package}" not found')
    modified, owners = current
    if user.name not in owners:
        raise RegistryError(403, f'you do not have permission to change the owners of "{package}"')
    if rev != package_rev(modified, owners):
        raise RegistryError(
            409,
            f'document update conflict: the owners of "{package}" changed since they were '
            "read; run the command again",
        )
    added = [n for n in names if n not in owners]
    removed = [n for n in owners if n not in names]
    for name in added:
        if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is None:
            raise RegistryError(404, f'user "{name}" not found')
    if not names:
        raise RegistryError(
            400, "cannot remove the last maintainer of a package: add someone else first"
        )
    required = policy_of(conn, package).approvers
    if removed and len(names) < required:
        raise RegistryError(
            409,
            f'the approval policy of "{package}" needs {required} approvers, so it must keep '
            f"{required} maintainers: lower the policy first (pystage policy set)",
        )
    return added, removed


def change_owners(
    registry: Registry, user: User, package: str, rev: str, body: object, otp: str | None
) -> dict:
    names = _requested_names(body, package, rev)
    added, removed = _check_change(registry.db.conn(), package, rev, user, names)
    if not added and not removed:
        return {"ok": True, "id": package, "rev": rev}
    if user.has_2fa:
        registry.accounts.check_otp(user, otp)
    stamp = now_iso()
    events = []
    with registry.db.write() as conn:
        # Again under the write lock: a concurrent change makes this one a conflict.
        added, removed = _check_change(conn, package, rev, user, names)
        for name in added:
            conn.execute("INSERT INTO maintainers (package, user) VALUES (?, ?)", (package, name))
            events.append(
                history.record(
                    conn, "owner-add", package, actor=user.name, detail={"user": name}, at=stamp
                )
            )
        for name in removed:
            conn.execute("DELETE FROM maintainers WHERE package = ? AND user = ?", (package, name))
            events.append(
                history.record(
                    conn, "owner-rm", package, actor=user.name, detail={"user": name}, at=stamp
                )
            )
        conn.execute("UPDATE packages SET modified = ? WHERE name = ?", (stamp, package))
        # the package exists: its owners were just changed in this transaction
        modified, owners = _current(conn, package)  # type: ignore[misc]
    registry.notifier.send(events)
    return {"ok": True, "id": package, "rev": package_rev(modified, owners)}
