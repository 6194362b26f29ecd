"""``publish --wait``: wait until a staged version is approved, rejected, or time runs out.

Works against any registry that speaks npm's stage protocol: while
``GET /-/stage/<id>`` answers, the version is still staged (its ``approvals``
say how far a policy of several approvers has got, when the registry sends
them); once it answers 404 the item is gone, and the packument decides: the
version is published (approved) or it is not (rejected, or discarded when it
expired). A registry may publish a moment after it drops the item (or serve a
cached packument), so "not published" is checked again a few times first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pystage.errors import PystageError

if TYPE_CHECKING:
    from pystage.http import RegistryClient

APPROVED = "approved"
REJECTED = "rejected"
TIMED_OUT = "timeout"

FIRST_INTERVAL = 1.0
MAX_INTERVAL = 10.0
GROWTH = 1.5
PACKUMENT_CHECKS = 4  # ~3 s for a registry to show what it just published
# network trouble while waiting is retried, not fatal: only these end the wait
FATAL = ("E401", "E403", "EOTP", "ENEEDAUTH", "EBADRESPONSE")


class Waited:
    __slots__ = ("stage_id", "name", "version", "outcome", "item", "seconds")

    def __init__(self, stage_id: str, name: str, version: str) -> None:
        self.stage_id = stage_id
        self.name = name
        self.version = version
        self.outcome: str | None = None
        self.item: dict | None = None
        self.seconds = 0.0

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


def wait_for(
    client: RegistryClient,
    targets: list[Waited],
    timeout: float,
    *,
    on_progress: Callable[[Waited, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[Waited]:
    """Poll every target until each is decided or ``timeout`` seconds have passed."""
    from pystage import staging

    start = clock()
    deadline = start + timeout
    interval = FIRST_INTERVAL
    pending = list(targets)
    while pending:
        for target in list(pending):
            try:
                target.item = staging.view_staged(client, target.stage_id)
            except PystageError as err:
                if err.code == "E404":
                    target.outcome = _decide(client, target, sleep)
                elif err.code in FATAL:
                    raise
            target.seconds = clock() - start
            if target.outcome:
                pending.remove(target)
            if on_progress:
                on_progress(target, target.seconds)
        if not pending:
            break
        left = deadline - clock()
        if left <= 0:
            for target in pending:
                target.outcome = TIMED_OUT
            break
        sleep(min(interval, left))
        interval = min(interval * GROWTH, MAX_INTERVAL)
    return targets


def _decide(client: RegistryClient, target: Waited, sleep: Callable[[float], None]) -> str:
    for attempt in range(PACKUMENT_CHECKS):
        if target.version in published_versions(client, target.name):
            return APPROVED
        if attempt < PACKUMENT_CHECKS - 1:
            sleep(1.0)
    return REJECTED


def published_versions(client: RegistryClient, name: str) -> set[str]:
    """The versions the packument lists (fresh: a cached packument would say "rejected")."""
    from pystage.staging import escape_name

    try:
        packument = client.json(
            "GET",
            f"/{escape_name(name)}",
            otp_ok=False,
            headers={"accept": "application/json", "cache-control": "no-cache"},
        )
    except PystageError as err:
        if err.code == "E404":
            return set()
        raise
    versions = packument.get("versions") if isinstance(packument, dict) else None
    return set(versions) if isinstance(versions, dict) else set()


def approvals_of(item: dict | None) -> tuple[int, int] | None:
    """(approvals so far, required) when the item says (the embedded registry does)."""
    if not isinstance(item, dict):
        return None
    given, need = item.get("approvals"), item.get("approvalsRequired")
    if isinstance(given, list) and isinstance(need, int) and not isinstance(need, bool):
        return len(given), need
    return None


def outcome_error(results: list[Waited], timeout: float) -> PystageError | None:
    """None when every version was approved; a rejection wins over a timeout."""
    rejected = [r for r in results if r.outcome == REJECTED]
    if rejected:
        names = ", ".join(f"{r.spec} ({r.stage_id})" for r in rejected)
        return PystageError(
            "EREJECTED",
            f"{names} {'was' if len(rejected) == 1 else 'were'} rejected while waiting "
            "(or discarded: the registry no longer stages it and did not publish it)",
            "see `pystage history` on the embedded registry for who and why",
        )
    late = [r for r in results if r.outcome == TIMED_OUT]
    if late:
        names = ", ".join(f"{r.spec} ({r.stage_id})" for r in late)
        return PystageError(
            "EWAITTIMEOUT",
            f"gave up waiting after {timeout:g} s: {names} "
            f"{'is' if len(late) == 1 else 'are'} still staged",
            "it can still be approved; wait again with a longer --wait-timeout",
        )
    return None
