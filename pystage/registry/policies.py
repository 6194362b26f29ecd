"""Approval policies per package: how many maintainers must approve a staged
version, and how long it may wait before it is discarded.

A package without a row has the default policy, which is npm's behaviour: one
approval publishes, nothing expires. The number of approvers is read when an
approval arrives (raising it also holds back versions staged before); the expiry
is fixed when a version is staged, so the deadline a stager was shown never moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pystage.registry import history
from pystage.registry.errors import RegistryError
from pystage.registry.timefmt import now_iso

if TYPE_CHECKING:
    from pystage.registry.accounts import User
    from pystage.registry.service import Registry

MAX_EXPIRE_AFTER = 10 * 366 * 86400  # ten years: beyond that "never" is the honest setting


@dataclass(frozen=True)
class Policy:
    approvers: int = 1
    expire_after: int | None = None  # seconds

    def as_json(self, package: str) -> dict:
        return {"package": package, "approvers": self.approvers, "expireAfter": self.expire_after}


def policy_of(conn, package: str) -> Policy:
    row = conn.execute(
        "SELECT approvers, expire_after FROM policies WHERE package = ?", (package,)
    ).fetchone()
    return Policy(row["approvers"], row["expire_after"]) if row else Policy()


def maintainer_count(conn, package: str) -> int:
    return conn.execute(
        "SELECT COUNT(*) FROM maintainers WHERE package = ?", (package,)
    ).fetchone()[0]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def updated_policy(body: object, current: Policy, maintainers: int) -> Policy:
    """The policy a PUT body asks for (absent keys keep their value); 400 when invalid."""
    if not isinstance(body, dict):
        raise RegistryError(400, 'the body must be a JSON object {"approvers", "expireAfter"}')
    unknown = sorted(set(body) - {"approvers", "expireAfter"})
    if unknown:
        raise RegistryError(400, f"unknown policy field(s): {', '.join(unknown)}")
    approvers = body.get("approvers", current.approvers)
    expire_after = body.get("expireAfter", current.expire_after)
    if not _is_int(approvers) or approvers < 1:
        raise RegistryError(400, '"approvers" must be a whole number of at least 1')
    if approvers > maintainers:
        raise RegistryError(
            400,
            f"the policy cannot require {approvers} approvers: the package has "
            f"{maintainers} maintainer{'s' if maintainers != 1 else ''} (add owners first)",
        )
    if expire_after is not None and (
        not _is_int(expire_after) or not 1 <= expire_after <= MAX_EXPIRE_AFTER
    ):
        raise RegistryError(
            400,
            f'"expireAfter" must be null (never) or a number of seconds from 1 to {MAX_EXPIRE_AFTER}',
        )
    return Policy(approvers, expire_after)


def store_policy(conn, package: str, policy: Policy, actor: str, stamp: str) -> None:
    conn.execute(
        "INSERT INTO policies (package, approvers, expire_after, updated, actor) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (package) DO UPDATE SET "
        "approvers = excluded.approvers, expire_after = excluded.expire_after, "
        "updated = excluded.updated, actor = excluded.actor",
        (package, policy.approvers, policy.expire_after, stamp, actor),
    )


# -- the endpoints' operations ---------------------------------------------------------
def require_maintainer(registry: Registry, conn, package: str, user: User) -> None:
    """404 unless ``package`` exists and ``user`` maintains it (others learn nothing)."""
    if not registry.is_maintainer(conn, package, user):
        raise RegistryError(404, f'package "{package}" not found')


def show_policy(registry: Registry, user: User, package: str) -> dict:
    with registry.db.read() as conn:
        require_maintainer(registry, conn, package, user)
        return policy_of(conn, package).as_json(package)


def change_policy(
    registry: Registry, user: User, package: str, body: object, otp: str | None
) -> dict:
    with registry.db.read() as conn:
        require_maintainer(registry, conn, package, user)
        updated_policy(body, policy_of(conn, package), maintainer_count(conn, package))
    # A bad body is refused before a one-time password is spent on it.
    if user.has_2fa:
        registry.accounts.check_otp(user, otp)
    stamp = now_iso()
    with registry.db.write() as conn:
        require_maintainer(registry, conn, package, user)  # an owner change may have won
        current = policy_of(conn, package)
        policy = updated_policy(body, current, maintainer_count(conn, package))
        store_policy(conn, package, policy, user.name, stamp)
        event = history.record(
            conn,
            "policy",
            package,
            actor=user.name,
            detail={
                "approvers": policy.approvers,
                "expireAfter": policy.expire_after,
                "previous": {"approvers": current.approvers, "expireAfter": current.expire_after},
            },
            at=stamp,
        )
    registry.notifier.send([event])
    return policy.as_json(package)
