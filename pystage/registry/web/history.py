"""The history shown on the page: who staged, approved, rejected a package's versions.

It reads the registry's append-only history (``Registry.history``, issue 13) with
the same visibility rule as the API: only maintainers see a package's events.
"""

from __future__ import annotations

from pystage.registry.accounts import User
from pystage.registry.errors import RegistryError
from pystage.registry.service import Registry

PER_PAGE = 100


def package_history(registry: Registry, user: User, package: str | None, page: int = 0) -> dict:
    """``{"events": [...], "total", "page", "perPage"}``, newest first; 404 for a package
    the user does not maintain (whether or not it exists)."""
    if hasattr(registry, "history"):
        return registry.history(user, package, page, PER_PAGE)
    return _from_resolved(registry, user, package, page)


def _from_resolved(registry: Registry, user: User, package: str | None, page: int) -> dict:
    """Until the history table lands: the outcomes the registry already records."""
    conn = registry.db.conn()
    if package is not None and not registry.is_maintainer(conn, package, user):
        raise RegistryError(404, f'package "{package}" not found')
    where, args = "maintainers.user = ?", [user.name]
    if package is not None:
        where, args = where + " AND r.package = ?", args + [package]
    rows = conn.execute(
        "SELECT r.* FROM resolved_stages r JOIN maintainers ON maintainers.package = r.package "
        f"WHERE {where} ORDER BY r.at DESC",
        args,
    ).fetchall()
    events = [
        {
            "seq": i,
            "at": r["at"],
            "event": "approve" if r["outcome"] == "approved" else "reject",
            "package": r["package"],
            "version": r["version"],
            "id": r["id"],
            "actor": r["actor"],
            "detail": {},
        }
        for i, r in enumerate(rows)
    ]
    start = page * PER_PAGE
    return {
        "events": events[start : start + PER_PAGE],
        "total": len(events),
        "page": page,
        "perPage": PER_PAGE,
    }
