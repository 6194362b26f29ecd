from __future__ import annotations

from datetime import datetime, timezone


def now_iso() -> str:
    """The current UTC time the way npm writes it: 2024-01-02T03:04:05.678Z."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
