"""``pystage review``'s work below the CLI: find the staged item and its baseline,
stream both tarballs from the registry into the (pure) review engine.

No terminal I/O here; the tarballs are never written anywhere."""

from __future__ import annotations

from pystage import staging
from pystage.errors import PystageError


def review_staged(client, ref, *, against: str | None = None, full_diff: bool = False):
    """The Report for the staged item ``ref`` (a staging.StageRef)."""
    stage_id, listed = staging.resolve_stage_ref(client, ref)
    item = staging.view_staged(client, stage_id)
    return review_item(
        client,
        stage_id,
        item,
        name=(listed or {}).get("packageName") or ref.name,
        version=ref.version,
        against=against,
        full_diff=full_diff,
    )


def review_item(
    client,
    stage_id: str,
    item: dict,
    *,
    name: str | None = None,
    version: str | None = None,
    against: str | None = None,
    full_diff: bool = False,
):
    """The Report for a staged item already fetched (``staging.view_staged``); ``name``
    and ``version`` stand in where the item names none. Approve's review gate calls
    this for each item of its batch."""
    from pystage.review import ReviewOptions, review
    from pystage.review.baseline import choose_baseline

    item.setdefault("id", stage_id)
    name = str(item.get("packageName") or name or "")
    version = str(item.get("version") or version or "")
    if not name or not version:
        raise PystageError("EBADRESPONSE", f"the staged item {stage_id} names no package version")
    packument = staging.get_packument(client, name)
    baseline = choose_baseline(packument, version, item.get("tag"), against)
    manifest = None
    base_stream = None
    try:
        if baseline is not None:
            manifest = packument["versions"].get(baseline)  # type: ignore[index]  # a baseline comes from a packument
            manifest = manifest if isinstance(manifest, dict) else {}
            base_stream = staging.stream_published_tarball(client, name, baseline, manifest)
        with staging.stream_staged_tarball(client, stage_id) as staged_stream:
            return review(
                _lazy(staged_stream),
                base_stream,
                item=item,
                baseline_version=baseline,
                baseline_manifest=manifest,
                options=ReviewOptions(full_diff=full_diff),
            )
    finally:
        if base_stream is not None:
            base_stream.close()


def _lazy(stream):
    """The staged tarball's chunks (the request is open; they are read after the
    baseline's)."""
    yield from stream
