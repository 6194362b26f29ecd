"""What a long step shows on a terminal (stderr): a bar for big transfers, a spinner for
work that has no byte count (packing, the registry checking an upload).

Shown only on a terminal, and bars only for transfers of at least ``MIN_BYTES``: in
pipes, CI logs and for small packages the output stays what it always was. What they
say is what is happening: an upload bar counts the tarball's bytes (not the base64 the
body carries them in), and once the last byte is sent it says that the registry is
verifying, instead of standing at 100%.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MIN_BYTES = 4 * 1024 * 1024


def _ignore(_: int) -> None:
    pass


def on_terminal(stream=None) -> bool:
    stream = stream if stream is not None else sys.stderr
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def wanted(total: int | None, stream=None) -> bool:
    return on_terminal(stream) and total is not None and total >= MIN_BYTES


@contextmanager
def transfer_progress(
    description: str,
    total: int | None,
    *,
    color: bool | None = None,
    enabled: bool = True,
    after: str | None = None,
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n_bytes)``; draws a transient Rich bar when it is wanted. ``after``:
    what the line says once ``total`` bytes are through (the wait for an answer)."""
    if not (enabled and wanted(total)):
        yield _ignore
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from pystage.render import stdout_console

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stdout_console(color, stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            progress.advance(task, n)
            if after and total is not None and done >= total:
                progress.update(task, description=after)
                progress.refresh()  # now: the answer may come before the next redraw

        yield advance


@contextmanager
def working(description: str, *, console, enabled: bool = True):
    """A transient spinner with ``description`` while the block runs (terminal only).
    ``console``: the stderr console the block's warnings print through, so that Rich
    prints them above the spinner instead of through it."""
    if not (enabled and on_terminal()):
        yield
        return
    from rich.live import Live
    from rich.spinner import Spinner

    # a Live drawn at once (console.status draws only at its first tick, so a step
    # shorter than that would never be seen)
    with Live(Spinner("dots", text=description), console=console, transient=True):
        yield
