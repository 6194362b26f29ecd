"""Parallel deflate, as pigz does it: the stream is cut into blocks that threads
compress at the same time (zlib releases the GIL), each primed with the 32 KiB of
input before it so the matches across block edges are not lost. Every block but
the last ends with a sync flush (byte-aligned, no final bit), so the blocks
concatenate into one ordinary deflate stream that any gunzip reads.

The deflate itself is zlib-ng's when the ``zlib-ng`` package is installed: at level 8
it makes tarballs as small as npm's level 9 (within 0.1% on typescript 5.9 and on
thousands of small files) in half of stock zlib's level-9 time. Without it, stock
zlib at level 9.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

try:
    from zlib_ng import zlib_ng as zlib

    LEVEL = 8  # zlib-ng's level 9 is 1.6% bigger than npm's on tar streams of small files
except ImportError:  # pragma: no cover - a platform without a zlib-ng wheel
    import zlib  # type: ignore[no-redef]  # zlib_ng's module has the same API

    LEVEL = 9

BLOCK = 1024 * 1024  # big enough that the per-block cost stays far below 1% of the size
WINDOW = 32 * 1024  # deflate's window: more dictionary than this is never used
MEM_LEVEL = 9  # a little smaller output than the default 8, for 256 KiB more per thread


SAMPLE = 16 * 1024


def _incompressible(block: bytes) -> bool:
    """True when samples from the start, middle and end of the block do not shrink at
    all: random or already-compressed bytes, on which level 9 spends ~20 ms a MiB
    only to emit stored blocks anyway."""
    if len(block) < 4 * SAMPLE:
        return False
    for offset in (0, len(block) // 2, len(block) - SAMPLE):
        sample = block[offset : offset + SAMPLE]
        if len(zlib.compress(sample, 1)) < len(sample) * 0.98:
            return False
    return True


def _deflate(block: bytes, dictionary: bytes, last: bool) -> bytes:
    # level 0 writes the same stored blocks level 9 ends up with on such data
    level = 0 if _incompressible(block) else LEVEL
    if dictionary:
        compressor = zlib.compressobj(
            level, zlib.DEFLATED, -zlib.MAX_WBITS, MEM_LEVEL, zdict=dictionary
        )
    else:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, MEM_LEVEL)
    data = compressor.compress(block)
    return data + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def default_workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def deflate_parallel(
    chunks: Iterable[bytes],
    emit: Callable[[bytes], None],
    *,
    workers: int | None = None,
    block_size: int = BLOCK,
) -> tuple[int, int]:
    """Raw-deflate the concatenation of ``chunks``, passing compressed pieces to ``emit``
    in order. Returns (crc32, length) of the input, for the gzip trailer.

    Memory stays bounded: at most ``2 * workers`` blocks are in flight."""
    workers = workers or default_workers()
    crc, length = 0, 0
    pending: deque[Future] = deque()
    buffer = bytearray()
    previous = b""  # the input just before the block being cut

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pystage-deflate") as pool:

        def submit(block: bytes, last: bool) -> None:
            nonlocal previous
            pending.append(pool.submit(_deflate, block, previous, last))
            previous = block[-WINDOW:] if len(block) >= WINDOW else (previous + block)[-WINDOW:]
            while len(pending) > 2 * workers or (pending and pending[0].done()):
                emit(pending.popleft().result())

        for chunk in chunks:
            if not chunk:
                continue
            crc = zlib.crc32(chunk, crc)
            length += len(chunk)
            buffer += chunk
            while len(buffer) > block_size:  # ">" keeps a block back to be the last one
                block = bytes(buffer[:block_size])
                del buffer[:block_size]
                submit(block, last=False)
        submit(bytes(buffer), last=True)
        while pending:
            emit(pending.popleft().result())
    return crc & 0xFFFFFFFF, length
