"""Which published version a staged one is compared with (pure: a packument in,
a version out)."""

from __future__ import annotations

from pystage.errors import PystageError
from pystage.publishing import semver


def choose_baseline(
    packument: dict | None, staged_version: str, tag: str | None = None, against: str | None = None
) -> str | None:
    """``against`` when given (it must be published); else the version the staged item's
    tag points to now (``latest``: the current latest); else the highest published version
    below the staged one. None: nothing is published (every file counts as added)."""
    versions = packument.get("versions") if isinstance(packument, dict) else None
    # only keys that are exactly a version: a registry's "../../-/whoami" or " 1.0.0 "
    # would otherwise become part of the baseline tarball's URL
    versions = (
        {k: v for k, v in versions.items() if semver.valid(k) == k}
        if isinstance(versions, dict)
        else {}
    )
    if against is not None:
        wanted = semver.valid(against)
        if wanted is None or wanted not in versions:
            published = ", ".join(sorted(versions, key=_order)[-5:]) or "none"
            raise PystageError(
                "E404",
                f"--against {against}: that version is not published",
                f"published versions (latest five): {published}",
            )
        return wanted
    tags = packument.get("dist-tags") if isinstance(packument, dict) else None
    tagged = tags.get(tag or "latest") if isinstance(tags, dict) else None
    if isinstance(tagged, str) and tagged in versions and tagged != staged_version:
        return tagged
    staged = semver.parse(staged_version)
    below = [
        (v, key)
        for key in versions
        if (v := semver.parse(key)) is not None and (staged is None or v < staged)
    ]
    releases = [pair for pair in below if not pair[0].prerelease]
    pool = releases or below
    return max(pool, key=lambda pair: pair[0])[1] if pool else None


def _order(key: str):
    v = semver.parse(key)
    return (0, v) if v is None else (1, v)
