from __future__ import annotations

from datetime import datetime, timedelta, timezone


def iso(moment: datetime) -> str:
    """A UTC time the way npm writes it: 2024-01-02T03:04:05.678Z. Strings in this one
    format sort as the times they name, so SQLite can compare them."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    """The current UTC time in npm's format."""
    return iso(datetime.now(timezone.utc))


def iso_after(start: str, seconds: int) -> str:
    """``seconds`` after the ``iso`` time ``start``."""
    moment = datetime.fromisoformat(start.replace("Z", "+00:00"))
    return iso(moment + timedelta(seconds=seconds))
