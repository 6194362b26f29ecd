"""Durations as people type them: ``90s``, ``30m``, ``48h``, ``7d`` (or plain seconds)."""

from __future__ import annotations

import re

from pystage.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
MAX_SECONDS = 10 * 365 * 86400  # ten years: anything longer is a typo


def parse_duration(text: str, what: str = "duration", *, allow_never: bool = False) -> float | None:
    """Seconds for ``text``; None for ``never``/``none`` when ``allow_never``.

    A bare number is seconds. Zero, negatives, unknown units and absurd lengths are
    usage errors (raised before any request)."""
    value = str(text).strip().lower()
    if allow_never and value in ("never", "none", "off"):
        return None
    match = _DURATION.fullmatch(value)
    if not match:
        raise UsageError(
            f"{what} {text!r} is not a duration",
            "use a number with a unit: 90s, 30m, 48h, 7d" + (" (or never)" if allow_never else ""),
        )
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds <= 0:
        raise UsageError(f"{what} must be longer than zero, not {text!r}")
    if seconds > MAX_SECONDS:
        raise UsageError(f"{what} {text!r} is longer than ten years")
    return seconds


def format_duration(seconds: float | None) -> str:
    """The shortest exact spelling: 172800 -> '2d', 5400 -> '90m', None -> 'never'."""
    if seconds is None:
        return "never"
    seconds = int(seconds)
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNITS[unit] == 0 and seconds >= _UNITS[unit]:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"
