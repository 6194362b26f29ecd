"""A progress bar for long transfers (staging uploads, downloads), on stderr.

Shown only on a terminal and only for transfers of at least ``MIN_BYTES``: in
pipes, CI logs and for small packages the output stays what it always was.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MIN_BYTES = 4 * 1024 * 1024


def _ignore(_: int) -> None:
    pass


def wanted(total: int | None, stream=None) -> bool:
    stream = stream if stream is not None else sys.stderr
    try:
        on_terminal = stream.isatty()
    except (AttributeError, ValueError):
        on_terminal = False
    return on_terminal and total is not None and total >= MIN_BYTES


@contextmanager
def transfer_progress(
    description: str, total: int | None, *, color: bool | None = None, enabled: bool = True
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n_bytes)``; draws a transient Rich bar when it is wanted."""
    if not (enabled and wanted(total)):
        yield _ignore
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from pystage.render import stdout_console

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stdout_console(color, stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)
