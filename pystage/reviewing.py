"""``pystage review``'s work below the CLI: find the staged item and its baseline,
stream both tarballs from the registry into the (pure) review engine.

No terminal I/O here; the tarballs are never written anywhere (but for ``--source``,
and ``--deep``, which spool the staged one to a temporary file to read it twice)."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile

from pystage import staging
from pystage.errors import PystageError


def review_staged(
    client,
    ref,
    *,
    against: str | None = None,
    full_diff: bool = False,
    check_staged=None,
    deep: bool = False,
):
    """The Report for the staged item ``ref`` (a staging.StageRef).

    ``deep``: GuardDog's rules too, over the spooled tarball (see below).
    ``check_staged`` (``review --source``): called with the path of the staged tarball,
    spooled to a temporary file (always removed) before the baseline is requested, so a
    slow check (a rebuild) never holds a download open; the review then reads that file."""
    stage_id, listed = staging.resolve_stage_ref(client, ref)
    item = staging.view_staged(client, stage_id)
    review = functools.partial(
        review_item,
        client,
        stage_id,
        item,
        name=(listed or {}).get("packageName") or ref.name,
        version=ref.version,
        against=against,
        full_diff=full_diff,
        deep=deep,
    )
    if check_staged is None and not deep:
        return review()
    # the staged tarball is read twice (the rebuild's comparison, or GuardDog's pass):
    # from one spooled copy, so both reads see the bytes the integrity check covered
    with _spooled(client, stage_id) as staged_path:
        if check_staged is not None:
            check_staged(staged_path)
        return review(staged_path=staged_path)


def review_item(
    client,
    stage_id: str,
    item: dict,
    *,
    name: str | None = None,
    version: str | None = None,
    against: str | None = None,
    full_diff: bool = False,
    staged_path: str | None = None,
    deep: bool = False,
):
    """The Report for a staged item already fetched (``staging.view_staged``); ``name``
    and ``version`` stand in where the item names none. Approve's review gate calls
    this for each item of its batch. ``staged_path``: the staged tarball, already
    downloaded there (else it is streamed from the registry). ``deep``: GuardDog's rules
    over the added and changed files too (a second read of the staged tarball)."""
    from pystage.integrity import Expected
    from pystage.review import ReviewOptions, review, verify
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
    base_hashed = None
    try:
        if baseline is not None:
            manifest = packument["versions"].get(baseline)  # type: ignore[index]  # a baseline comes from a packument
            manifest = manifest if isinstance(manifest, dict) else {}
            base_stream = staging.stream_published_tarball(client, name, baseline, manifest)
            base_hashed = verify.HashedChunks(
                _timed(client, base_stream, f"the baseline tarball ({baseline})"),
                verify.expected_of_dist(manifest),
            )
        with _open_staged(client, stage_id, staged_path) as staged_stream:
            # both hashed as read: the review is bound to the bytes the registry vouches for
            staged_hashed = verify.HashedChunks(
                _timed(client, staged_stream, "the staged tarball"), Expected.of_item(item)
            )
            report = review(
                _lazy(staged_hashed),
                base_hashed,
                item=item,
                baseline_version=baseline,
                baseline_manifest=manifest,
                options=ReviewOptions(full_diff=full_diff),
            )
            checked = verify.staged_findings(staged_hashed)
            if base_hashed is not None:
                checked += verify.baseline_findings(base_hashed, str(baseline))
        report.findings[:0] = checked  # first: they say what the rest is worth
    finally:
        if base_stream is not None:
            base_stream.close()
    if deep:
        from pystage.review import deep as guarddog

        paths = {c.path for c in report.added + report.changed if c.type == "file"}
        if paths:
            with _open_staged(client, stage_id, staged_path) as staged_stream:
                report.findings += guarddog.scan_tarball(_lazy(staged_stream), paths)
    return report


def _timed(client, stream, what: str):
    """``stream``'s chunks, under ``fetch-timeout`` from the first to the last, as npm's
    covers a fetch's body too: the client's stall timeout alone lets a registry that
    sends a byte every second hold a review (and approve's gate) forever. A timer shuts
    the connection at the deadline; the blocked read then fails (or the body ends
    short), and that is said as ETIMEDOUT."""
    import threading

    seconds = getattr(getattr(client, "settings", None), "timeout", None)
    if not seconds or not hasattr(stream, "shut"):
        yield from stream
        return
    fired = threading.Event()

    def fire() -> None:
        fired.set()
        stream.shut()

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield from stream
    except Exception:
        if fired.is_set():
            raise _too_slow(what, seconds) from None
        raise
    finally:
        timer.cancel()
    if fired.is_set():
        raise _too_slow(what, seconds)


def _too_slow(what: str, seconds: float) -> PystageError:
    return PystageError(
        "ETIMEDOUT",
        f"{what} did not arrive within fetch-timeout ({seconds:g} s): not reviewed",
        "a registry that slow is not believed; raise --fetch-timeout if it is honest",
    )


def _lazy(stream):
    """The staged tarball's chunks (the request is open; they are read after the
    baseline's)."""
    yield from stream


@contextlib.contextmanager
def _spooled(client, stage_id: str):
    """The staged tarball in a temporary file, removed when the block ends (on error and
    Ctrl-C too)."""
    with tempfile.TemporaryDirectory(prefix="pystage-staged-") as tmp:
        path = os.path.join(tmp, "staged.tgz")
        with staging.stream_staged_tarball(client, stage_id) as stream, open(path, "xb") as out:
            for chunk in _timed(client, stream, "the staged tarball"):
                out.write(chunk)
        yield path


@contextlib.contextmanager
def _open_staged(client, stage_id: str, spooled: str | None):
    if spooled is None:
        with staging.stream_staged_tarball(client, stage_id) as stream:
            yield stream
        return
    from pystage.review import chunks_of

    with open(spooled, "rb") as fh:
        yield chunks_of(fh)
