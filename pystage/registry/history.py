"""The append-only history of what happened to staged versions, policies and owners.

Events are written in the same transaction as the change they describe, so the
log never claims something that was rolled back nor misses something that was
committed. Triggers in the schema refuse UPDATE and DELETE on the table; no
endpoint edits or removes an event.
"""

from __future__ import annotations

import json

from pystage.registry.db import page_of_rows
from pystage.registry.errors import RegistryError
from pystage.registry.timefmt import now_iso

EVENTS = ("stage", "approve", "reject", "expire", "publish", "policy", "owner-add", "owner-rm")
MAX_PER_PAGE = 1000


def record(
    conn,
    event: str,
    package: str,
    *,
    version: str | None = None,
    stage_id: str | None = None,
    actor: str | None = None,
    detail: dict | None = None,
    at: str | None = None,
) -> dict:
    """Append one event inside the caller's write transaction; return it as the API shows it."""
    assert event in EVENTS, event
    at = at or now_iso()
    detail = detail or {}
    cursor = conn.execute(
        "INSERT INTO history (at, event, package, version, stage_id, actor, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at, event, package, version, stage_id, actor, json.dumps(detail)),
    )
    return _event(cursor.lastrowid, at, event, package, version, stage_id, actor, detail)


def _event(seq, at, event, package, version, stage_id, actor, detail) -> dict:
    return {
        "seq": seq,
        "at": at,
        "event": event,
        "package": package,
        "version": version,
        "id": stage_id,
        "actor": actor,
        "detail": detail,
    }


def page_of_events(conn, user_name: str, package: str | None, page: int, per_page: int) -> dict:
    """Newest first: the events of ``package`` or of every package ``user_name`` maintains."""
    if page < 0 or not 1 <= per_page <= MAX_PER_PAGE:
        raise RegistryError(400, f"page must be >= 0 and perPage between 1 and {MAX_PER_PAGE}")
    if package is not None:
        where, args = "package = ?", [package]
    else:
        where = "package IN (SELECT package FROM maintainers WHERE user = ?)"
        args = [user_name]
    total, rows = page_of_rows(
        conn, "*", f"FROM history WHERE {where}", "seq DESC", args, page, per_page
    )
    events = [
        _event(
            r["seq"],
            r["at"],
            r["event"],
            r["package"],
            r["version"],
            r["stage_id"],
            r["actor"],
            json.loads(r["detail"]),
        )
        for r in rows
    ]
    return {"events": events, "total": total, "page": page, "perPage": per_page}


def history_for(registry, user, package: str | None, page: int, per_page: int) -> dict:
    """The history endpoint: maintainers only (404 for a package the caller does not
    maintain, as for a stage id); due expiries are recorded first, so they show."""
    registry.expire_due()
    with registry.db.read() as conn:
        if package is not None and not registry.is_maintainer(conn, package, user):
            raise RegistryError(404, f'package "{package}" not found')
        return page_of_events(conn, user.name, package, page, per_page)
